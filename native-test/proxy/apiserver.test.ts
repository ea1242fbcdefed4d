// `skiff proxy --kubeconfig F` against a live skiff API server: Services and EndpointSlices created, changed and
// deleted through the API reach the kernel. The proxy runs inside a namespace this test creates; the API server
// listens on the root namespace's loopback, reached through a relay over a Unix socket (a file, so it crosses
// namespaces) — the test adds no interface, route or rule outside its namespace.
import t from 'tap';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeSkipReason, withNetns, type Netns } from '../lib/netns.js';
import { tsNodeArgs } from '../lib/tsx.js';
import { rootDiff, snapshotRoot } from '../lib/rootcheck.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { writeKubeconfig } from '../../src/apiserver/kubeconfig.js';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RELAY_PORT = 6443;
const VIP = '10.96.0.50';

/** Forwards every TCP connection the server accepts to `connect()`, both ways. */
const RELAY = `
  const net = require('node:net');
  const [listenHost, listenPort, socketPath] = process.argv.slice(1);
  const srv = net.createServer((c) => {
    const up = net.connect(socketPath);
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  srv.listen(Number(listenPort), listenHost, () => console.log('ready'));
  process.on('SIGTERM', () => process.exit(0));
`;

async function api(server: ApiServer, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as Record<string, any>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The kernel's view: service-ips keys → verdict, and the slot map's values per VIP key. */
async function kernel(h: Netns, ns: string): Promise<{ services: Map<string, string>; slots: Map<string, string[]> }> {
  const list = async (map: string) => {
    const r = await h.exec(ns, 'nft', ['-j', 'list', 'map', 'ip', 'skiff', map]);
    if (r.code !== 0) return []; // no table yet
    const json = JSON.parse(r.stdout) as { nftables: { map?: { elem?: [any, any][] } }[] };
    return json.nftables.flatMap((o) => o.map?.elem ?? []);
  };
  const text = (v: any, sep: string): string => (typeof v === 'object' ? v.concat.join(sep) : String(v));
  const services = new Map<string, string>();
  for (const [k, v] of await list('service-ips')) services.set(text(k, ' '), JSON.stringify(v));
  const slots = new Map<string, string[]>();
  for (const [k, v] of await list('service-slots')) {
    const parts = k.concat as (string | number)[];
    const vip = parts.slice(0, 3).join(' ');
    const at = Number(parts[3]);
    const list = slots.get(vip) ?? [];
    list[at] = text(v, ':');
    slots.set(vip, list);
  }
  return { services, slots };
}

/** Polls the kernel until `ok` holds (at most ~30 s); returns the last view. */
async function until(
  h: Netns,
  ns: string,
  ok: (k: Awaited<ReturnType<typeof kernel>>) => boolean,
): Promise<Awaited<ReturnType<typeof kernel>>> {
  // Two nft runs read the two maps: a sync can land in between, so callers test both.
  let view = await kernel(h, ns);
  for (let i = 0; i < 120 && !ok(view); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    view = await kernel(h, ns);
  }
  return view;
}

function slice(ips: string[]): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node-b' })),
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  };
}

const skip = nativeSkipReason();
if (skip) {
  t.pass(`skipped: ${skip}`);
} else {
  t.setTimeout(300_000);
  const before = await snapshotRoot();

  t.test('skiff proxy --kubeconfig programs what the API server holds', (t) =>
    withNetns(t, async (h) => {
      const dir = mkdtempSync(join(tmpdir(), 'skiff-proxy-api-'));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
      t.teardown(() => server.close());
      const apiPort = Number(new URL(server.url).port);

      // Root side of the relay: Unix socket → the API server on loopback.
      const socketPath = join(dir, 'api.sock');
      const rootRelay = net.createServer((c) => {
        const up = net.connect(apiPort, '127.0.0.1');
        c.pipe(up).pipe(c);
        c.on('error', () => up.destroy());
        up.on('error', () => c.destroy());
      });
      await new Promise<void>((resolve) => rootRelay.listen(socketPath, resolve));
      t.teardown(() => new Promise<void>((resolve) => rootRelay.close(() => resolve())));

      const node = await h.add('node');
      const relay = h.spawn(node, process.execPath, ['-e', RELAY, '127.0.0.1', String(RELAY_PORT), socketPath]);
      await relay.waitFor(/ready/);
      const kubeconfig = join(dir, 'proxy.kubeconfig');
      writeKubeconfig(kubeconfig, `http://127.0.0.1:${RELAY_PORT}`, server.adminToken);

      const proxy = h.spawn(
        node,
        process.execPath,
        tsNodeArgs(cli, 'proxy', '--kubeconfig', kubeconfig, '--node-name', 'node-a', '--node-ip', '10.99.0.1'),
      );

      await api(server, 'POST', '/api/v1/namespaces/default/services', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'default' },
        spec: { clusterIP: VIP, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] },
      });
      await api(
        server,
        'POST',
        '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
        slice(['10.0.1.1', '10.0.1.2']),
      );
      const key = `${VIP} tcp 80`;
      let view = await until(h, node, (k) => k.slots.get(key)?.length === 2 && k.services.has(key));
      t.same(view.slots.get(key), ['10.0.1.1:8080', '10.0.1.2:8080'], 'both endpoints in the slots');
      t.match(view.services.get(key), /svc-rand-2/, 'the VIP dispatches over two slots');

      const current = await api(server, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc');
      await api(server, 'PUT', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc', {
        ...slice(['10.0.1.2', '10.0.1.3', '10.0.1.4']),
        metadata: { ...current.metadata },
      });
      view = await until(h, node, (k) => k.slots.get(key)?.length === 3);
      t.same(view.slots.get(key), ['10.0.1.2:8080', '10.0.1.3:8080', '10.0.1.4:8080'], 'the slice update arrived');

      await api(server, 'DELETE', '/api/v1/namespaces/default/services/web');
      view = await until(h, node, (k) => !k.services.has(key) && !k.slots.has(key));
      t.notOk(view.services.has(key), 'the deleted Service left the kernel');
      t.notOk(view.slots.has(key), 'and so did its slots');

      t.equal(proxy.child.exitCode, null, 'the proxy is still running');
      await proxy.kill();
    }),
  );

  t.test('the root namespace is untouched', async (t) => {
    t.same(rootDiff(before, await snapshotRoot()), [], 'nft ruleset, iptables, routes, rules, links and addresses');
  });
}
