// The scheduler daemon against an in-memory API: pending pods get bound, an unschedulable pod gets a
// FailedScheduling event and PodScheduled=False and is bound once a fitting node appears, failed bindings retry.
import t from 'tap';
import { SchedulerDaemon, sameSchedulingInputs } from '../../../src/scheduler/daemon/daemon.js';
import { SchedulingQueue } from '../../../src/scheduler/daemon/queue.js';
import type { Client } from '../../../src/client/types.js';
import { resolveProfile } from '../../../src/scheduler/profile.js';
import { FakeCluster } from './fixtures/fake-cluster.js';

const nodes = { group: '', version: 'v1', resource: 'nodes' };
const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const events = { group: '', version: 'v1', resource: 'events', namespace: 'default' };

function node(name: string, cpu: string) {
  const res = { cpu, memory: '8Gi', pods: '110' };
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { capacity: res, allocatable: res },
  };
}

function pod(name: string, cpu: string, extra: object = {}) {
  return {
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }], ...extra },
    status: { phase: 'Pending' },
  };
}

/** Polls until cond() holds; bounded so a broken daemon fails the test instead of hanging it. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function nodeOf(cluster: FakeCluster, name: string): string | undefined {
  return (cluster.find(pods, name)?.spec as { nodeName?: string } | undefined)?.nodeName;
}

async function startDaemon(cluster: FakeCluster) {
  const daemon = new SchedulerDaemon({
    client: cluster.client(),
    profiles: [resolveProfile()],
    engine: 'ts',
    informerFactory: cluster.informerFactory(),
    queue: new SchedulingQueue({ initialBackoffMs: 20, maxBackoffMs: 100 }),
  });
  await daemon.start();
  return daemon;
}

t.test('binds pending pods and records Scheduled events', async (t) => {
  const cluster = new FakeCluster();
  cluster.put(nodes, node('n1', '1'));
  cluster.put(nodes, node('n2', '1'));
  cluster.put(pods, pod('before', '600m'));
  const daemon = await startDaemon(cluster);
  t.teardown(() => daemon.stop());
  cluster.put(pods, pod('after', '600m'));
  await until(() => !!nodeOf(cluster, 'before') && !!nodeOf(cluster, 'after'), 'both pods bound');
  t.not(nodeOf(cluster, 'before'), nodeOf(cluster, 'after'), 'each 600m pod needs its own 1-cpu node');
  // Events are written in the background, after the binding.
  await daemon.recorder.flush();
  const scheduled = cluster.list(events).filter((e) => e.reason === 'Scheduled');
  t.equal(scheduled.length, 2);
  t.match(scheduled.map((e) => e.message).sort(), [
    /^Successfully assigned default\/after to n[12]$/,
    /^Successfully assigned default\/before to n[12]$/,
  ]);
  // Pods of another scheduler are left alone.
  cluster.put(pods, pod('other', '100m', { schedulerName: 'someone-else' }));
  cluster.put(pods, pod('mine', '100m'));
  await until(() => !!nodeOf(cluster, 'mine'), 'mine bound');
  t.equal(nodeOf(cluster, 'other'), undefined);
});

t.test('unschedulable pod: FailedScheduling, PodScheduled=False, then bound when a node fits', async (t) => {
  const cluster = new FakeCluster();
  cluster.put(nodes, node('small', '1'));
  const daemon = await startDaemon(cluster);
  t.teardown(() => daemon.stop());
  cluster.put(pods, pod('big', '3'));
  await until(() => cluster.list(events).some((e) => e.reason === 'FailedScheduling'), 'FailedScheduling event');
  const ev = cluster.list(events).find((e) => e.reason === 'FailedScheduling')!;
  t.equal(ev.type, 'Warning');
  // As kube-scheduler with DefaultPreemption: the filter reasons, then why preemption did not help.
  t.equal(
    ev.message,
    '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
  );
  t.same((ev.involvedObject as { name: string }).name, 'big');
  await until(
    () => !!((cluster.find(pods, 'big')?.status as { conditions?: { type: string }[] })?.conditions ?? []).length,
    'PodScheduled condition',
  );
  const cond = (cluster.find(pods, 'big')!.status as { conditions: { type: string; status: string; reason: string }[] })
    .conditions[0]!;
  t.match(cond, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable' });
  t.equal(nodeOf(cluster, 'big'), undefined);
  cluster.put(nodes, node('large', '4'));
  await until(() => nodeOf(cluster, 'big') === 'large', 'big bound to the new node');
  t.pass('bound after the node event');
});

t.test('a failed binding is undone in the engine and retried', async (t) => {
  const cluster = new FakeCluster();
  cluster.put(nodes, node('n1', '1'));
  cluster.failBindings = 2;
  const daemon = await startDaemon(cluster);
  t.teardown(() => daemon.stop());
  cluster.put(pods, pod('p', '900m'));
  await until(() => nodeOf(cluster, 'p') === 'n1', 'p bound after retries');
  t.equal(cluster.bindCalls, 3, 'two injected failures, then success');
  t.equal(daemon.stats.bindErrors, 2);
  // Had the failed attempts stayed assumed, the node's cpu would look used up and this pod would not fit.
  cluster.remove(pods, 'p');
  cluster.put(pods, pod('q', '900m'));
  await until(() => nodeOf(cluster, 'q') === 'n1', 'q bound');
});

t.test('deleting a pod frees its node for a parked pod', async (t) => {
  const cluster = new FakeCluster();
  cluster.put(nodes, node('n1', '1'));
  const daemon = await startDaemon(cluster);
  t.teardown(() => daemon.stop());
  cluster.put(pods, pod('first', '800m'));
  await until(() => nodeOf(cluster, 'first') === 'n1', 'first bound');
  cluster.put(pods, pod('second', '800m'));
  await until(() => daemon.stats.unschedulable > 0, 'second parked');
  t.equal(nodeOf(cluster, 'second'), undefined);
  cluster.remove(pods, 'first');
  await until(() => nodeOf(cluster, 'second') === 'n1', 'second bound after the delete');
  t.pass();
});

t.test('a pod with scheduling gates waits until they are removed', async (t) => {
  const cluster = new FakeCluster();
  cluster.put(nodes, node('n1', '1'));
  const daemon = await startDaemon(cluster);
  t.teardown(() => daemon.stop());
  cluster.put(pods, pod('gated', '100m', { schedulingGates: [{ name: 'example.com/wait' }] }));
  cluster.put(pods, pod('marker', '100m'));
  await until(() => !!nodeOf(cluster, 'marker'), 'marker bound');
  t.equal(nodeOf(cluster, 'gated'), undefined, 'gated pod left alone');
  cluster.put(pods, pod('gated', '100m'));
  await until(() => nodeOf(cluster, 'gated') === 'n1', 'bound once ungated');
  t.pass();
});

t.test('node heartbeats do not retry parked pods; a bigger allocatable does', async (t) => {
  const cluster = new FakeCluster();
  cluster.put(nodes, node('n1', '1'));
  const daemon = await startDaemon(cluster);
  t.teardown(() => daemon.stop());
  cluster.put(pods, pod('big', '2'));
  await until(() => daemon.stats.unschedulable === 1, 'big parked');
  await until(() => daemon.queue.lengths.unschedulable === 1, 'big in the unschedulable set');
  const heartbeat = {
    ...node('n1', '1'),
    status: { ...node('n1', '1').status, conditions: [{ type: 'Ready', status: 'True' }] },
  };
  cluster.put(nodes, heartbeat);
  t.equal(daemon.queue.lengths.unschedulable, 1, 'a status heartbeat leaves it parked');
  cluster.put(nodes, node('n1', '4'));
  await until(() => nodeOf(cluster, 'big') === 'n1', 'bound after allocatable grew');
  t.equal(daemon.stats.unschedulable, 1, 'no attempts in between');
});

t.test('repeated FailedScheduling events are aggregated into one with a count', async (t) => {
  const cluster = new FakeCluster();
  cluster.put(nodes, node('n1', '1'));
  const daemon = await startDaemon(cluster);
  t.teardown(() => daemon.stop());
  cluster.put(pods, pod('big', '3'));
  await until(() => daemon.stats.unschedulable === 1, 'first attempt');
  const labelled = (v: string) => ({ ...node('n1', '1'), metadata: { name: 'n1', labels: { v } } });
  cluster.put(nodes, labelled('1'));
  await until(() => daemon.stats.unschedulable === 2, 'second attempt');
  cluster.put(nodes, labelled('2'));
  await until(() => daemon.stats.unschedulable === 3, 'third attempt');
  await until(() => cluster.list(events).some((e) => e.count === 3), 'count 3');
  const failed = cluster.list(events).filter((e) => e.reason === 'FailedScheduling');
  t.equal(failed.length, 1, 'one event object');
  t.equal(failed[0]!.count, 3);
});

t.test('sameSchedulingInputs: a binding copy of the same objects is the same; any other object is not', async (t) => {
  const a = {
    metadata: { name: 'p', namespace: 'default', labels: { app: 'x' } },
    spec: { containers: [{ name: 'c' }], tolerations: [] as object[] },
  };
  const bound = { ...a, metadata: { ...a.metadata, resourceVersion: '9' }, spec: { ...a.spec, nodeName: 'n1' } };
  t.ok(sameSchedulingInputs(a, bound), 'only nodeName (and bookkeeping) differ');
  t.notOk(
    sameSchedulingInputs(a, { ...bound, metadata: { ...bound.metadata, labels: { app: 'x' } } }),
    'equal labels, another object',
  );
  t.notOk(sameSchedulingInputs(a, { ...bound, spec: { ...bound.spec, priority: 5 } }), 'a spec field more');
  const { tolerations: _t, ...fewer } = bound.spec;
  t.notOk(sameSchedulingInputs(a, { ...bound, spec: fewer }), 'a spec field less');
  t.notOk(
    sameSchedulingInputs(a, { ...bound, metadata: { ...bound.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }),
    'being deleted',
  );
});

t.test('bindings in flight: 64 over the network, up to the outstanding limit in process', async (t) => {
  for (const inProcess of [false, true]) {
    const cluster = new FakeCluster();
    for (let i = 0; i < 4; i++) cluster.put(nodes, node(`n${i}`, '100'));
    for (let i = 0; i < 300; i++) cluster.put(pods, pod(`p${i}`, '10m'));
    const base = cluster.client();
    let inFlight = 0;
    let peak = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const client: Client = {
      ...base,
      inProcess,
      async create(res, body, opts) {
        if (opts?.subresource !== 'binding') return base.create(res, body, opts);
        peak = Math.max(peak, ++inFlight);
        await gate;
        inFlight--;
        return base.create(res, body, opts);
      },
    };
    const daemon = new SchedulerDaemon({
      client,
      profiles: [resolveProfile()],
      engine: 'ts',
      informerFactory: cluster.informerFactory(),
    });
    await daemon.start();
    // The daemon keeps at most 256 bindings outstanding (4 batches of 64); over the network 64 of them are sent.
    const expected = inProcess ? 256 : 64;
    await until(() => inFlight >= expected, `${expected} bindings in flight`);
    await new Promise((r) => setTimeout(r, 100));
    t.equal(peak, expected, inProcess ? 'in process: every outstanding binding is sent' : 'over the network: 64');
    release();
    await until(() => cluster.list(pods).every((p) => (p.spec as { nodeName?: string }).nodeName), 'all bound');
    await daemon.stop();
  }
});
