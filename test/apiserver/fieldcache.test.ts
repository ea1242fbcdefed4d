// Watch cache shortcuts: writers' objects handed over, replaced entries reused, field values computed once,
// selector watchers sharing a fan-out group, and pods/binding served from the cache with upstream conflicts.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { WatchCache, type CacheEvent } from '../../src/apiserver/watchcache.js';
import { encodeForStore } from '../../src/apiserver/codec.js';
import { fanoutOf } from '../../src/apiserver/watch.js';
import { startTestServer, sleep, type Obj } from './helpers.js';

async function cacheOnStore(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-fieldcache-'));
  const store = await openSqliteStore({ dataDir: dir, compactIntervalMs: 0 });
  const cache = new WatchCache(store);
  await cache.start();
  const events: CacheEvent[] = [];
  cache.subscribe('pods', { deliver: (evs) => events.push(...evs), reset: () => {} });
  t.teardown(async () => {
    cache.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, cache, events };
}

const pod = (name: string, phase: string, nodeName?: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: { containers: [{ name: 'c', image: 'i' }], ...(nodeName ? { nodeName } : {}) },
  status: { phase },
});

const podFields = (o: Obj) => ({ 'spec.nodeName': o.spec?.nodeName ?? '', 'status.phase': o.status?.phase ?? '' });

t.test('a handed-over object becomes the entry, with the entry resourceVersion, in either order', async (t) => {
  const { store, cache, events } = await cacheOnStore(t);
  const key = '/registry/pods/default/a';
  const a = pod('a', 'Pending');
  // Handed over before the store event arrives.
  const kv = await store.create(key, encodeForStore(a));
  cache.handover(key, kv.modRevision, a);
  t.ok(await cache.waitFor(kv.modRevision));
  const e = cache.get('pods', key)!;
  t.equal(e.obj.metadata.resourceVersion, String(kv.modRevision), 'resourceVersion set on the adopted copy');
  t.equal(e.obj.spec, a.spec, 'the nested parts are the writer object (not parsed again)');
  t.equal(a.metadata.resourceVersion, undefined, "the writer's object itself is not changed");
  t.same(e.obj, JSON.parse(e.json), 'adopted object equals the stored JSON');
  // Handed over after the event arrived.
  const b = { ...a, status: { phase: 'Running' } };
  const kv2 = await store.update(key, encodeForStore(b), kv.modRevision);
  t.ok(await cache.waitFor(kv2.modRevision));
  cache.handover(key, kv2.modRevision, b);
  const e2 = cache.get('pods', key)!;
  t.equal(e2.obj.status, b.status, 'adopted after the fact');
  t.same(e2.obj, JSON.parse(e2.json));
  // A stale handover (older revision) is ignored.
  cache.handover(key, kv.modRevision, pod('a', 'Failed'));
  t.equal(cache.get('pods', key)!.obj.status.phase, 'Running');
  // A handover for another revision than the event's is not used.
  const kv3 = await store.update(key, encodeForStore(pod('a', 'Succeeded')), kv2.modRevision);
  cache.handover(key, kv3.modRevision + 5, pod('a', 'Unknown'));
  t.ok(await cache.waitFor(kv3.modRevision));
  t.equal(cache.get('pods', key)!.obj.status.phase, 'Succeeded', 'parsed from the store text');
  // The replaced entry of an update is the previously cached one.
  const upd = events.filter((ev) => ev.type === 'MODIFIED');
  t.equal(upd.length, 2);
  t.equal(upd[0]!.prev, e, 'prev of the first update is the cached entry');
  t.equal(upd[0]!.entry, e2);
  t.equal(upd[1]!.prev, e2);
  t.equal(upd[1]!.prev!.rv, kv2.modRevision);
});

t.test('field values are computed once per entry and follow the field function', async (t) => {
  const { store, cache } = await cacheOnStore(t);
  const key = '/registry/pods/default/f';
  const kv = await store.create(key, encodeForStore(pod('f', 'Pending', 'n1')));
  t.ok(await cache.waitFor(kv.modRevision));
  const e = cache.get('pods', key)!;
  let calls = 0;
  const fn = (o: Obj) => (calls++, podFields(o));
  const f1 = e.fieldsOf(fn);
  t.same(f1, {
    'metadata.name': 'f',
    'metadata.namespace': 'default',
    'spec.nodeName': 'n1',
    'status.phase': 'Pending',
  });
  t.equal(e.fieldsOf(fn), f1, 'same map the second time');
  t.equal(calls, 1, 'field function ran once');
  t.same(e.fieldsOf(undefined), { 'metadata.name': 'f', 'metadata.namespace': 'default' }, 'other function');
});

const ns = '/api/v1/namespaces/default';
const notDone = 'fieldSelector=' + encodeURIComponent('status.phase!=Succeeded,status.phase!=Failed');

