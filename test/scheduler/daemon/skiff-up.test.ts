// Acceptance of the scheduler inside `skiff up`, driven only by the real kubectl: pods are bound through the binding
// subresource, an unschedulable pod shows FailedScheduling in `kubectl describe` and is bound once a fitting node
// appears, and a high-priority pod preempts lower-priority ones (victims evicted gracefully, nomination, binding).
// Nodes are plain API objects (no node agents in this build), so the test plays the kubelet's one part that
// preemption needs: it confirms the termination of pods that were deleted gracefully.
import t from 'tap';
import { startSkiffUp } from '../../lib/skiff-up.js';

function nodeYaml(name: string, cpu: string, labels: Record<string, string> = {}): string {
  const res = { cpu, memory: '8Gi', pods: '110' };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: { capacity: res, allocatable: res, conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

function podYaml(
  name: string,
  cpu: string,
  extra: { priorityClassName?: string; nodeSelector?: Record<string, string> } = {},
) {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      ...(extra.priorityClassName ? { priorityClassName: extra.priorityClassName } : {}),
      ...(extra.nodeSelector ? { nodeSelector: extra.nodeSelector } : {}),
      containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }],
    },
  });
}

t.test('skiff up schedules what kubectl creates', async (t) => {
  const up = await startSkiffUp(t, 'skiff-up-scheduler-');
  const { until } = up;
  const k = (args: string[], input?: string) => up.kubectl(args, { input });
  const create = (obj: string) => k(['create', '-f', '-'], obj);
  const field = (pod: string, path: string) => k(['get', 'pod', pod, '-o', `jsonpath={${path}}`]);

  await t.test('pods created by kubectl are bound', async (t) => {
    await create(nodeYaml('n1', '2'));
    await create(nodeYaml('n2', '2'));
    await create(podYaml('web-1', '500m'));
    await create(podYaml('web-2', '500m'));
    for (const pod of ['web-1', 'web-2']) {
      await until(`${pod} bound`, async () => (await field(pod, '.spec.nodeName')) !== '');
      t.match(await field(pod, '.spec.nodeName'), /^n[12]$/, `${pod} bound to a node`);
      const describe = await k(['describe', 'pod', pod]);
      t.match(describe, /Scheduled\s+.*default-scheduler\s+Successfully assigned default\/web-\d to n[12]/);
    }
    // The lease shows the scheduler is leader-elected like upstream's.
    t.match(
      await k(['get', 'lease', '-n', 'kube-system', 'kube-scheduler', '-o', 'jsonpath={.spec.holderIdentity}']),
      /_/,
    );
  });

  await t.test('an unschedulable pod reports FailedScheduling, then fits on a new node', async (t) => {
    await create(podYaml('big', '8'));
    let describe = '';
    await until('FailedScheduling on big', async () => {
      describe = await k(['describe', 'pod', 'big']);
      return describe.includes('FailedScheduling');
    });
    t.match(
      describe,
      /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/2 nodes are available: 2 Insufficient cpu\./,
    );
    t.match(describe, /PodScheduled\s+False/);
    t.equal(await field('big', '.spec.nodeName'), '');
    await create(nodeYaml('n3', '16'));
    await until('big bound', async () => (await field('big', '.spec.nodeName')) === 'n3');
    t.pass('big bound to n3 once it exists');
  });

  await t.test('a high-priority pod preempts lower-priority pods', async (t) => {
    const pool = { pool: 'small' };
    // Priorities come from PriorityClasses (the Priority admission plugin resolves them on pod create).
    await k(['create', 'priorityclass', 'low', '--value=10']);
    await k(['create', 'priorityclass', 'high', '--value=1000', '--description=vip']);
    t.match(
      await k(['get', 'pc', 'high']),
      /NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY\nhigh\s+1000\s+false\s+\S+\s+PreemptLowerPriority/,
    );
    await create(nodeYaml('p1', '1', pool));
    await create(podYaml('low-1', '500m', { priorityClassName: 'low', nodeSelector: pool }));
    await create(podYaml('low-2', '500m', { priorityClassName: 'low', nodeSelector: pool }));
    for (const pod of ['low-1', 'low-2'])
      await until(`${pod} bound`, async () => (await field(pod, '.spec.nodeName')) === 'p1');
    await create(podYaml('vip', '1', { priorityClassName: 'high', nodeSelector: pool }));
    t.equal(await field('vip', '.spec.priority'), '1000');
    t.equal(await field('low-1', '.spec.priority'), '10');
    await until('vip nominated', async () => (await field('vip', '.status.nominatedNodeName')) === 'p1');
    t.pass('vip nominated for p1');
    // The victims are evicted gracefully: they terminate (deletionTimestamp set) rather than vanish.
    for (const pod of ['low-1', 'low-2']) {
      await until(`${pod} terminating`, async () => (await field(pod, '.metadata.deletionTimestamp')) !== '');
      t.match(await k(['describe', 'pod', pod]), /Preempted\s+.*Preempted by pod \S+ on node p1/);
    }
    t.equal(await field('vip', '.spec.nodeName'), '', 'vip waits while its victims terminate');
    // The kubelet's part: the containers stopped, the pods go away.
    await k(['delete', 'pod', 'low-1', 'low-2', '--grace-period=0', '--force']);
    await until('vip bound', async () => (await field('vip', '.spec.nodeName')) === 'p1');
    t.pass('vip bound to p1 after the victims are gone');
    t.match(await k(['describe', 'pod', 'vip']), /Successfully assigned default\/vip to p1/);
  });

  const code = await up.stop();
  t.equal(code, 0, 'skiff up stops cleanly with the scheduler running');
});
