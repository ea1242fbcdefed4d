// WorkQueue: de-duplication, no key processed twice at once, re-processing of keys added while held, retries.
import t from 'tap';
import { WorkQueue, runWorkers } from '../../src/controllers/queue.js';

t.test('a key queued twice is handed out once', async (t) => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  q.add('a');
  t.equal(q.length, 2);
  t.equal(await q.get(), 'a');
  t.equal(await q.get(), 'b');
  q.done('a');
  q.done('b');
  t.equal(q.length, 0);
});

t.test('a key added while held comes back once after done', async (t) => {
  const q = new WorkQueue<string>();
  q.add('a');
  const k = await q.get();
  q.add('a');
  q.add('a');
  t.equal(q.length, 0, 'not handed to a second worker while held');
  q.done(k!);
  t.equal(q.length, 1, 'queued again once');
  t.equal(await q.get(), 'a');
});

t.test('waiting workers get keys as they arrive; shutDown releases them', async (t) => {
  const q = new WorkQueue<string>();
  const first = q.get();
  q.add('x');
  t.equal(await first, 'x');
  const second = q.get();
  q.shutDown();
  t.equal(await second, undefined);
  q.add('y');
  t.equal(q.length, 0, 'no adds after shutdown');
});

t.test('rate-limited retries back off per key and forget resets', async (t) => {
  const q = new WorkQueue<string>({ baseDelayMs: 1, maxDelayMs: 4 });
  q.addRateLimited('k');
  q.addRateLimited('k');
  q.addRateLimited('k');
  t.equal(q.numRequeues('k'), 3);
  // The queue's retry timers are unref'd (a forgotten queue must not keep a process alive), so hold the loop open.
  const keepAlive = setTimeout(() => {}, 10_000);
  t.teardown(() => clearTimeout(keepAlive));
  t.equal(await q.get(), 'k', 'comes back after the delay');
  q.done('k');
  q.forget('k');
  t.equal(q.numRequeues('k'), 0);
  q.shutDown();
});

t.test('runWorkers: errors retry, results requeue, never two workers on one key', async (t) => {
  const q = new WorkQueue<string>({ baseDelayMs: 1 });
  const active = new Set<string>();
  let overlap = false;
  const calls = new Map<string, number>();
  const errors: string[] = [];
  const done = runWorkers(
    q,
    4,
    async (key) => {
      if (active.has(key)) overlap = true;
      active.add(key);
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      await new Promise((r) => setTimeout(r, 2));
      q.add(key); // re-added while held: must wait for this pass to end
      active.delete(key);
      if (key === 'fails' && n < 3) throw new Error(`boom ${n}`);
      if (key === 'later' && n < 2) return { requeueAfterMs: 1 };
      if (key === 'limited' && n < 2) return { requeue: 'rateLimited' };
      return undefined;
    },
    (key, e) => errors.push(`${key}: ${(e as Error).message}`),
  );
  for (const k of ['fails', 'later', 'limited', 'plain']) q.add(k);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && ((calls.get('fails') ?? 0) < 3 || (calls.get('later') ?? 0) < 2)) {
    await new Promise((r) => setTimeout(r, 5));
  }
  q.shutDown();
  await done;
  t.notOk(overlap, 'no key was processed by two workers at once');
  t.ok((calls.get('fails') ?? 0) >= 3, 'failing key retried until it passed');
  t.same(errors.slice(0, 2), ['fails: boom 1', 'fails: boom 2']);
  t.ok((calls.get('later') ?? 0) >= 2, 'requeueAfterMs brings the key back');
  t.ok((calls.get('limited') ?? 0) >= 2, 'rateLimited brings the key back');
});
