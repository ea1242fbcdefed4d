// The direct in-process transport answers exactly like HTTP and fastify.inject: same status codes, bodies,
// metav1.Status errors and watch events for the same requests (only uids, timestamps and versions differ).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../src/apiserver/server.js';
import { createClient, type Client } from '../../src/client/index.js';
import type { DirectServer } from '../../src/client/transport.js';

interface Answer {
  code: number;
  type: string;
  body: unknown;
}

/** Drops what legitimately differs between two runs of the same requests; the namespace name becomes NS. */
function normalise(text: string, ns: string): unknown {
  const replaced = text.split(ns).join('NS');
  let v: unknown;
  try {
    v = JSON.parse(replaced);
  } catch {
    return replaced;
  }
  const strip = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(strip);
    if (!o || typeof o !== 'object') return o;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (['uid', 'resourceVersion', 'creationTimestamp', 'time', 'deletionTimestamp'].includes(k)) continue;
      out[k] = strip(x);
    }
    return out;
  };
  return strip(v);
}

/** The same script of requests, against namespace `ns`; every answer recorded. */
async function script(c: Client, bad: Client, ns: string): Promise<Answer[]> {
  const out: Answer[] = [];
  const req = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const r = await c.request(method, path, body, headers);
    out.push({ code: r.statusCode, type: String(r.headers['content-type']), body: normalise(r.body.toString(), ns) });
  };
  const cms = `/api/v1/namespaces/${ns}/configmaps`;
  const cm = (name: string, data: Record<string, string> = { a: '1' }) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { app: 'x' } },
    data,
  });
  await req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await req('POST', cms, cm('one'));
  await req('POST', cms, cm('one')); // 409 AlreadyExists
  await req('POST', cms, cm('Bad_Name')); // 422 Invalid
  await req('POST', cms, 'this is not json'); // 400
  await req('POST', `${cms}?fieldValidation=Strict`, { ...cm('two'), bogus: 1 }); // 400 strict decoding
  await req('GET', `${cms}/one`);
  await req('GET', `${cms}/missing`); // 404
  await req('GET', `${cms}?labelSelector=app%3D%3D%3Dx`); // 400 bad selector
  await req('GET', `${cms}?labelSelector=app%3Dx`);
  await req('PATCH', `${cms}/one`, { data: { b: '2' } }, { 'content-type': 'application/merge-patch+json' });
  await req('PATCH', `${cms}/one`, { data: {} }, { 'content-type': 'text/plain' }); // 415
  await req('PUT', `${cms}/one`, cm('one', { c: '3' })); // conflict-free update (no resourceVersion)
  await req('POST', cms, { ...cm('big'), data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } }); // 413
  await req('DELETE', '/api/v1/configmaps'); // 405: collection of a namespaced kind across namespaces
  await req('GET', '/api/v1/nothings'); // 404
  await req('GET', '/api/v1/namespaces/x/nodes'); // 404: nodes are not namespaced
  await req('GET', '/apis/apps/v1'); // resource list
  await req('DELETE', `${cms}/one`);
  await req('GET', `${cms}/one`); // 404 after delete
  const r = await bad.request('GET', cms);
  out.push({ code: r.statusCode, type: String(r.headers['content-type']), body: normalise(r.body.toString(), ns) });
  return out;
}

