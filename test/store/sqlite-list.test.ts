// SQLite listings read in packed chunks: listings that span several chunks, at old revisions and in pages whose
// limits fall on and around chunk boundaries, equal a model of the writes; list and get agree on every value.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { LIST_CHUNK, PACKED_VALUE_MAX } from '../../src/store/sqlite-list.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { KeyValue, Store } from '../../src/store/types.js';
import { mulberry32 } from '../lib/rng.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-store-list-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));

const SEED = 0x5eed1157;
const P = '/registry/pods/';

/** All pages of a listing with `limit` per page, checking each page's count and `remaining`. */
async function pages(t: Test, store: Store, limit: number, revision?: number): Promise<KeyValue[]> {
  const out: KeyValue[] = [];
  let token: string | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await store.list(P, { limit, continue: token, revision: token ? undefined : revision });
    out.push(...page.items);
    token = page.continue;
    if (!token) break;
    if (page.items.length !== limit) t.fail(`a page before the last has ${page.items.length} items, not ${limit}`);
    if (page.remaining === undefined || page.remaining < 1) t.fail(`remaining is ${page.remaining} before the end`);
  }
  return out;
}

function sameListing(t: Test, got: KeyValue[], want: Map<string, KeyValue>, what: string): void {
  const expected = [...want.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  t.equal(got.length, expected.length, `${what}: ${expected.length} keys`);
  const bad = got.findIndex(
    (kv, i) =>
      kv.key !== expected[i]?.key ||
      kv.value !== expected[i]!.value ||
      kv.modRevision !== expected[i]!.modRevision ||
      kv.createRevision !== expected[i]!.createRevision,
  );
  t.equal(bad, -1, `${what}: every key, value and revision as written`);
}

t.test('listings spanning several chunks equal the model at every revision and page size', async (t) => {
  const store = await openSqliteStore({ dataDir: fs.mkdtempSync(path.join(root, 'd-')), compactIntervalMs: 0 });
  t.teardown(() => store.close());
  const rand = mulberry32(SEED);
  const alphabet = Array.from('abcxyz019 {}":,éü€漢😀\\');
  const value = (i: number) => {
    // Mostly ASCII pod-like JSON; some values multi-byte, some empty, a few past the packed-value limit.
    const r = rand();
    if (r < 0.02) return '';
    if (r < 0.025) return 'L'.repeat(PACKED_VALUE_MAX + Math.floor(rand() * 100));
    let s = `{"kind":"Pod","n":${i},"pad":"${'p'.repeat(Math.floor(rand() * 300))}"`;
    if (r < 0.2) for (let k = 0; k < 20; k++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return `${s}}`;
  };
  const total = 2 * LIST_CHUNK + 321;
  const model = new Map<string, KeyValue>();
  const keys = Array.from({ length: total }, (_, i) => `${P}ns-${i % 7}/pod-${String(i).padStart(5, '0')}`);
  const created = await Promise.all(keys.map((k, i) => store.create(k, value(i))));
  for (const kv of created) model.set(kv.key, kv);
  await store.create('/registry/pods', 'outside the prefix');
  await store.create('/registry/podsx/a', 'outside the prefix');
  const snapshot1 = new Map(model);
  const rev1 = await store.currentRevision();

  // Updates and deletes spread over all chunks, issued concurrently (several may hit one key): the model applies
  // the ones that succeeded in revision order.
  const ops: Promise<{ kv: KeyValue; deleted: boolean } | undefined>[] = [];
  for (let i = 0; i < 1500; i++) {
    const k = keys[Math.floor(rand() * keys.length)]!;
    const deleted = rand() >= 0.6;
    const write = deleted ? store.delete(k) : store.update(k, value(i));
    ops.push(write.then((kv) => ({ kv, deleted })).catch(() => undefined));
  }
  const done = (await Promise.all(ops)).filter((o) => o !== undefined);
  t.ok(done.filter((o) => o.deleted).length > 100, 'many deletes succeeded');
  for (const o of done.sort((x, y) => x.kv.modRevision - y.kv.modRevision)) {
    if (o.deleted) model.delete(o.kv.key);
    else model.set(o.kv.key, o.kv);
  }
  for (const k of keys.slice(0, 50)) {
    if (!model.has(k)) model.set(k, await store.create(k, 're-created'));
  }
  const rev2 = await store.currentRevision();

  sameListing(t, (await store.list(P)).items, model, 'latest');
  sameListing(t, (await store.list(P, { revision: rev1 })).items, snapshot1, 'at the first revision');
  for (const limit of [LIST_CHUNK - 1, LIST_CHUNK, LIST_CHUNK + 1, 1000, 2 * LIST_CHUNK + 500]) {
    sameListing(t, await pages(t, store, limit), model, `pages of ${limit}`);
  }
  sameListing(t, await pages(t, store, LIST_CHUNK, rev1), snapshot1, `pages of ${LIST_CHUNK} at the first revision`);

  // Pages keep reading at their first page's revision while writes continue between them.
  const first = await store.list(P, { limit: LIST_CHUNK + 7 });
  t.equal(first.revision, rev2, 'the first page reads the latest revision');
  for (const k of keys.slice(-200)) await store.delete(k).catch(() => undefined);
  await store.create(`${P}zz-late`, 'created between pages');
  const rest: KeyValue[] = [...first.items];
  let token = first.continue;
  for (let guard = 0; token && guard < 10; guard++) {
    const page = await store.list(P, { limit: LIST_CHUNK + 7, continue: token });
    t.equal(page.revision, rev2, 'a later page reports the first page’s revision');
    rest.push(...page.items);
    token = page.continue;
  }
  sameListing(t, rest, model, 'pages across concurrent writes');
});

t.test('list and get agree on a value that is not valid UTF-8 (written by something else)', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(root, 'd-'));
  const before = await openSqliteStore({ dataDir, compactIntervalMs: 0 });
  await before.create('/k/a', 'valid');
  const b = await before.create('/k/b', 'to be overwritten');
  await before.create('/k/c', 'valid too');
  await before.close();
  const db = new Database(path.join(dataDir, 'state.db'));
  // A lone continuation byte and a truncated sequence: both decode to U+FFFD however they are read.
  db.prepare(`UPDATE log SET value = CAST(x'7b80c3' || CAST('tail' AS BLOB) AS TEXT) WHERE id = ?`).run(b.modRevision);
  db.close();
  const store = await openSqliteStore({ dataDir, compactIntervalMs: 0 });
  t.teardown(() => store.close());
  const listed = (await store.list('/k/')).items;
  t.same(
    listed.map((kv) => kv.key),
    ['/k/a', '/k/b', '/k/c'],
    'every key is listed',
  );
  t.same(listed[1], await store.get('/k/b'), 'list reads the value as get does');
  t.equal(listed[1]!.value, '{\uFFFD\uFFFDtail', 'invalid bytes become replacement characters');
  t.equal(listed[2]!.value, 'valid too', 'the values after it are unaffected');
});
