// The event recorder: writes in the background, aggregates repeats into count/lastTimestamp, drops events when its
// bounded queue is full (client-go's broadcaster behaviour), and stops recording once closed.
import t from 'tap';
import { EventRecorder } from '../../../src/scheduler/daemon/events.js';
import { FakeCluster } from './fixtures/fake-cluster.js';

const events = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
const pod = (name: string) => ({ metadata: { name, namespace: 'default', uid: `uid-${name}` } });

t.test('record returns at once; the writer creates the events in order', async (t) => {
  const cluster = new FakeCluster();
  const rec = new EventRecorder({ client: cluster.client(), now: () => Date.UTC(2026, 0, 1) });
  rec.record(pod('a'), 'Normal', 'Scheduled', 'Successfully assigned default/a to n1', 'default-scheduler');
  rec.record(pod('b'), 'Normal', 'Scheduled', 'Successfully assigned default/b to n2', 'default-scheduler');
  await rec.flush();
  const list = cluster.list(events);
  t.same(
    list.map((e) => [(e.involvedObject as { name: string }).name, e.reason, e.type, e.count]),
    [
      ['a', 'Scheduled', 'Normal', 1],
      ['b', 'Scheduled', 'Normal', 1],
    ],
  );
  t.match(list[0]!.metadata.name, /^a\.[0-9a-f]{16}$/);
  t.equal(list[0]!.firstTimestamp, '2026-01-01T00:00:00Z');
  t.same(list[0]!.source, { component: 'default-scheduler' });
  t.equal(rec.stats.written, 2);
});

t.test('repeats of the same event bump count and lastTimestamp', async (t) => {
  const cluster = new FakeCluster();
  let now = Date.UTC(2026, 0, 1);
  const rec = new EventRecorder({ client: cluster.client(), now: () => now });
  for (let i = 0; i < 3; i++) {
    rec.record(pod('p'), 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.', 's');
    await rec.flush();
    now += 60_000;
  }
  rec.record(pod('p'), 'Warning', 'FailedScheduling', 'another message', 's');
  await rec.flush();
  const list = cluster.list(events);
  t.equal(list.length, 2, 'a different message is a different event');
  const first = list.find((e) => e.message !== 'another message')!;
  t.equal(first.count, 3);
  t.equal(first.firstTimestamp, '2026-01-01T00:00:00Z');
  t.equal(first.lastTimestamp, '2026-01-01T00:02:00Z');
});

t.test('a full queue drops new events instead of growing or blocking', async (t) => {
  const cluster = new FakeCluster();
  const client = cluster.client();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const create = client.create.bind(client);
  // The first write blocks, so everything recorded meanwhile waits in the queue.
  client.create = async (res, body, opts) => {
    await gate;
    return create(res, body, opts);
  };
  const lines: string[] = [];
  const rec = new EventRecorder({ client, maxQueued: 3, log: (l) => lines.push(l) });
  for (let i = 0; i < 6; i++) rec.record(pod(`p${i}`), 'Normal', 'Scheduled', `m${i}`, 's');
  // p0 is being written, p1..p3 fill the queue, p4 and p5 are dropped.
  t.equal(rec.stats.dropped, 2);
  t.equal(lines.length, 1, 'the drop is logged once per burst');
  release();
  await rec.flush();
  t.same(
    cluster
      .list(events)
      .map((e) => (e.involvedObject as { name: string }).name)
      .sort(),
    ['p0', 'p1', 'p2', 'p3'],
  );
  t.equal(rec.stats.written, 4);
});

t.test('after close nothing more is recorded', async (t) => {
  const cluster = new FakeCluster();
  const rec = new EventRecorder({ client: cluster.client() });
  rec.record(pod('a'), 'Normal', 'Scheduled', 'm', 's');
  await rec.close();
  rec.record(pod('b'), 'Normal', 'Scheduled', 'm', 's');
  await rec.flush();
  t.same(
    cluster.list(events).map((e) => (e.involvedObject as { name: string }).name),
    ['a'],
  );
});
