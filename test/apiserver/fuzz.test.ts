// Fuzz: ≥ 10,000 random and mutated bad requests; each must get a 4xx metav1.Status, the server must stay up,
// and the store must not change (same revision, same bytes).
import t from 'tap';
import { startTestServer, type Obj } from './helpers.js';
import { isQuantity } from '../../src/api/quantity.js';

const REQUESTS = 10_000;
const CONCURRENCY = 16;

/** mulberry32: a small seeded PRNG so a failure can be replayed from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Template {
  path: string;
  body: Obj;
}

function templates(ns: string): Template[] {
  return [
    { path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz-ns' } } },
    {
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', labels: { a: 'b' } }, data: { k: 'v' } },
    },
    {
      path: `/api/v1/namespaces/${ns}/pods`,
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', labels: { app: 'x' } },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'busybox',
              resources: { requests: { cpu: '100m', memory: '64Mi' } },
              ports: [{ containerPort: 80 }],
            },
          ],
        },
      },
    },
    {
      path: `/apis/apps/v1/namespaces/${ns}/deployments`,
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'd' } },
          template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
        },
      },
    },
    {
      path: `/api/v1/namespaces/${ns}/services`,
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's' },
        spec: { selector: { app: 'd' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    },
  ];
}

type BadRequest = {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  kind: string;
};

function makeFuzzer(rand: () => number, ns: string, existing: { path: string; obj: Obj }[]) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (n: number) => Math.floor(rand() * n);
  const clone = (o: Obj): Obj => JSON.parse(JSON.stringify(o)) as Obj;
  const randomText = (n: number, alphabet = 'abcXYZ019-_.!@#$%^&*(){}[]:;"\'\\/ \u00e9\u4e2d\0\n') =>
    Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  const unique = () => `f${int(1e9).toString(36)}`;

  const malformedJson = (): BadRequest => {
    const tpl = pick(templates(ns));
    const body = clone(tpl.body);
    body.metadata.name = unique();
    for (;;) {
      let text = JSON.stringify(body);
      const op = int(4);
      const at = int(text.length);
      if (op === 0) text = text.slice(0, at);
      else if (op === 1) text = text.slice(0, at) + randomText(1 + int(3), '{}[]",:\\') + text.slice(at);
      else if (op === 2) text = text.slice(0, at) + text.slice(at + 1 + int(4));
      else text = text.slice(0, at) + String.fromCharCode(int(128)) + text.slice(at + 1);
      try {
        JSON.parse(text);
      } catch {
        return {
          method: pick(['POST', 'POST', 'PUT']),
          path: tpl.path + (rand() < 0.5 ? '' : `/${body.metadata.name}`),
          body: text,
          kind: 'malformed-json',
        };
      }
    }
  };

  const wrongKind = (): BadRequest => {
    const all = templates(ns).filter((x) => x.body.kind !== 'Namespace');
    const target = pick(all);
    const other = pick(all.filter((x) => x.body.kind !== target.body.kind));
    const body = clone(other.body);
    body.metadata.name = unique();
    return { method: 'POST', path: target.path, body: JSON.stringify(body), kind: 'wrong-kind' };
  };

  const invalidName = (): BadRequest => {
    const tpl = pick(templates(ns));
    const body = clone(tpl.body);
    const base = unique();
    body.metadata.name = pick([
      `-${base}`,
      `${base}-`,
      `${base.toUpperCase()}Q`,
      `${base}_x`,
      `${base} x`,
      'a'.repeat(254),
      `${base}${randomText(2, '!@#$%^&*()_+=~`|<>?,;:"\'/')}`,
    ]);
    return { method: 'POST', path: tpl.path, body: JSON.stringify(body), kind: 'invalid-name' };
  };

  const badQuantity = (): BadRequest => {
    const tpl = templates(ns)[2]!;
    const body = clone(tpl.body);
    body.metadata.name = unique();
    let q: string;
    do {
      q = pick([
        `-${1 + int(999)}m`,
        `-${1 + int(9)}Gi`,
        `${int(100)}${randomText(1 + int(3), 'xyzQ?!#bB ')}`,
        randomText(1 + int(6)),
        `${int(9)}.${int(9)}.${int(9)}`,
        `${int(99)}Mb`,
      ]);
    } while (isQuantity(q) && !q.startsWith('-'));
    const field = pick(['cpu', 'memory', 'ephemeral-storage']);
    body.spec.containers[0].resources[pick(['requests', 'limits'])] = { [field]: q };
    return { method: 'POST', path: tpl.path, body: JSON.stringify(body), kind: 'bad-quantity' };
  };

  const strictUnknownField = (): BadRequest => {
    const tpl = pick(templates(ns));
    const body = clone(tpl.body);
    body.metadata.name = unique();
    const where = pick(['top', 'metadata', 'spec']);
    const key = `unknown${int(1000)}`;
    if (where === 'top' || !body.spec) body[key] = 1;
    else if (where === 'metadata') body.metadata[key] = 'x';
    else body.spec[key] = { nested: true };
    return {
      method: 'POST',
      path: `${tpl.path}?fieldValidation=Strict`,
      body: JSON.stringify(body),
      kind: 'strict-unknown-field',
    };
  };

  const wrongContentType = (): BadRequest => {
    const tpl = pick(templates(ns));
    const body = clone(tpl.body);
    body.metadata.name = unique();
    return {
      method: 'POST',
      path: tpl.path,
      body: JSON.stringify(body),
      headers: {
        'content-type': pick(['text/plain', 'application/xml', 'image/png', 'application/x-www-form-urlencoded']),
      },
      kind: 'content-type',
    };
  };

  const randomBytes = (): BadRequest => {
    const tpl = pick(templates(ns));
    const buf = Buffer.alloc(1 + int(300));
    for (let i = 0; i < buf.length; i++) buf[i] = int(256);
    if (buf[0] === 0x6b) buf[0] = 0; // never start with the protobuf magic's 'k' by accident
    return { method: pick(['POST', 'PUT']), path: tpl.path, body: buf, kind: 'random-bytes' };
  };

  const badPatch = (): BadRequest => {
    const target = pick(existing);
    const op = int(4);
    if (op === 0)
      return {
        method: 'PATCH',
        path: target.path,
        body: JSON.stringify([
          { op: 'test', path: '/metadata/name', value: unique() },
          { op: 'replace', path: '/metadata/labels', value: { z: 'z' } },
        ]),
        headers: { 'content-type': 'application/json-patch+json' },
        kind: 'json-patch-test-fails',
      };
    if (op === 1)
      return {
        method: 'PATCH',
        path: target.path,
        body: JSON.stringify([{ op: 'remove', path: `/metadata/${unique()}/x` }]),
        headers: { 'content-type': 'application/json-patch+json' },
        kind: 'json-patch-bad-path',
      };
    if (op === 2)
      return {
        method: 'PATCH',
        path: target.path,
        body: JSON.stringify({ metadata: { labels: { [`bad key ${unique()}`]: 'v' } } }),
        headers: { 'content-type': 'application/merge-patch+json' },
        kind: 'merge-patch-invalid-label',
      };
    return {
      method: 'PATCH',
      path: target.path,
      body: '{"metadata": {"labels": ',
      headers: { 'content-type': pick(['application/merge-patch+json', 'application/strategic-merge-patch+json']) },
      kind: 'patch-malformed',
    };
  };

  const staleUpdate = (): BadRequest => {
    const target = pick(existing);
    const body = clone(target.obj);
    body.metadata.labels = { ...(body.metadata.labels ?? {}), changed: unique() };
    body.metadata.resourceVersion = String(Number(target.obj.metadata.resourceVersion) + 1_000_000 + int(1000));
    return { method: 'PUT', path: target.path, body: JSON.stringify(body), kind: 'stale-update' };
  };

  const preconditionDelete = (): BadRequest => {
    const target = pick(existing);
    return {
      method: 'DELETE',
      path: target.path,
      body: JSON.stringify({
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        preconditions: { uid: `00000000-0000-0000-0000-${String(int(1e12)).padStart(12, '0')}` },
      }),
      kind: 'delete-precondition',
    };
  };

  const garbagePath = (): BadRequest => ({
    method: pick(['POST', 'PUT', 'PATCH', 'DELETE']),
    path: pick([
      `/api/v1/namespaces/${ns}/${unique()}`,
      `/apis/${unique()}/v1/things`,
      `/api/v9/pods`,
      `/apis/apps/v1/namespaces/${ns}/deployments/${unique()}/bogus`,
    ]),
    body: '{}',
    headers: { 'content-type': 'application/json' },
    kind: 'garbage-path',
  });

  const generators = [
    malformedJson,
    wrongKind,
    invalidName,
    badQuantity,
    strictUnknownField,
    wrongContentType,
    randomBytes,
    badPatch,
    staleUpdate,
    preconditionDelete,
    garbagePath,
  ];
  return () => pick(generators)();
}

t.test('fuzzed bad requests get 4xx Status and change nothing', async (t) => {
  const ts = await startTestServer(t);
  t.teardown(() => ts.close());
  const ns = 'fuzz';
  t.equal(
    (await ts.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))
      .status,
    201,
  );
  const existing: { path: string; obj: Obj }[] = [];
  for (const tpl of templates(ns).slice(1)) {
    const res = await ts.req('POST', tpl.path, tpl.body);
    t.equal(res.status, 201, `seed ${tpl.body.kind}: ${res.text.slice(0, 200)}`);
    existing.push({ path: `${tpl.path}/${tpl.body.metadata.name}`, obj: res.body });
  }
  const nsObj = await ts.req('GET', `/api/v1/namespaces/${ns}`);
  existing.push({ path: `/api/v1/namespaces/${ns}`, obj: nsObj.body });

  // Let post-create writers (allocations, status) settle, then snapshot the store.
  await new Promise((r) => setTimeout(r, 200));
  const store = ts.server.store;
  const before = await store.list('');
  const revisionBefore = await store.currentRevision();

  const seed = Number(process.env.SKIFF_FUZZ_SEED ?? Date.now() % 1_000_000);
  t.comment(`fuzz seed ${seed} (replay with SKIFF_FUZZ_SEED=${seed})`);
  const next = makeFuzzer(prng(seed), ns, existing);
  const failures: string[] = [];
  const kinds = new Map<string, number>();
  let sent = 0;
  const worker = async () => {
    while (sent < REQUESTS) {
      sent++;
      const r = next();
      kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
      const headers = { 'content-type': 'application/json', ...(r.headers ?? {}) };
      const res = await ts.req(r.method, r.path, r.body, headers);
      const ok =
        res.status >= 400 &&
        res.status < 500 &&
        res.body.kind === 'Status' &&
        res.body.status === 'Failure' &&
        res.body.code === res.status &&
        typeof res.body.message === 'string' &&
        res.body.message.length > 0;
      if (!ok && failures.length < 20)
        failures.push(`${r.kind}: ${r.method} ${r.path} → ${res.status} ${res.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.ok(sent >= REQUESTS, `sent ${sent} requests`);
  t.same(failures, [], 'every bad request got a 4xx Status');
  t.ok(kinds.size >= 10, `request kinds: ${JSON.stringify(Object.fromEntries(kinds))}`);

  // Oversized bodies (> 3 MiB): a few, since each is large.
  for (let i = 0; i < 3; i++) {
    const big = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `big${i}` },
      data: { k: 'x'.repeat(3 * 1024 * 1024 + i) },
    };
    const res = await ts.req('POST', `/api/v1/namespaces/${ns}/configmaps`, big);
    t.equal(res.status, 413, 'oversized body → 413');
    t.equal(res.body.reason, 'RequestEntityTooLarge');
  }

  t.equal((await ts.req('GET', '/healthz')).status, 200, 'server still healthy');
  t.equal(await store.currentRevision(), revisionBefore, 'no write reached the store');
  const after = await store.list('');
  t.same(after.items, before.items, 'stored objects unchanged byte for byte');
});