t.test('watchers with the same selectors share one group and get the right transitions', async (t) => {
  const s = await startTestServer(t);
  const fanout = fanoutOf(s.server.context.cache);
  const before = fanout.groupCount;
  const w1 = s.watch(`${ns}/pods?watch=true&${notDone}`);
  const w2 = s.watch(`${ns}/pods?watch=true&${notDone}`);
  const other = s.watch(`${ns}/pods?watch=true&fieldSelector=spec.nodeName%3Dn1`);
  t.equal(await w1.status, 200);
  t.equal(await w2.status, 200);
  t.equal(await other.status, 200);
  t.equal(fanout.groupCount, before + 2, 'two selector groups');
  const created = await s.req('POST', `${ns}/pods`, pod('p', 'Pending'));
  t.equal(created.status, 201);
  const bound = await s.req('POST', `${ns}/pods/p/binding`, { target: { name: 'n1' } });
  t.equal(bound.status, 201);
  const cur = await s.req('GET', `${ns}/pods/p`);
  const done = { ...cur.body, status: { ...cur.body.status, phase: 'Succeeded' } };
  t.equal((await s.req('PUT', `${ns}/pods/p/status`, done)).status, 200);
  const expect = ['ADDED', 'MODIFIED', 'DELETED'];
  const seq = (evs: Obj[]) => evs.map((e) => `${e.type}:${e.object.spec.nodeName ?? ''}:${e.object.status.phase}`);
  const e1 = await w1.next(3);
  const e2 = await w2.next(3);
  t.same(
    e1.map((e) => e.type),
    expect,
  );
  t.same(seq(e1), seq(e2), 'both members got the same events');
  t.same(seq(e1), ['ADDED::Pending', 'MODIFIED:n1:Pending', 'DELETED:n1:Pending'], 'leaving sends the old object');
  const eo = await other.next(2);
  t.same(seq(eo), ['ADDED:n1:Pending', 'MODIFIED:n1:Succeeded'], 'entering on binding is ADDED');
  // A pod created already finished never reaches the not-done watchers; the list selector agrees.
  t.equal((await s.req('POST', `${ns}/pods`, pod('q', 'Pending'))).status, 201);
  const list = await s.req('GET', `${ns}/pods?${notDone}`);
  t.same(
    list.body.items.map((i: Obj) => i.metadata.name),
    ['q'],
    'list with the selector',
  );
  await w1.next(4);
  t.equal(w1.events[3]!.object.metadata.name, 'q');
  w1.close();
  w2.close();
  other.close();
  await sleep(50);
  t.equal(fanout.groupCount, before, 'groups go away with their last member');
});

t.test('binding from the cache keeps upstream conflicts', async (t) => {
  const s = await startTestServer(t);
  t.equal((await s.req('POST', `${ns}/pods`, pod('b', 'Pending'))).status, 201);
  const got = await s.req('GET', `${ns}/pods/b`);
  const wrongUid = await s.req('POST', `${ns}/pods/b/binding`, {
    metadata: { name: 'b', uid: 'not-the-uid' },
    target: { name: 'n1' },
  });
  t.equal(wrongUid.status, 409);
  t.match(wrongUid.body.message, /Precondition failed: UID in precondition: not-the-uid/);
  const ok = await s.req('POST', `${ns}/pods/b/binding`, {
    metadata: { name: 'b', uid: got.body.metadata.uid, annotations: { x: 'y' } },
    target: { name: 'n1' },
  });
  t.equal(ok.status, 201);
  // Immediately again: whether or not the cache caught up, the answer is the upstream 409.
  const again = await s.req('POST', `${ns}/pods/b/binding`, { target: { name: 'n2' } });
  t.equal(again.status, 409);
  t.match(again.body.message, /pod b is already assigned to node "n1"/);
  const after = await s.req('GET', `${ns}/pods/b`);
  t.equal(after.body.spec.nodeName, 'n1');
  t.equal(after.body.metadata.annotations.x, 'y');
  t.same(
    after.body.status.conditions.filter((c: Obj) => c.type === 'PodScheduled').map((c: Obj) => c.status),
    ['True'],
  );
  t.equal((await s.req('POST', `${ns}/pods/missing/binding`, { target: { name: 'n1' } })).status, 404);
  // The cached object was not changed by the binding write (a new object was stored).
  const list = await s.req('GET', `${ns}/pods?fieldSelector=spec.nodeName%3Dn1`);
  t.same(
    list.body.items.map((i: Obj) => i.metadata.name),
    ['b'],
  );
  const unbound = await s.req('GET', `${ns}/pods?fieldSelector=spec.nodeName%3D`);
  t.same(unbound.body.items, []);
});
