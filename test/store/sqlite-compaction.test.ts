// SQLite compaction against a model: after compacting, every read at or after the compaction revision is exact,
// the superseded rows are gone, the compaction point survives a restart, and the periodic compactor runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { KeyValue, WatchEvent } from '../../src/store/types.js';
import { mulberry32 } from '../lib/rng.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-compact-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const rng = mulberry32;

t.test('reads at or after the compaction revision match a model exactly', async (t) => {
  const dataDir = tempDir(t);
  let store = await openSqliteStore({
    dataDir,
    compactIntervalMs: 0,
    compaction: { keepRevisions: 300, keepMinutes: 0 },
  });
  const random = rng(42);
  const model = new Map<string, KeyValue>();
  const snapshots = new Map<number, KeyValue[]>();
  const history: WatchEvent[] = [];
  for (let op = 0; op < 1500; op++) {
    const key = `/m/k${Math.floor(random() * 30)}`;
    const current = model.get(key);
    let event: WatchEvent;
    if (!current) {
      const kv = await store.create(key, `created ${op}`);
      model.set(key, kv);
      event = { type: 'put', revision: kv.modRevision, kv };
    } else if (random() < 0.25) {
      const kv = await store.delete(key, current.modRevision);
      model.delete(key);
      event = { type: 'delete', revision: kv.modRevision, kv, prevKv: current, prevRevision: current.modRevision };
    } else {
      const kv = await store.update(key, `updated ${op}`, current.modRevision);
      model.set(key, kv);
      event = { type: 'put', revision: kv.modRevision, kv, prevKv: current, prevRevision: current.modRevision };
    }
    history.push(event);
    snapshots.set(
      event.revision,
      [...model.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
  }
  const current = await store.currentRevision();
  const compactedAt = await store.compact();
  t.equal(compactedAt, current - 300, 'compacted to keep exactly the last 300 revisions');

  let exact = true;
  for (let r = compactedAt; r <= current; r += 7) {
    const listed = await store.list('/m/', { revision: r });
    if (JSON.stringify(listed.items) !== JSON.stringify(snapshots.get(r))) {
      exact = false;
      t.fail(`list at ${r} differs from the model`);
      break;
    }
  }
  t.ok(exact, 'list at every sampled revision from the compaction point on equals the model');
  t.same((await store.list('/m/')).items, snapshots.get(current), 'the latest state equals the model');

  const replay: WatchEvent[] = [];
  const w = store.watch('/m/', compactedAt, { onEvents: (e) => void replay.push(...e), onError: () => {} });
  const expected = history.filter((e) => e.revision > compactedAt);
  const deadline = Date.now() + 10_000;
  while (replay.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  w.close();
  t.same(replay, expected, 'a watch from the compaction point replays the kept history exactly, prevKv included');
  await t.rejects(store.list('/m/', { revision: compactedAt - 1 }), { code: 'Compacted' });

  await store.close();
  const raw = new Database(path.join(dataDir, 'state.db'), { readonly: true });
  const rows = (raw.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n;
  const oldRows = (raw.prepare('SELECT COUNT(*) AS n FROM log WHERE id <= ?').get(compactedAt) as { n: number }).n;
  raw.close();
  t.equal(oldRows, snapshots.get(compactedAt)!.length, 'at or below the compaction point only live rows remain');
  t.equal(rows, oldRows + (current - compactedAt), 'every newer row is kept');

  store = await openSqliteStore({ dataDir, compactIntervalMs: 0 });
  t.teardown(() => store.close());
  await t.rejects(
    store.list('/m/', { revision: compactedAt - 1 }),
    { code: 'Compacted' },
    'the compaction point persists',
  );
  t.same((await store.list('/m/')).items, snapshots.get(current), 'and the state survives the restart');
});

t.test('the periodic compactor runs by itself', async (t) => {
  const store = await openSqliteStore({
    dataDir: tempDir(t),
    compactIntervalMs: 20,
    compaction: { keepRevisions: 10, keepMinutes: 0 },
  });
  t.teardown(() => store.close());
  for (let i = 0; i < 50; i++) await store.create(`/p/${i}`, 'x');
  const deadline = Date.now() + 10_000;
  while (store.compactedRevision < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(store.compactedRevision, 40, 'compacted to 10 revisions behind the latest without being asked');
  t.equal((await store.list('/p/')).items.length, 50, 'no live key was lost');
});
