import t from 'tap';
import https from 'node:https';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { startApiServer } from '../../src/apiserver/server.js';
import { startTestServer } from './helpers.js';

function get(url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https') ? https : http;
    const r = mod.request(url, { method: 'GET', ...opts }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

t.test('TLS with a generated CA, bearer tokens, kubeconfig', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
  t.teardown(() => s.close());
  t.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const kc = yaml.load(readFileSync(s.kubeconfigPath, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
  t.equal(kc.clusters[0].cluster.server, s.url);
  t.equal(kc.users[0].user.token, s.adminToken);
  t.equal(ca, readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'));

  const anon = await get(`${s.url}/api/v1/namespaces`, { ca });
  t.equal(anon.status, 401, 'no token: 401');
  t.equal(JSON.parse(anon.body).reason, 'Unauthorized');
  const wrong = await get(`${s.url}/api/v1/namespaces`, { ca, headers: { authorization: 'Bearer nope' } });
  t.equal(wrong.status, 401);
  const ok = await get(`${s.url}/api/v1/namespaces`, { ca, headers: { authorization: `Bearer ${s.adminToken}` } });
  t.equal(ok.status, 200);
  t.equal(JSON.parse(ok.body).kind, 'NamespaceList');
  const health = await get(`${s.url}/healthz`, { ca });
  t.equal(health.status, 200, 'health is public');
  t.equal(health.body, 'ok');
  await t.rejects(get(`${s.url}/healthz`, {}), 'untrusted without the CA');
  await t.rejects(
    get(`${s.url}/healthz`, { ca, servername: 'example.com', headers: { host: 'example.com' } }),
    'cert only for loopback names',
  );
  const viaLocalhost = await get(`${s.url.replace('127.0.0.1', 'localhost')}/healthz`, { ca });
  t.equal(viaLocalhost.status, 200, 'localhost is in the certificate');
  const metrics = await get(`${s.url}/metrics`, { ca, headers: { authorization: `Bearer ${s.adminToken}` } });
  t.match(
    metrics.body,
    /apiserver_request_total\{verb="LIST",group="",version="v1",resource="namespaces",subresource="",code="200"\} 1/,
  );
  t.match(metrics.body, /etcd_request_duration_seconds_bucket/);
  await s.close();

  // Restart: the same CA and admin token; extra tokens from the file work.
  appendFileSync(join(dir, 'tokens.csv'), 'second-token,alice,u2,"dev"\n');
  const s2 = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
  t.teardown(() => s2.close());
  t.equal(s2.adminToken, s.adminToken);
  t.equal(s2.caCert, s.caCert);
  const alice = await get(`${s2.url}/api/v1/namespaces/default`, {
    ca,
    headers: { authorization: 'Bearer second-token' },
  });
  t.equal(alice.status, 200);
});

t.test('plain HTTP only on loopback', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-http-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(
    startApiServer({ dataDir: dir, port: 0, insecureHttp: true, host: '0.0.0.0', log: () => {} }),
    /only allowed on loopback/,
  );
});

t.test('allocations survive a restart without collisions', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-alloc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A /28 has 14 usable addresses, one taken by the kubernetes service; four node ports.
  const opts = { dataDir: dir, serviceCidr: '10.0.0.0/28', nodePortRange: [30000, 30003] as [number, number] };
  const svc = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { type: 'NodePort', ports: [{ port: 80 }] },
  });
  const ips = new Set<string>();
  const ports = new Set<number>();
  let s = await startTestServer(t, opts);
  for (let i = 0; i < 2; i++) {
    const r = await s.req('POST', '/api/v1/namespaces/default/services', svc(`a${i}`));
    t.equal(r.status, 201, r.text);
    ips.add(r.body.spec.clusterIP);
    ports.add(r.body.spec.ports[0].nodePort);
  }
  await s.close();
  s = await startTestServer(t, opts);
  for (let i = 0; i < 2; i++) {
    const r = await s.req('POST', '/api/v1/namespaces/default/services', svc(`b${i}`));
    t.equal(r.status, 201, r.text);
    t.notOk(ips.has(r.body.spec.clusterIP), 'new IP differs from those allocated before the restart');
    t.notOk(ports.has(r.body.spec.ports[0].nodePort), 'new node port differs too');
    ips.add(r.body.spec.clusterIP);
    ports.add(r.body.spec.ports[0].nodePort);
  }
  const full = await s.req('POST', '/api/v1/namespaces/default/services', svc('c'));
  t.equal(full.status, 422, 'node port range exhausted: an error, not a duplicate');
  t.equal(ports.size, 4);
  const list = await s.req('GET', '/api/v1/services');
  const all = list.body.items.map((i: { spec: { clusterIP: string } }) => i.spec.clusterIP);
  t.equal(new Set(all).size, all.length, 'no two services share an IP');
  t.ok(all.includes('10.0.0.1'), 'kubernetes service has the first address');
});
