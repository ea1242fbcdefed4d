// The store conformance suite: one set of behavioural tests that every backend must pass unchanged.
import type { Test } from 'tap';
import {
  StoreError,
  type CompactionPolicy,
  type KeyValue,
  type Store,
  type WatchEvent,
  type WatchHandlers,
} from '../../src/store/types.js';

export interface StoreFactoryOptions {
  compaction?: Partial<CompactionPolicy>;
  watchBufferLimit?: number;
}

/** Opens a fresh store (or a fresh view of a shared server); the suite closes it. */
export type StoreFactory = (options?: StoreFactoryOptions) => Promise<Store>;

let prefixCounter = 0;
/** A key prefix no other test uses, so tests may share one etcd server. */
function freshPrefix(name: string): string {
  return `/conformance/${process.pid}-${Date.now()}-${prefixCounter++}-${name}/`;
}

async function rejectsWith(t: Test, promise: Promise<unknown>, code: string, what: string): Promise<StoreError> {
  try {
    await promise;
  } catch (err) {
    t.ok(err instanceof StoreError, `${what}: a StoreError`);
    t.equal((err as StoreError).code, code, `${what}: ${code}`);
    return err as StoreError;
  }
  t.fail(`${what}: expected ${code}, but it succeeded`);
  return new StoreError('Unavailable', 'unreachable');
}

/** Collects a watch's events and its terminal error; `until` resolves once a predicate over events holds. */
function collect(store: Store, prefix: string, after: number, slow?: Promise<void>) {
  const events: WatchEvent[] = [];
  let error: StoreError | undefined;
  let batches = 0;
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  const poke = () => {
    for (const w of [...waiters]) {
      if (w.check()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const handlers: WatchHandlers = {
    onEvents(batch) {
      batches++;
      events.push(...batch);
      poke();
      return slow;
    },
    onError(err) {
      error = err;
      poke();
    },
  };
  const watch = store.watch(prefix, after, handlers);
  /** Waits (bounded by `ms`) until `check` holds; rejects with a description otherwise. */
  const until = (check: () => boolean, what: string, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve();
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(entry), 1);
        reject(new Error(`timed out waiting for ${what} (have ${events.length} events, error ${error?.code})`));
      }, ms);
      const entry = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      waiters.push(entry);
    });
  return {
    events,
    get error() {
      return error;
    },
    get batches() {
      return batches;
    },
    watch,
    until,
  };
}