/** Watch events for create, update and delete of one ConfigMap, and a watch the server refuses. */
async function watchScript(c: Client, ns: string): Promise<unknown[]> {
  const res = { group: '', version: 'v1', resource: 'configmaps', namespace: ns };
  const list = await c.list(res);
  const abort = new AbortController();
  const seen: unknown[] = [];
  const done = (async () => {
    for await (const ev of c.watch(res, { resourceVersion: list.metadata?.resourceVersion, signal: abort.signal })) {
      seen.push(normalise(JSON.stringify(ev), ns));
      if (ev.type === 'DELETED') break;
    }
  })();
  await c.create(res, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w' }, data: { a: '1' } });
  await c.patch(res, 'w', { data: { a: '2' } });
  await c.delete(res, 'w');
  await done;
  abort.abort();
  try {
    for await (const _ of c.watch(res, { resourceVersion: 'abc' })) break;
    seen.push('no error');
  } catch (e) {
    const err = e as { code?: number; reason?: string; message?: string };
    seen.push({ code: err.code, reason: err.reason, message: err.message });
  }
  return seen;
}

t.test('direct transport answers like HTTP and inject', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-direct-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  // Counts what the direct server answers, so the test knows the direct path (not inject) was taken.
  let directCalls = 0;
  const counted: DirectServer = {
    handles: (m, p) => server.direct.handles(m, p),
    request: (r) => (directCalls++, server.direct.request(r)),
    watch: (r, s) => (directCalls++, server.direct.watch(r, s)),
  };
  const app = { inject: server.fastify.inject.bind(server.fastify), skiffDirect: counted };
  const token = server.adminToken;
  const clients = {
    http: [createClient({ server: server.url, token }), createClient({ server: server.url, token: 'nope' })],
    inject: [
      createClient({ inject: server.fastify, token, transport: 'inject' }),
      createClient({ inject: server.fastify, token: 'nope', transport: 'inject' }),
    ],
    direct: [createClient({ inject: app as never, token }), createClient({ inject: app as never, token: 'nope' })],
  } as const;
  t.teardown(async () => {
    for (const [a, b] of Object.values(clients)) {
      await a.close();
      await b.close();
    }
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const answers: Record<string, Answer[]> = {};
  const watches: Record<string, unknown[]> = {};
  for (const [name, [c, bad]] of Object.entries(clients)) {
    answers[name] = await script(c, bad, `eq-${name}`);
    watches[name] = await watchScript(c, `eq-${name}`);
  }
  t.ok(directCalls >= answers.direct!.length, 'the direct client went through the direct server');

  const codes = answers.http!.map((a) => a.code);
  t.same(
    codes,
    [201, 201, 409, 422, 400, 400, 200, 404, 400, 200, 200, 415, 200, 413, 405, 404, 404, 200, 200, 404, 401],
  );
  for (const name of ['inject', 'direct']) {
    const got = answers[name]!;
    t.equal(got.length, answers.http!.length, `${name}: same number of answers`);
    got.forEach((a, i) => t.same(a, answers.http![i], `${name}: answer ${i} (${answers.http![i]!.code}) as HTTP`));
    t.same(watches[name], watches.http, `${name}: same watch events and watch error as HTTP`);
  }
  const errors = answers.direct!.filter((a) => a.code >= 400);
  for (const e of errors) t.match(e.body, { kind: 'Status', status: 'Failure', code: e.code }, 'errors are Status');
  t.same(
    (watches.direct as { type: string }[]).slice(0, 3).map((e) => e.type),
    ['ADDED', 'MODIFIED', 'DELETED'],
  );
  t.match(watches.direct![3], { code: 400, message: /invalid resource version/ });
});

t.test('direct watch: closing ends the server side, and the server ending ends the client', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-direct-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  const c = createClient({ inject: server.fastify, token: server.adminToken });
  t.teardown(async () => {
    await c.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const res = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
  const watchers = () => server.context.metrics.watchers.get() as Promise<{ values: { value: number }[] }>;
  const open = async () => (await watchers()).values.reduce((a, v) => a + v.value, 0);
  const abort = new AbortController();
  const got: string[] = [];
  const first = (async () => {
    for await (const ev of c.watch(res, { signal: abort.signal })) got.push(ev.type);
    return got;
  })();
  await c.create(res, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
  for (let i = 0; i < 200 && ((await open()) !== 1 || got.length === 0); i++)
    await new Promise((r) => setTimeout(r, 10));
  t.equal(await open(), 1, 'one watch open on the server');
  abort.abort();
  t.same(await first, ['ADDED'], 'the watch saw the create, then ended quietly on abort');
  for (let i = 0; i < 200 && (await open()) !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(await open(), 0, 'the server side ended when the client closed');

  // timeoutSeconds: the server ends the watch, and the client's iteration finishes.
  const events: string[] = [];
  for await (const ev of c.watch(res, { timeoutSeconds: 1 })) events.push(ev.type);
  t.same(events, ['ADDED'], 'initial event, then the end');
});

t.test('after the server closed, direct requests and watches get 503 ServiceUnavailable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-direct-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  const c = createClient({ inject: server.fastify, token: server.adminToken });
  const res = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
  const got: string[] = [];
  const watching = (async () => {
    for await (const ev of c.watch(res)) got.push(ev.type);
  })();
  await c.create(res, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' } });
  await server.close();
  t.teardown(async () => {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // The open watch ends with the cache's shutdown (410, so informers would relist), not silently hang.
  await watching;
  t.equal(got[got.length - 1], 'ERROR', 'the open watch got an ERROR event at shutdown');
  await t.rejects(c.get(res, 'before'), { code: 503, reason: 'ServiceUnavailable' });
  await t.rejects(
    (async () => {
      for await (const _ of c.watch(res)) break;
    })(),
    { code: 503 },
  );
});

t.test('direct watch with sharedObjects: the events JSON watchers get, as the server cache objects', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-direct-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  const direct = createClient({ inject: server.fastify, token: server.adminToken });
  const http = createClient({ server: server.url, token: server.adminToken });
  t.teardown(async () => {
    await direct.close();
    await http.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  t.equal(direct.inProcess, true, 'the direct client says it is in process');
  t.equal(http.inProcess, false);
  const res = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
  const cm = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels },
    data: { v: name },
  });
  await direct.create(res, cm('early', { app: 'x' }));
  const from = (await direct.list(res)).metadata!.resourceVersion!;
  await direct.create(res, cm('replayed', { app: 'x' })); // before the watches: replayed from history (bytes)

  const watchers = {
    httpAll: { client: http, opts: {} },
    jsonAll: { client: direct, opts: {} },
    sharedAll: { client: direct, opts: { sharedObjects: true } },
    sharedAll2: { client: direct, opts: { sharedObjects: true } },
    httpSelected: { client: http, opts: { labelSelector: 'app=x' } },
    jsonSelected: { client: direct, opts: { labelSelector: 'app=x' } },
    sharedSelected: { client: direct, opts: { labelSelector: 'app=x', sharedObjects: true } },
    // The option means nothing over HTTP: plain JSON events.
    httpShared: { client: http, opts: { labelSelector: 'app=x', sharedObjects: true } },
  };
  const aborts: AbortController[] = [];
  const seen: Record<string, { type: string; object: Record<string, any> }[]> = {};
  const runs = Object.entries(watchers).map(async ([name, w]) => {
    const got: { type: string; object: Record<string, any> }[] = (seen[name] = []);
    const abort = new AbortController();
    aborts.push(abort);
    for await (const ev of w.client.watch(res, { ...w.opts, resourceVersion: from, signal: abort.signal }))
      got.push(ev as never);
  });
  await direct.create(res, cm('a', { app: 'x' }));
  await direct.create(res, cm('b'));
  await direct.patch(res, 'b', { metadata: { labels: { app: 'x' } } }); // enters the selection: ADDED
  await direct.patch(res, 'a', { metadata: { labels: { app: 'y' } } }); // leaves it: DELETED (old version)
  await direct.patch(res, 'a', { data: { v: 'changed' } }); // outside the selection: nothing
  await direct.delete(res, 'b');
  const expected = (name: string) => (name.includes('All') ? 7 : 5);
  for (let i = 0; i < 500; i++) {
    if (Object.entries(seen).every(([n, evs]) => evs.length >= expected(n))) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const a of aborts) a.abort();
  await Promise.all(runs);
  t.equal(seen.httpAll!.length, 7, 'all: the replayed create and 6 changes');
  t.equal(seen.httpSelected!.length, 5, 'selected: replayed, a, b entering, a leaving, b deleted');
  const line = (e: { type: string; object: unknown }) => JSON.stringify(e);
  for (const name of ['jsonAll', 'sharedAll', 'sharedAll2'])
    t.same(seen[name]!.map(line), seen.httpAll!.map(line), `${name}: the events HTTP watchers get`);
  for (const name of ['jsonSelected', 'sharedSelected', 'httpShared'])
    t.same(seen[name]!.map(line), seen.httpSelected!.map(line), `${name}: the events HTTP watchers get`);
  t.same(
    seen.sharedSelected!.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED replayed', 'ADDED a', 'ADDED b', 'DELETED a', 'DELETED b'],
  );
  // Live events are handed over by reference: two shared watchers hold the very same objects; JSON ones copies.
  const live = (name: string) => seen[name]!.slice(1).map((e) => e.object);
  t.ok(
    live('sharedAll').every((o, i) => o === live('sharedAll2')[i]),
    'shared watchers get the same object instances',
  );
  t.ok(
    live('jsonAll').every((o, i) => o !== live('sharedAll')[i]),
    'JSON watchers get objects of their own',
  );
});
