// etcd going away and coming back: calls retry with backoff, the store logs one line per reachability change,
// a call that cannot wait fails with Unavailable, and a watch resumes after the outage without a gap.
import t from 'tap';
import { openEtcdStore } from '../../src/store/etcd.js';
import { startEtcd } from '../../src/store/etcd-process.js';
import { StoreError, type WatchEvent } from '../../src/store/types.js';

t.test('etcd outage: retry, one log line per state change, watch resumes without a gap', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const lines: string[] = [];
  const store = await openEtcdStore({
    endpoints: [etcd.endpoint],
    compactIntervalMs: 0,
    retryTimeoutMs: 60_000,
    requestTimeoutMs: 2000,
    log: (l) => lines.push(l),
  });
  t.teardown(() => store.close());
  const impatient = await openEtcdStore({
    endpoints: [etcd.endpoint],
    compactIntervalMs: 0,
    retryTimeoutMs: 300,
    requestTimeoutMs: 2000,
  });
  t.teardown(() => impatient.close());

  const events: WatchEvent[] = [];
  let watchError: StoreError | undefined;
  const from = await store.currentRevision();
  const watch = store.watch('/outage/', from, {
    onEvents: (batch) => void events.push(...batch),
    onError: (err) => (watchError = err),
  });
  t.teardown(() => watch.close());

  const acked: number[] = [];
  for (let i = 0; i < 5; i++) acked.push((await store.create(`/outage/before-${i}`, `b${i}`)).modRevision);

  await etcd.kill();
  // Several calls during the outage: they retry instead of failing, and the store logs the outage once.
  const during = Array.from({ length: 5 }, (_, i) => store.create(`/outage/during-${i}`, `d${i}`));
  await t.rejects(impatient.create('/outage/impatient', 'x'), { code: 'Unavailable' }, 'a call out of patience');
  const deadline = Date.now() + 20_000;
  while (!lines.some((l) => /unreachable/.test(l)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));

  await etcd.restart();
  for (const kv of await Promise.all(during)) acked.push(kv.modRevision);
  for (let i = 0; i < 5; i++) acked.push((await store.create(`/outage/after-${i}`, `a${i}`)).modRevision);
  acked.sort((a, b) => a - b);

  const until = Date.now() + 20_000;
  while (events.length < acked.length && !watchError && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.equal(watchError, undefined, 'the watch survived the outage');
  t.same(
    events.map((e) => e.revision),
    acked,
    'the watch delivered every write exactly once, in order, across the outage',
  );
  t.same(
    lines.filter((l) => /unreachable/.test(l)).length,
    1,
    `one "unreachable" line for the whole outage (${JSON.stringify(lines)})`,
  );
  t.same(lines.filter((l) => /reachable again/.test(l)).length, 1, 'one "reachable again" line when it returned');
  t.ok(
    lines.findIndex((l) => /unreachable/.test(l)) < lines.findIndex((l) => /reachable again/.test(l)),
    'down is logged before up',
  );
});

t.test('opening against an etcd that is not there fails with a clear error', async (t) => {
  await t.rejects(
    openEtcdStore({ endpoints: ['http://127.0.0.1:1'], retryTimeoutMs: 300, compactIntervalMs: 0 }),
    /cannot reach etcd at http:\/\/127\.0\.0\.1:1/,
  );
});