export function conformance(t: Test, backend: string, open: StoreFactory): void {
  const withStore = (
    name: string,
    fn: (t: Test, store: Store, prefix: string) => Promise<void>,
    opts?: StoreFactoryOptions,
  ) =>
    t.test(`${backend}: ${name}`, async (t) => {
      const store = await open(opts);
      t.teardown(() => store.close());
      await fn(t, store, freshPrefix(name.replace(/\W+/g, '-')));
    });

  withStore('create, get and KeyExists', async (t, store, p) => {
    const before = await store.currentRevision();
    const a = await store.create(`${p}a`, '{"n":1}');
    t.ok(a.modRevision > before, 'the write gets a new revision');
    t.equal(a.createRevision, a.modRevision, 'a new key is created at its first write');
    t.same(await store.get(`${p}a`), a, 'get returns what create returned');
    t.equal(await store.currentRevision(), a.modRevision, 'the store revision advances to the write');
    const err = await rejectsWith(t, store.create(`${p}a`, '{"n":2}'), 'KeyExists', 'second create');
    t.same(err.current, a, 'KeyExists carries the current value');
    t.same(await store.get(`${p}a`), a, 'the failed create left the key untouched');
    t.equal(await store.get(`${p}missing`), undefined, 'a missing key reads as undefined');
    const b = await store.create(`${p}b`, 'ünïcödé ✓ \u0000 bytes');
    t.ok(b.modRevision > a.modRevision, 'revisions grow across keys');
    t.equal((await store.get(`${p}b`))!.value, 'ünïcödé ✓ \u0000 bytes', 'values round-trip byte for byte');
    await t.rejects(store.create('', 'x'), /non-empty string/, 'an empty key is refused');
    await t.rejects(store.update(`${p}a`, 42 as never), /must be a string/, 'a non-string value is refused');
    t.same(await store.get(`${p}a`), a, 'refused writes change nothing');
  });

  withStore('update: compare-and-swap on the last-write revision', async (t, store, p) => {
    const a = await store.create(`${p}k`, 'v1');
    const b = await store.update(`${p}k`, 'v2', a.modRevision);
    t.ok(b.modRevision > a.modRevision, 'update gets a new revision');
    t.equal(b.createRevision, a.createRevision, 'createRevision is stable across updates');
    const err = await rejectsWith(t, store.update(`${p}k`, 'v3', a.modRevision), 'Conflict', 'stale revision');
    t.same(err.current, b, 'Conflict carries the current value');
    t.equal((await store.get(`${p}k`))!.value, 'v2', 'the conflicting update changed nothing');
    const c = await store.update(`${p}k`, 'v4');
    t.equal(c.value, 'v4', 'an unconditional update applies');
    await rejectsWith(t, store.update(`${p}nope`, 'x'), 'NotFound', 'update of a missing key');
    await rejectsWith(
      t,
      store.update(`${p}nope`, 'x', c.modRevision),
      'NotFound',
      'conditional update of a missing key',
    );
    // Concurrent CAS from the same base: exactly one wins.
    const base = c.modRevision;
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.update(`${p}k`, `w${i}`, base)));
    const won = results.filter((r) => r.status === 'fulfilled');
    t.equal(won.length, 1, 'exactly one of eight racing CAS updates wins');
    for (const r of results) {
      if (r.status === 'rejected') t.equal((r.reason as StoreError).code, 'Conflict', 'the others get Conflict');
    }
  });

  withStore('delete with and without precondition', async (t, store, p) => {
    const a = await store.create(`${p}k`, 'last words');
    const b = await store.update(`${p}k`, 'final words');
    const err = await rejectsWith(t, store.delete(`${p}k`, a.modRevision), 'Conflict', 'delete with stale revision');
    t.same(err.current, b, 'Conflict carries the current value');
    t.same(await store.get(`${p}k`), b, 'the refused delete left the key');
    const gone = await store.delete(`${p}k`, b.modRevision);
    t.equal(gone.value, 'final words', 'delete returns the last value');
    t.equal(gone.createRevision, a.createRevision, 'with its createRevision');
    t.ok(gone.modRevision > b.modRevision, 'and the delete revision as modRevision');
    t.equal(await store.currentRevision(), gone.modRevision, 'the delete is a revision of the store');
    t.equal(await store.get(`${p}k`), undefined, 'the key is gone');
    await rejectsWith(t, store.delete(`${p}k`), 'NotFound', 'deleting it again');
    const again = await store.create(`${p}k`, 'reborn');
    t.ok(again.createRevision > gone.modRevision, 'a re-created key gets a new createRevision');
    const plain = await store.delete(`${p}k`);
    t.equal(plain.value, 'reborn', 'an unconditional delete applies');
  });

  withStore('list: prefix, order, paging at one revision while writes continue', async (t, store, p) => {
    const names = Array.from({ length: 25 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
    // Created in shuffled order: listing order must be key order, not write order.
    const shuffled = [...names].sort((x, y) =>
      x.split('').reverse().join('') < y.split('').reverse().join('') ? -1 : 1,
    );
    for (const n of shuffled) await store.create(`${p}${n}`, `v-${n}`);
    await store.create(`${p.slice(0, -1)}x/outside`, 'not in the prefix');
    await store.create(`${p.slice(0, -1)}`, 'the prefix without its slash');

    const full = await store.list(p);
    t.same(
      full.items.map((i) => i.key),
      names.map((n) => `${p}${n}`),
      'all keys under the prefix, in key order, nothing else',
    );
    t.equal(full.continue, undefined, 'no continue without a limit');
    t.equal(full.revision, await store.currentRevision(), 'an unpaged list is at the latest revision');

    const first = await store.list(p, { limit: 10 });
    t.equal(first.items.length, 10, 'a page has limit items');
    t.ok(first.continue, 'and a continue token');
    t.equal(first.remaining, 15, 'remaining counts what is left');
    const at = first.revision;

    // Writes land between pages: a later page must still show the state at the first page's revision.
    await store.update(`${p}item-15`, 'changed after page 1');
    await store.delete(`${p}item-20`);
    await store.create(`${p}item-12a`, 'created after page 1');
    await store.create(`${p}item-99`, 'created after page 1');

    const pages: KeyValue[] = [...first.items];
    let token = first.continue;
    let guard = 0;
    while (token && guard++ < 10) {
      const page = await store.list(p, { limit: 10, continue: token });
      t.equal(page.revision, at, 'every page reports the first page’s revision');
      pages.push(...page.items);
      token = page.continue;
    }
    t.same(pages, full.items, 'the pages together equal the listing at that revision');
    const atRevision = await store.list(p, { revision: at });
    t.same(atRevision.items, full.items, 'list at an explicit revision sees the same');
    const now = await store.list(p);
    t.equal(now.items.find((i) => i.key === `${p}item-15`)?.value, 'changed after page 1', 'latest sees the update');
    t.notOk(
      now.items.some((i) => i.key === `${p}item-20`),
      'latest does not see the deleted key',
    );
    t.equal(now.items.length, 26, 'latest sees the created keys');

    await rejectsWith(t, store.list(p, { continue: 'garbage!' }), 'InvalidContinue', 'a garbled token');
    const otherPrefix = `${p.slice(0, -1)}x/`;
    await rejectsWith(
      t,
      store.list(otherPrefix, { continue: first.continue }),
      'InvalidContinue',
      'a token for another prefix',
    );
    await rejectsWith(
      t,
      store.list(p, { revision: (await store.currentRevision()) + 1000 }),
      'FutureRevision',
      'a revision in the future',
    );
  });

  withStore('watch: every change in order, no gaps, no duplicates, with prevKv', async (t, store, p) => {
    const start = await store.currentRevision();
    const live = collect(store, p, start);
    t.teardown(() => live.watch.close());
    await store.create(`${p.slice(0, -1)}-sibling`, 'outside the prefix');

    // A mix of sequential and concurrent writes to a few keys, recording what each acknowledged.
    const acked: { rev: number; type: 'put' | 'delete'; key: string; value: string; prev?: KeyValue }[] = [];
    const state = new Map<string, KeyValue>();
    const keys = ['a', 'b', 'c', 'd'].map((k) => `${p}${k}`);
    for (const key of keys) {
      const kv = await store.create(key, `${key}@0`);
      acked.push({ rev: kv.modRevision, type: 'put', key, value: kv.value });
      state.set(key, kv);
    }
    for (let round = 1; round <= 40; round++) {
      // Each key is written once per round, concurrently: they land in one group commit on SQLite.
      const results = await Promise.all(
        keys.map(async (key) => {
          const prev = state.get(key)!;
          if (round % 10 === 0) {
            const kv = await store.delete(key, prev.modRevision);
            const re = await store.create(key, `${key}@${round}`);
            return [key, prev, kv, re] as const;
          }
          const kv = await store.update(key, `${key}@${round}`, prev.modRevision);
          return [key, prev, kv, undefined] as const;
        }),
      );
      for (const [key, prev, kv, re] of results) {
        if (re) {
          acked.push({ rev: kv.modRevision, type: 'delete', key, value: prev.value, prev });
          acked.push({ rev: re.modRevision, type: 'put', key, value: re.value });
          state.set(key, re);
        } else {
          acked.push({ rev: kv.modRevision, type: 'put', key, value: kv.value, prev });
          state.set(key, kv);
        }
      }
    }
    acked.sort((x, y) => x.rev - y.rev);
    const last = acked[acked.length - 1]!.rev;
    await live.until(() => live.events.some((e) => e.revision >= last), 'the last write’s event');

    const check = (events: WatchEvent[], label: string) => {
      t.equal(events.length, acked.length, `${label}: one event per write`);
      let ok = true;
      for (let i = 0; i < acked.length && ok; i++) {
        const e = events[i]!;
        const a = acked[i]!;
        ok =
          e.revision === a.rev &&
          e.type === a.type &&
          e.kv.key === a.key &&
          e.kv.value === a.value &&
          e.kv.modRevision === a.rev &&
          (a.prev === undefined
            ? e.prevKv === undefined
            : e.prevKv?.value === a.prev.value && e.prevKv.modRevision === a.prev.modRevision);
        if (!ok) t.fail(`${label}: event ${i} ${JSON.stringify(e)} does not match write ${JSON.stringify(a)}`);
      }
      t.ok(ok, `${label}: events match the acknowledged writes in revision order, with prevKv`);
      t.ok(
        events.every((e, i) => i === 0 || e.revision > events[i - 1]!.revision),
        `${label}: revisions strictly increase`,
      );
      t.notOk(
        events.some((e) => !e.kv.key.startsWith(p)),
        `${label}: no events from outside the prefix`,
      );
    };
    check(live.events, 'live watch');
    t.equal(live.error, undefined, 'no error on the live watch');

    // The same history replayed from the log (a watch that starts in the past).
    const replay = collect(store, p, start);
    t.teardown(() => replay.watch.close());
    await replay.until(() => replay.events.length >= acked.length, 'the replayed history');
    check(replay.events, 'replayed watch');

    // Starting in the middle delivers exactly the later writes.
    const mid = acked[Math.floor(acked.length / 2)]!.rev;
    const tail = collect(store, p, mid);
    t.teardown(() => tail.watch.close());
    const expected = acked.filter((a) => a.rev > mid).length;
    await tail.until(() => tail.events.length >= expected, 'the tail');
    t.same(
      tail.events.map((e) => e.revision),
      acked.filter((a) => a.rev > mid).map((a) => a.rev),
      'a watch from the middle gets exactly the later revisions',
    );

    // close(): nothing more is delivered.
    live.watch.close();
    const seen = live.events.length;
    await store.update(keys[0]!, 'after close');
    await tail.until(() => tail.events.some((e) => e.kv.value === 'after close'), 'the post-close write');
    t.equal(live.events.length, seen, 'a closed watch receives nothing');
  });

  withStore(
    'compaction: expired revisions',
    async (t, store, p) => {
      const first = await store.create(`${p}k`, 'v0');
      let last = first;
      for (let i = 1; i <= 30; i++) last = await store.update(`${p}k`, `v${i}`);
      const kept = await store.create(`${p}other`, 'kept');
      const compactedAt = await store.compact();
      t.ok(compactedAt > first.modRevision, 'compaction moved past the early writes');
      t.ok(compactedAt <= (await store.currentRevision()) - 5, 'and kept the last revisions the policy asks for');

      await rejectsWith(t, store.list(p, { revision: first.modRevision }), 'Compacted', 'list at a compacted revision');
      const old = collect(store, p, first.modRevision - 1);
      // Opened in the same tick as the expired one: a backend sharing streams between watchers must not fail it too.
      const recent = collect(store, p, compactedAt);
      t.teardown(() => recent.watch.close());
      await old.until(() => old.error !== undefined, 'the expired watch error');
      t.equal(old.error!.code, 'Compacted', 'a watch from a compacted revision fails with Compacted');
      t.equal(old.events.length, 0, 'and delivers no events');

      const now = await store.list(p);
      t.same(
        now.items.map((i) => [i.key, i.value, i.modRevision]),
        [
          [`${p}k`, 'v30', last.modRevision],
          [`${p}other`, 'kept', kept.modRevision],
        ],
        'the latest state survives compaction exactly',
      );
      const atCompaction = await store.list(p, { revision: compactedAt });
      t.ok(atCompaction.items.length >= 1, 'a list at the compaction revision still works');

      const upd = await store.update(`${p}other`, 'after compaction');
      await recent.until(() => recent.events.some((e) => e.revision === upd.modRevision), 'the new event');
      t.equal(recent.error, undefined, 'a watch from the compaction point works');
      const e = recent.events.find((x) => x.revision === upd.modRevision)!;
      t.equal(e.prevKv?.value, 'kept', 'and its events still carry prevKv');
    },
    { compaction: { keepRevisions: 5, keepMinutes: 0 } },
  );

  withStore(
    'a watcher that falls too far behind gets Compacted, never a gap',
    async (t, store, p) => {
      let release!: () => void;
      const stalled = new Promise<void>((r) => (release = r));
      t.teardown(() => release());
      const slow = collect(store, p, await store.currentRevision(), stalled);
      const fast = collect(store, p, await store.currentRevision());
      t.teardown(() => fast.watch.close());
      // The slow consumer takes its first batch and never finishes handling it.
      await store.create(`${p}first`, 'x');
      await slow.until(() => slow.batches === 1, 'the slow watcher’s first batch');
      const writes: Promise<KeyValue>[] = [];
      for (let i = 0; i < 200; i++) writes.push(store.create(`${p}k${i}`, `v${i}`));
      await Promise.all(writes);
      await slow.until(() => slow.error !== undefined, 'the slow watcher’s error');
      t.equal(slow.error!.code, 'Compacted', 'the stalled watcher is told to start over');
      t.equal(slow.events.length, 1, 'it saw only the batch it stalled on');
      await fast.until(() => fast.events.length >= 201, 'the fast watcher’s events');
      t.equal(fast.error, undefined, 'a watcher that keeps up is unaffected');
      release();
      await new Promise((r) => setTimeout(r, 50));
      const before = slow.events.length;
      await store.create(`${p}late`, 'x');
      await fast.until(() => fast.events.some((e) => e.kv.key === `${p}late`), 'the late event');
      t.equal(slow.events.length, before, 'the cut-off watcher receives nothing more');
    },
    { watchBufferLimit: 50 },
  );
}
