// Runs the store conformance suite against the embedded SQLite backend, one fresh data dir per test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { StoreError, WatchEvent } from '../../src/store/types.js';
import { conformance } from './fixtures/conformance.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-store-sqlite-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));

conformance(t, 'sqlite', (options) =>
  openSqliteStore({
    dataDir: fs.mkdtempSync(path.join(root, 'd-')),
    compaction: options?.compaction,
    watchBufferLimit: options?.watchBufferLimit,
    compactIntervalMs: 0,
  }),
);

t.test('sqlite: when every live watcher skips prevKv, updates are written without reading the old value', async (t) => {
  const store = await openSqliteStore({ dataDir: fs.mkdtempSync(path.join(root, 'd-')), compactIntervalMs: 0 });
  t.teardown(() => store.close());
  const a = await store.create('/p/a', 'one');
  const events: WatchEvent[] = [];
  const w = store.watch('/p/', a.modRevision, {
    skipPrevValue: true,
    onEvents: (e) => void events.push(...e),
    onError: () => {},
  });
  t.teardown(() => w.close());
  const b = await store.update('/p/a', 'two', a.modRevision);
  const c = await store.update('/p/a', 'three', b.modRevision);
  const gone = await store.delete('/p/a', c.modRevision);
  await new Promise((r) => setTimeout(r, 50));
  t.same(
    events.map((e) => [e.type, e.kv.value, e.prevRevision, e.prevKv?.value]),
    [
      ['put', 'two', a.modRevision, undefined],
      ['put', 'three', b.modRevision, undefined],
      ['delete', 'three', c.modRevision, 'three'],
    ],
    'updates name the revision they replace; the delete still carries the last value',
  );
  t.equal(gone.value, 'three', 'the delete returns the last value, read when needed');
  await t.rejects(store.update('/p/none', 'x', 1), { code: 'NotFound' });
  const d = await store.create('/p/d', 'dee');
  const conflict = (await store.update('/p/d', 'x', d.modRevision - 1).catch((e: unknown) => e)) as StoreError;
  t.equal(conflict.code, 'Conflict');
  t.equal(conflict.current?.value, 'dee', "a conflict's current value is read when needed");
  const exists = (await store.create('/p/d', 'again').catch((e: unknown) => e)) as StoreError;
  t.equal(exists.current?.value, 'dee', 'as is an existing key’s');
});

t.test('sqlite: a new store is made with 16 KiB pages', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(root, 'd-'));
  const store = await openSqliteStore({ dataDir, compactIntervalMs: 0 });
  await store.create('/p/a', 'one');
  await store.close();
  // The page size is the big-endian 16-bit number at offset 16 of the database header.
  t.equal(fs.readFileSync(path.join(dataDir, 'state.db')).readUInt16BE(16), 16_384);
});
