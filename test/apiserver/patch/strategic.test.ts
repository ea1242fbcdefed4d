import t from 'tap';
import { applyStrategicMergePatch } from '../../../src/apiserver/patch/index.js';
import { statusCodeOf as codeOf } from '../../lib/status-code.js';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
const pod = { group: '', version: 'v1', kind: 'Pod' };

function liveDeployment() {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a', 'b'] },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.25',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
            },
            { name: 'sidecar', image: 'busybox', args: ['sleep', '1'] },
          ],
          tolerations: [{ key: 'k', operator: 'Exists' }],
        },
      },
    },
  };
}

t.test('kubectl apply three-way patch with $setElementOrder updates one container', (t) => {
  const out = applyStrategicMergePatch(
    liveDeployment(),
    {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
            containers: [{ image: 'nginx:1.26', name: 'nginx' }],
          },
        },
      },
    },
    deployment,
  ) as any;
  const cs = out.spec.template.spec.containers;
  t.same(
    cs.map((c: any) => [c.name, c.image]),
    [
      ['nginx', 'nginx:1.26'],
      ['sidecar', 'busybox'],
    ],
  );
  t.same(cs[0].env.length, 2, 'env untouched');
  t.same(cs[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
  t.equal(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '{}');
  t.equal(out.metadata.labels.app, 'web');
  t.notOk(JSON.stringify(out).includes('$'), 'no directive leaks into the object');
  t.end();
});

t.test('merge lists by key, replace atomic lists, null deletes', (t) => {
  const out = applyStrategicMergePatch(
    liveDeployment(),
    {
      spec: {
        replicas: null,
        template: {
          spec: {
            containers: [
              {
                name: 'nginx',
                env: [
                  { name: 'B', value: 'two' },
                  { name: 'C', value: '3' },
                ],
              },
            ],
            tolerations: [{ key: 'other', operator: 'Exists' }],
          },
        },
      },
    },
    deployment,
  ) as any;
  t.notOk('replicas' in out.spec);
  const nginx = out.spec.template.spec.containers.find((c: any) => c.name === 'nginx');
  t.same(nginx.env, [
    { name: 'A', value: '1' },
    { name: 'B', value: 'two' },
    { name: 'C', value: '3' },
  ]);
  t.equal(out.spec.template.spec.containers.length, 2, 'sidecar kept');
  t.same(out.spec.template.spec.tolerations, [{ key: 'other', operator: 'Exists' }], 'tolerations replaced');
  t.end();
});

t.test('list ordering: patch items first in patch order, server-only items keep their place', (t) => {
  const live = { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } };
  const out = applyStrategicMergePatch(
    live,
    { spec: { containers: [{ name: 'd' }, { name: 'b', image: 'x' }] } },
    pod,
  ) as any;
  // Upstream (mergeSortedSlice): patch items [d, b] in patch order interleave with server-only [a, c] by live
  // position; d is unknown to the live list so it is emitted first.
  t.same(
    out.spec.containers.map((c: any) => c.name),
    ['d', 'a', 'b', 'c'],
  );
  t.end();
});

t.test('$patch directives: delete element, replace list, replace and delete maps', (t) => {
  const live = liveDeployment();
  let out = applyStrategicMergePatch(
    live,
    { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
    deployment,
  ) as any;
  t.same(
    out.spec.template.spec.containers.map((c: any) => c.name),
    ['nginx'],
  );
  out = applyStrategicMergePatch(
    live,
    { spec: { template: { spec: { containers: [{ name: 'only', image: 'i' }, { $patch: 'replace' }] } } } },
    deployment,
  ) as any;
  t.same(out.spec.template.spec.containers, [{ name: 'only', image: 'i' }]);
  out = applyStrategicMergePatch(live, { metadata: { labels: { x: 'y', $patch: 'replace' } } }, deployment) as any;
  t.same(out.metadata.labels, { x: 'y' });
  out = applyStrategicMergePatch(live, { spec: { strategy: { $patch: 'delete' } } }, deployment) as any;
  t.same(out.spec.strategy, {});
  t.end();
});

t.test('$retainKeys clears fields not listed (kubectl apply switching strategy type)', (t) => {
  const out = applyStrategicMergePatch(
    liveDeployment(),
    { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    deployment,
  ) as any;
  t.same(out.spec.strategy, { type: 'Recreate' });
  t.equal(
    codeOf(() =>
      applyStrategicMergePatch(liveDeployment(), { spec: { strategy: { $retainKeys: ['type'], x: 1 } } }, deployment),
    ),
    400,
  );
  t.end();
});

t.test('finalizers merge as a set and $deleteFromPrimitiveList removes', (t) => {
  const out = applyStrategicMergePatch(
    liveDeployment(),
    { metadata: { finalizers: ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
    deployment,
  ) as any;
  t.same(out.metadata.finalizers.slice().sort(), ['a', 'c']);
  t.end();
});

t.test('errors: missing merge key, non-object patch', (t) => {
  t.throws(
    () =>
      applyStrategicMergePatch(
        liveDeployment(),
        { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
        deployment,
      ),
    { code: 422, message: /merge key: name/ },
  );
  t.equal(
    codeOf(() => applyStrategicMergePatch(liveDeployment(), [1], deployment)),
    400,
  );
  t.end();
});

t.test('service ports merge by port; conditions by type', (t) => {
  const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
  const out = applyStrategicMergePatch(
    svc,
    { spec: { ports: [{ port: 80, name: 'http' }] } },
    { group: '', version: 'v1', kind: 'Service' },
  ) as any;
  t.same(out.spec.ports, [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443 }]);
  const p = {
    status: {
      conditions: [
        { type: 'Ready', status: 'False' },
        { type: 'PodScheduled', status: 'True' },
      ],
    },
  };
  const out2 = applyStrategicMergePatch(p, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, pod) as any;
  t.same(out2.status.conditions, [
    { type: 'Ready', status: 'True' },
    { type: 'PodScheduled', status: 'True' },
  ]);
  t.end();
});

t.test('$retainKeys inside list elements (volume source switch by kubectl apply)', (t) => {
  const live = {
    spec: {
      volumes: [
        { name: 'v', emptyDir: {} },
        { name: 'w', configMap: { name: 'c' } },
      ],
    },
  };
  const out = applyStrategicMergePatch(
    live,
    { spec: { volumes: [{ $retainKeys: ['hostPath', 'name'], name: 'v', hostPath: { path: '/data' } }] } },
    pod,
  ) as any;
  t.same(out.spec.volumes, [
    { name: 'v', hostPath: { path: '/data' } },
    { name: 'w', configMap: { name: 'c' } },
  ]);
  t.end();
});
