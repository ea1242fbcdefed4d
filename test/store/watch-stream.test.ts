// One watcher's delivery queue: ordering, de-duplication, back-pressure, the fall-behind bound and close().
import t from 'tap';
import { WatchStream } from '../../src/store/watch-stream.js';
import type { StoreError, WatchEvent } from '../../src/store/types.js';

const ev = (revision: number, key = `/k${revision}`): WatchEvent => ({
  type: 'put',
  revision,
  kv: { key, value: 'v', createRevision: revision, modRevision: revision },
});
const tick = () => new Promise((r) => setImmediate(r));

t.test('delivers in order, drops what an earlier push covered, keeps same-revision siblings', async (t) => {
  const got: number[] = [];
  const s = new WatchStream({ onEvents: (e) => void got.push(...e.map((x) => x.revision)), onError: () => {} }, 3);
  s.push([ev(2), ev(3), ev(4)]);
  s.push([ev(4), ev(5), ev(5, '/other')]);
  await tick();
  t.same(got, [4, 5, 5], 'nothing at or below the start, no repeats, both events of revision 5');
});

t.test('back-pressure: the next batch waits for the previous promise', async (t) => {
  const batches: number[][] = [];
  let release!: () => void;
  const s = new WatchStream(
    {
      onEvents: (e) => {
        batches.push(e.map((x) => x.revision));
        return batches.length === 1 ? new Promise<void>((r) => (release = r)) : undefined;
      },
      onError: () => {},
    },
    0,
    100,
  );
  s.push([ev(1)]);
  await tick();
  s.push([ev(2)]);
  s.push([ev(3)]);
  await tick();
  t.same(batches, [[1]], 'held while the consumer is busy');
  release();
  await tick();
  t.same(batches, [[1], [2, 3]], 'then what queued meanwhile arrives as one batch');
});

t.test('the bound applies only to a busy consumer; exceeding it ends the watch with Compacted', async (t) => {
  let error: StoreError | undefined;
  let delivered = 0;
  const s = new WatchStream(
    {
      onEvents: (e) => {
        delivered += e.length;
        return new Promise<void>(() => {});
      },
      onError: (err) => (error = err),
    },
    0,
    5,
  );
  s.push(Array.from({ length: 20 }, (_, i) => ev(i + 1)));
  await tick();
  t.equal(delivered, 20, 'a big batch to an idle consumer is delivered whole');
  s.push(Array.from({ length: 5 }, (_, i) => ev(i + 21)));
  await tick();
  t.equal(error, undefined, 'up to the bound may queue');
  s.push([ev(26)]);
  await tick();
  t.equal(error?.code, 'Compacted', 'one more ends the watch');
  t.match(error?.message, /fell behind/);
  t.ok(s.closed);
});

t.test('close() stops delivery and suppresses a pending error; a throwing handler ends the watch', async (t) => {
  let calls = 0;
  let error: StoreError | undefined;
  const s = new WatchStream({ onEvents: () => void calls++, onError: (e) => (error = e) }, 0);
  s.push([ev(1)]);
  // The store ends the watch, and the consumer closes it before the error was reported.
  s.fail({ code: 'Unavailable' } as StoreError);
  s.close();
  await tick();
  t.equal(calls, 0, 'nothing delivered after close');
  t.equal(error, undefined, 'no error after close');

  const thrower = new WatchStream(
    {
      onEvents: () => {
        throw new Error('boom');
      },
      onError: (e) => (error = e),
    },
    0,
  );
  thrower.push([ev(1)]);
  await tick();
  t.equal(error?.code, 'Unavailable');
  t.match(error?.message, /boom/);
});
