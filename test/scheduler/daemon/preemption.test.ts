// DefaultPreemption over the engine: victims are the fewest, least important pods; unhelpful nodes are skipped;
// the engine is left unchanged; the daemon evicts victims, nominates the node and binds the preemptor.
import t from 'tap';
import { createScheduler } from '../../../src/scheduler/embed.js';
import { preempt } from '../../../src/scheduler/daemon/preemption.js';
import { SchedulerDaemon } from '../../../src/scheduler/daemon/daemon.js';
import { SchedulingQueue } from '../../../src/scheduler/daemon/queue.js';
import { resolveProfile } from '../../../src/scheduler/profile.js';
import type { Node, Pod } from '../../../src/scheduler/types.js';
import { FakeCluster } from './fixtures/fake-cluster.js';

function node(name: string, cpu: string, extra: Partial<NonNullable<Node['spec']>> = {}): Node {
  const res = { cpu, memory: '8Gi', pods: '110' };
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: extra,
    status: { capacity: res, allocatable: res },
  };
}

function pod(name: string, cpu: string, priority: number, nodeName?: string, extra: object = {}): Pod {
  return {
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }], priority, nodeName, ...extra },
    status: { phase: nodeName ? 'Running' : 'Pending' },
  };
}

t.test('picks the node whose victims matter least and keeps the engine unchanged', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('a', '2'));
  s.upsertNode(node('b', '2'));
  s.upsertNode(node('tainted', '2', { taints: [{ key: 'k', effect: 'NoSchedule' }] }));
  const placed = [
    pod('a-low', '1', 10, 'a'),
    pod('a-mid', '1', 50, 'a'),
    pod('b-low1', '1', 10, 'b'),
    pod('b-low2', '1', 10, 'b'),
    pod('t-low', '2', 1, 'tainted'),
  ];
  for (const p of placed) s.upsertPod(p);
  const preemptor = pod('vip', '1', 100);
  const why = await s.explain(preemptor);
  t.same(why.feasible, []);
  const byNode = (n: string) => placed.filter((p) => p.spec!.nodeName === n);
  const r = await preempt(s, preemptor, why, byNode);
  // a: evicting a-low (10) suffices; b: one of the 10s suffices. Equal max/sum/count → name order → a.
  t.equal(r.node, 'a');
  t.same(
    r.victims.map((v) => v.metadata!.name),
    ['a-low'],
  );
  t.same((await s.explain(preemptor)).filtered, why.filtered, 'engine restored');
  // A bigger preemptor needs both pods of b, or a-low + a-mid on a: b's victims have lower priority.
  const big = pod('big', '2', 100);
  const r2 = await preempt(s, big, await s.explain(big), byNode);
  t.equal(r2.node, 'b');
  t.same(r2.victims.map((v) => v.metadata!.name).sort(), ['b-low1', 'b-low2']);
});

t.test('nothing to gain: upstream-style preemption message', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('a', '1'));
  s.upsertNode(node('c', '1', { unschedulable: true }));
  const placed = [pod('a-high', '1', 1000, 'a')];
  for (const p of placed) s.upsertPod(p);
  const preemptor = pod('p', '1', 10);
  const r = await preempt(s, preemptor, await s.explain(preemptor), (n) =>
    placed.filter((p) => p.spec!.nodeName === n),
  );
  t.equal(r.node, undefined);
  t.equal(
    r.message,
    'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
  );
  const never = pod('n', '1', 10, undefined, { preemptionPolicy: 'Never' });
  t.equal(
    (await preempt(s, never, await s.explain(never), () => [])).message,
    'preemption: not eligible due to preemptionPolicy=Never.',
  );
});

t.test('no second preemption while victims on the nominated node terminate', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('a', '1'));
  s.upsertNode(node('b', '1'));
  const dying = {
    ...pod('a-low', '1', 1, 'a'),
    metadata: { name: 'a-low', namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z' },
  };
  const placed = [dying, pod('b-low', '1', 1, 'b')];
  for (const p of placed) s.upsertPod(p);
  const preemptor = { ...pod('vip', '1', 100), status: { phase: 'Pending', nominatedNodeName: 'a' } };
  const r = await preempt(s, preemptor, await s.explain(preemptor), (n) =>
    placed.filter((p) => p.spec!.nodeName === n),
  );
  t.equal(r.node, undefined, 'b-low is spared');
  t.equal(r.message, 'preemption: not eligible due to a terminating pod on the nominated node.');
});

t.test('daemon: a high-priority pod preempts a lower-priority one and gets its node', async (t) => {
  const cluster = new FakeCluster();
  const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  const events = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
  cluster.put({ group: '', version: 'v1', resource: 'nodes' }, node('n1', '1') as never);
  const daemon = new SchedulerDaemon({
    client: cluster.client(),
    profiles: [resolveProfile()],
    engine: 'ts',
    informerFactory: cluster.informerFactory(),
    queue: new SchedulingQueue({ initialBackoffMs: 20, maxBackoffMs: 100 }),
  });
  await daemon.start();
  t.teardown(() => daemon.stop());
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
    if (!cond()) throw new Error(`timed out waiting for ${what}`);
  };
  const nodeOf = (n: string) => (cluster.find(pods, n)?.spec as { nodeName?: string } | undefined)?.nodeName;
  cluster.put(pods, pod('low', '800m', 1) as never);
  await until(() => nodeOf('low') === 'n1', 'low bound');
  cluster.put(pods, pod('high', '800m', 1000) as never);
  await until(() => nodeOf('high') === 'n1', 'high bound after preemption');
  t.equal(cluster.find(pods, 'low'), undefined, 'the victim was deleted');
  t.ok(
    cluster.list(events).some((e) => e.reason === 'Preempted' && (e.involvedObject as { name: string }).name === 'low'),
  );
  t.equal(daemon.stats.preemptions, 1);
});
