// Sends 10,000 random and mutated requests: every one gets a 2xx or a 4xx metav1.Status (never a 5xx), the server
// stays up, and a rejected request leaves the store exactly as it was (same revision).
import t from 'tap';
import { startTestServer, pod, deployment } from './helpers.js';
import { mulberry32 } from '../lib/rng.js';

const rng = mulberry32;

type J = unknown;

t.test('fuzz: 10,000 requests', async (t) => {
  const s = await startTestServer(t);
  const inject = s.server.fastify;
  const auth = `Bearer ${s.server.adminToken}`;
  const r = rng(20261127);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'svc' },
    spec: { type: 'NodePort', ports: [{ port: 80 }], selector: { app: 'x' } },
  };
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: 'b' } };
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'h' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3 },
  };
  const seeds: [string, Record<string, J>][] = [
    ['/api/v1/namespaces/default/pods', pod('p')],
    ['/apis/apps/v1/namespaces/default/deployments', deployment('web')],
    ['/api/v1/namespaces/default/services', svc],
    ['/api/v1/namespaces/default/configmaps', cm],
    ['/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', hpa],
  ];
  for (const [path, body] of seeds) {
    const res = await inject.inject({
      method: 'POST',
      url: path,
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    t.equal(res.statusCode, 201, `seed ${path}`);
  }

  const weird: J[] = [
    '',
    'x',
    -1,
    0,
    1e309,
    2 ** 53,
    true,
    null,
    [],
    {},
    [1, 'a'],
    { a: { b: 1 } },
    '12xyz',
    '-5Gi',
    'Bad_Name',
    'a'.repeat(300),
    '💥',
    '\u0000',
    '1e999',
    '${}',
    '../..',
  ];
  const mutate = (v: J, depth = 0): J => {
    if (v === null || typeof v !== 'object' || depth > 6 || r() < 0.15) return r() < 0.7 ? pick(weird) : v;
    if (Array.isArray(v)) {
      const a = [...v];
      if (a.length && r() < 0.3) a.splice(Math.floor(r() * a.length), 1);
      else if (a.length) {
        const i = Math.floor(r() * a.length);
        a[i] = mutate(a[i], depth + 1);
      } else a.push(pick(weird));
      return a;
    }
    const o = { ...(v as Record<string, J>) };
    const keys = Object.keys(o);
    const roll = r();
    if (roll < 0.15 && keys.length) delete o[pick(keys)];
    else if (roll < 0.25)
      o[pick(['unknownField', 'spec', 'status', 'metadata', 'kind', 'apiVersion', 'data'])] = pick(weird);
    else if (keys.length) {
      const k = pick(keys);
      o[k] = mutate(o[k], depth + 1);
    }
    return o;
  };
  const contentTypes = [
    'application/json',
    'application/json',
    'application/json',
    'application/yaml',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
    'application/json-patch+json',
    'application/apply-patch+yaml',
    'text/plain',
    'application/vnd.kubernetes.protobuf',
    '',
  ];
  const queries = [
    '',
    '',
    '?fieldValidation=Strict',
    '?fieldValidation=Nope',
    '?dryRun=All',
    '?dryRun=Some',
    '?labelSelector=a%20in%20(',
    '?fieldSelector=spec.bogus%3D1',
    '?limit=-3',
    '?resourceVersion=abc',
    '?resourceVersionMatch=Exact&resourceVersion=0',
    '?fieldManager=fuzz&force=true',
    '?propagationPolicy=Sideways',
    '?gracePeriodSeconds=-4',
    '?continue=garbage&limit=1',
  ];
  const paths = () => {
    const [base, body] = pick(seeds);
    const name = (body.metadata as { name: string }).name;
    return pick([
      base,
      `${base}/${name}`,
      `${base}/${name}`,
      `${base}/${pick([name, 'missing', 'Bad_Name', '%2e%2e', 'x'.repeat(300)])}`,
      `${base}/${name}/${pick(['status', 'scale', 'binding', 'eviction', 'log', 'bogus'])}`,
      `/api/v1/namespaces/${pick(['default', 'nope', 'BAD'])}/widgets`,
      '/apis/nogroup/v9/things',
      `/api/v1/${pick(['pods', 'nodes'])}`,
      `/api/v1/namespaces/default/pods/p/${pick(['status', 'binding'])}`,
    ]);
  };

  let accepted = 0;
  let rejected = 0;
  const N = 10_000;
  for (let i = 0; i < N; i++) {
    const method = pick(['POST', 'POST', 'PUT', 'PUT', 'PATCH', 'PATCH', 'DELETE', 'GET']);
    const [, seedBody] = pick(seeds);
    const ct = pick(contentTypes);
    let payload: string | Buffer;
    const roll = r();
    if (roll < 0.1) payload = Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
    else if (roll < 0.2) payload = JSON.stringify(mutate(seedBody)).slice(0, Math.floor(r() * 200));
    else if (roll < 0.25)
      payload = JSON.stringify(
        Array.from({ length: 3 }, () => ({
          op: pick(['add', 'remove', 'replace', 'move', 'test', 'bogus']),
          path: pick(['/spec', '/metadata/name', '/x/y/z', '', '/spec/replicas']),
          value: pick(weird),
        })),
      );
    else payload = JSON.stringify(mutate(mutate(seedBody)));
    const url = `${paths()}${pick(queries)}`;
    const before = await s.server.store.currentRevision();
    const res = await inject.inject({
      method: method as 'GET',
      url,
      headers: { authorization: auth, ...(ct ? { 'content-type': ct } : {}) },
      payload: method === 'GET' ? undefined : payload,
    });
    const code = res.statusCode;
    if (code >= 500) {
      t.fail(`${method} ${url} (${ct}) -> ${code}: ${res.body.slice(0, 300)} payload=${String(payload).slice(0, 300)}`);
      continue;
    }
    if (code >= 400) {
      rejected++;
      let status: { kind?: string; code?: number; message?: string } = {};
      try {
        status = JSON.parse(res.body);
      } catch {
        t.fail(`${method} ${url} -> ${code} with a non-JSON body`);
      }
      if (status.kind !== 'Status' || status.code !== code || !status.message)
        t.fail(`${method} ${url} -> ${code} without a proper Status: ${res.body.slice(0, 200)}`);
      const after = await s.server.store.currentRevision();
      if (after !== before) t.fail(`${method} ${url} -> ${code} but the store changed (${before} -> ${after})`);
    } else accepted++;
  }
  t.ok(rejected > N / 2, `most requests rejected (${rejected} rejected, ${accepted} accepted)`);
  const health = await inject.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200, 'server still up');
  const list = await inject.inject({ method: 'GET', url: '/api/v1/pods', headers: { authorization: auth } });
  t.equal(list.statusCode, 200);
});
