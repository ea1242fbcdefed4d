// The scheduling queue: priority order, backoff growth, unschedulable parking and re-queueing on cluster events.
import t from 'tap';
import { SchedulingQueue } from '../../../src/scheduler/daemon/queue.js';
import type { Pod } from '../../../src/scheduler/types.js';

function pod(name: string, priority?: number): Pod {
  return { metadata: { name, namespace: 'default' }, spec: { containers: [], priority } };
}

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

t.test('PrioritySort: higher priority first, then arrival order', async (t) => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(pod('low', 1));
  c.advance(1);
  q.add(pod('high', 100));
  c.advance(1);
  q.add(pod('none'));
  c.advance(1);
  q.add(pod('low2', 1));
  c.advance(1);
  q.add(pod('high2', 100));
  t.same(
    q.popBatch(10).map((p) => p.pod.metadata!.name),
    ['high', 'high2', 'low', 'low2', 'none'],
  );
  t.same(q.lengths, { active: 0, backoff: 0, unschedulable: 0, inFlight: 5 });
});

t.test('backoff doubles from 1s to the 10s cap (calculateBackoffDuration)', async (t) => {
  const q = new SchedulingQueue();
  t.same(
    [1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration(a)),
    [1000, 2000, 4000, 8000, 10000, 10000],
  );
});

t.test('failed pods wait out their backoff; unschedulable pods wait for an event', async (t) => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(pod('a'));
  q.add(pod('b'));
  const [a, b] = q.popBatch(2);
  q.markFailed(a!);
  q.markUnschedulable(b!);
  t.same(q.popBatch(5), [], 'nothing ready yet');
  c.advance(1000);
  t.same(
    q.popBatch(5).map((p) => p.key),
    ['default/a'],
    'a is back after 1s',
  );
  c.advance(60_000);
  t.same(q.popBatch(5), [], 'b stays parked without an event');
  q.moveAllUnschedulable();
  t.same(
    q.popBatch(5).map((p) => p.key),
    ['default/b'],
    'an event moves b back (its backoff has passed)',
  );
});

t.test('an event during backoff sends the pod to backoffQ, not activeQ', async (t) => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(pod('x'));
  const [x] = q.popBatch(1);
  q.markUnschedulable(x!);
  q.moveAllUnschedulable();
  t.same(q.lengths.backoff, 1);
  t.same(q.popBatch(1), []);
  c.advance(1000);
  t.same(q.popBatch(1).length, 1);
});

t.test('unschedulable pods are retried after maxUnschedulableMs even without events', async (t) => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now, maxUnschedulableMs: 300_000 });
  q.add(pod('x'));
  q.markUnschedulable(q.popBatch(1)[0]!);
  c.advance(299_999);
  t.same(q.popBatch(1), []);
  c.advance(1);
  t.same(q.popBatch(1).length, 1);
});

t.test('delete and update', async (t) => {
  const q = new SchedulingQueue();
  q.add(pod('a'));
  q.add(pod('b'));
  q.delete('default/a');
  t.notOk(q.has('default/a'));
  q.add({ ...pod('b'), metadata: { name: 'b', namespace: 'default', labels: { v: '2' } } });
  const [b] = q.popBatch(5);
  t.same(b!.pod.metadata!.labels, { v: '2' }, 'an update replaces the queued object');
  q.markUnschedulable(b!);
  q.add({ ...pod('b'), metadata: { name: 'b', namespace: 'default', labels: { v: '3' } } });
  t.equal(q.lengths.unschedulable, 0, 'an update takes a parked pod out of the unschedulable set');
});

t.test('an event during the attempt sends the pod to backoff instead of parking it', async (t) => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(pod('x'));
  const [x] = q.popBatch(1);
  q.moveAllUnschedulable(); // e.g. a node was added while x was being scheduled
  q.markUnschedulable(x!);
  t.same(q.lengths, { active: 0, backoff: 1, unschedulable: 0, inFlight: 0 });
  c.advance(1000);
  t.equal(q.popBatch(1).length, 1);
});
