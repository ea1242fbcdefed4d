// A data dir the SQLite store must refuse — corrupt, locked by another process, foreign, or from a newer schema —
// gives a clear error at open and leaves the file exactly as it was.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { openSqliteStore, SCHEMA_VERSION } from '../../src/store/sqlite.js';
import { ready, spawnFixture } from './fixtures/spawn.js';

function hash(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A data dir holding a closed, valid store with a few hundred keys (several pages). */
async function populated(t: Test): Promise<{ dir: string; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-faults-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await openSqliteStore({ dataDir: dir, compactIntervalMs: 0 });
  await Promise.all(Array.from({ length: 400 }, (_, i) => store.create(`/k/${i}`, 'x'.repeat(200) + i)));
  await store.close();
  return { dir, file: path.join(dir, 'state.db') };
}

async function refuses(t: Test, dir: string, pattern: RegExp) {
  const file = path.join(dir, 'state.db');
  const before = hash(file);
  await t.rejects(openSqliteStore({ dataDir: dir, compactIntervalMs: 0 }), pattern, 'open fails with a clear error');
  t.equal(hash(file), before, 'the file is untouched');
}

t.test('a reopened store keeps its data (baseline for the faults below)', async (t) => {
  const { dir } = await populated(t);
  const store = await openSqliteStore({ dataDir: dir, compactIntervalMs: 0 });
  t.teardown(() => store.close());
  t.equal((await store.list('/k/')).items.length, 400);
});

t.test('garbage in the header: corrupt', async (t) => {
  const { dir, file } = await populated(t);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from('this is not a sqlite header at all'), 0, 34, 0);
  fs.closeSync(fd);
  await refuses(t, dir, /state\.db is corrupt/);
});

t.test('garbage in a data page: corrupt', async (t) => {
  const { dir, file } = await populated(t);
  const size = fs.statSync(file).size;
  t.ok(size >= 8 * 4096, 'the store spans several pages');
  const fd = fs.openSync(file, 'r+');
  // Page 3 onwards holds the log table and its index; scribble over one page in the middle.
  const junk = Buffer.alloc(4096, 0xa5);
  fs.writeSync(fd, junk, 0, junk.length, Math.floor(size / 4096 / 2) * 4096);
  fs.closeSync(fd);
  await refuses(t, dir, /state\.db is corrupt/);
});

t.test('a file that is not a database at all: corrupt', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-faults-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'state.db'), 'hello, I am a text file\n'.repeat(500));
  await refuses(t, dir, /state\.db is corrupt/);
});

t.test('another program’s SQLite file: not a skiff store', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-faults-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const other = new Database(path.join(dir, 'state.db'));
  other.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)');
  other.close();
  await refuses(t, dir, /not a skiff store/);
});

t.test('a schema newer than this code', async (t) => {
  const { dir, file } = await populated(t);
  const raw = new Database(file);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  await refuses(t, dir, new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this skiff`));
});

t.test('a data dir served by another process is locked; the lock dies with its holder', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-faults-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const holder = spawnFixture('hold-store.ts', [dir]);
  t.teardown(() => {
    if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
  });
  await ready(holder);
  await refuses(t, dir, /is locked: another skiff process is serving this data dir/);

  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('close', r));
  const store = await openSqliteStore({ dataDir: dir, compactIntervalMs: 0 });
  t.teardown(() => store.close());
  t.equal((await store.get('/held'))?.value, 'by the child', 'after the holder dies the store opens with its data');
});

t.test('a second open in the same process is refused too', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-faults-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const first = await openSqliteStore({ dataDir: dir, compactIntervalMs: 0 });
  t.teardown(() => first.close());
  await first.create('/a', 'b');
  await t.rejects(openSqliteStore({ dataDir: dir, compactIntervalMs: 0 }), /is locked/);
  t.equal((await first.get('/a'))?.value, 'b', 'the first store keeps working');
});
