// Classes with the same static inputs (tolerations, nodeName, node selector/affinity, images) share their static
// filter codes and raw scores in the Wasm engine; decisions, messages and explain() must still equal the reference's,
// also for classes that differ in exactly one static input.
import t from 'tap';
import { createWasmEngine } from '../../../src/scheduler/engine/index.js';
import { ReferenceEngine } from '../../../src/scheduler/reference.js';
import { defaultProfile, type Node, type Pod } from '../../../src/scheduler/types.js';

function node(i: number): Node {
  const taints: NonNullable<Node['spec']>['taints'] = [];
  if (i % 5 === 0) taints.push({ key: 'dedicated', value: 'db', effect: 'NoSchedule' });
  if (i % 3 === 0) taints.push({ key: 'flaky', effect: 'PreferNoSchedule' });
  const res = { cpu: '2', memory: '4Gi', pods: '20' };
  return {
    metadata: {
      name: `n${i}`,
      labels: {
        'kubernetes.io/hostname': `n${i}`,
        'topology.kubernetes.io/zone': `z${i % 3}`,
        disk: i % 4 ? 'ssd' : 'hdd',
      },
    },
    spec: { taints, unschedulable: i === 7 },
    status: {
      capacity: res,
      allocatable: res,
      images: i % 2 ? [{ names: ['registry.k8s.io/big:1'], sizeBytes: 900 * 1024 * 1024 }] : [],
    },
  };
}

type Spec = NonNullable<Pod['spec']>;
const base: Spec = {
  containers: [{ name: 'c', image: 'registry.k8s.io/big:1', resources: { requests: { cpu: '100m' } } }],
  tolerations: [{ key: 'flaky', operator: 'Exists', effect: 'PreferNoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd', 'hdd'] }] }],
      },
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 7, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
      ],
    },
  },
};

/** Pods of one class each: the same static inputs as `base` except where the name says otherwise. */
function variants(round: number): Pod[] {
  const pod = (name: string, ns: string, labels: Record<string, string>, spec: Spec): Pod => ({
    metadata: { name: `${name}-${round}`, namespace: ns, labels },
    spec,
  });
  const anti: Spec['affinity'] = {
    ...base.affinity,
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: 'anti' } }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
  return [
    pod('same', 'a', { app: 'x' }, base),
    pod('other-ns', 'b', { app: 'x' }, base),
    pod('other-labels', 'a', { app: 'y' }, base),
    pod(
      'bigger',
      'a',
      { app: 'x' },
      {
        ...base,
        containers: [{ ...base.containers[0]!, resources: { requests: { cpu: '700m' } } }],
      },
    ),
    pod('anti', 'a', { app: 'anti' }, { ...base, affinity: anti }),
    pod(
      'spread',
      'b',
      { app: 'x' },
      {
        ...base,
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { app: 'x' } },
          },
        ],
      },
    ),
    // One static input differs: these must not take the shared arrays.
    pod(
      'tolerates-db',
      'a',
      { app: 'x' },
      {
        ...base,
        tolerations: [...base.tolerations!, { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }],
      },
    ),
    pod(
      'no-prefer',
      'a',
      { app: 'x' },
      {
        ...base,
        affinity: {
          nodeAffinity: { ...base.affinity!.nodeAffinity, preferredDuringSchedulingIgnoredDuringExecution: [] },
        },
      },
    ),
    pod('hdd-only', 'a', { app: 'x' }, { ...base, nodeSelector: { disk: 'hdd' } }),
    pod('other-image', 'a', { app: 'x' }, { ...base, containers: [{ ...base.containers[0]!, image: 'small:1' }] }),
    pod('pinned', 'a', { app: 'x' }, { ...base, nodeName: 'n3' }),
  ];
}

t.test('classes sharing static inputs decide as the reference, across node changes', async (t) => {
  const ref = new ReferenceEngine({ profile: defaultProfile, seed: 9 });
  const wasm = await createWasmEngine(defaultProfile, 9);
  t.teardown(() => wasm.close());
  for (let i = 0; i < 24; i++) {
    ref.upsertNode(node(i));
    wasm.upsertNode(node(i));
  }
  let scheduled = 0;
  for (let round = 0; round < 6; round++) {
    // Alternate which class refreshes first after a node change, so each kind is the donor once.
    const pods = variants(round);
    const batch = round % 2 ? pods.reverse() : pods;
    const [a, b] = [await ref.schedule(batch), await wasm.schedule(batch)];
    t.same(b, a, `round ${round}`);
    scheduled += a.filter((r) => r.node).length;
    for (const probe of variants(100 + round))
      t.same(await wasm.explain(probe), await ref.explain(probe), probe.metadata!.name!);
    // A node change starts a new epoch: the next refreshes compute (or share) afresh.
    const changed = node(round + 1);
    changed.metadata!.labels!.disk = 'nvme';
    ref.upsertNode(changed);
    wasm.upsertNode(changed);
  }
  t.ok(scheduled > 30, `${scheduled} pods placed`);
  // Two classes that fit nowhere, the second sharing the first's arrays: the same unschedulable messages.
  const nowhere = (ns: string): Pod => ({
    metadata: { name: 'nowhere', namespace: ns },
    spec: { ...base, nodeSelector: { disk: 'tape' } },
  });
  for (const ns of ['c', 'd']) t.same(await wasm.schedule([nowhere(ns)]), await ref.schedule([nowhere(ns)]), ns);
});
