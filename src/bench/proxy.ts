// `skiff bench proxy [--json]`: service programming at scale, inside a network namespace of its own (root).
// Full sync of 10,000 services × 10 endpoints and of 50,000 services, 1,000 single-endpoint changes timed from
// the EndpointSlice event to the kernel's ACK, and an upstream-style ruleset (a chain with a numgen vmap per
// service, as kube-proxy's nftables mode writes) through one `nft -f` for comparison. With the 10k services in
// place, connection setup through one ClusterIP versus straight to its pod, from a client namespace routed
// through the bench's namespace (client and pod namespaces are the bench's own, removed on every exit path).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createProxy, type Proxy } from '../proxy/proxy.js';
import { SERVICE_NAME_LABEL } from '../proxy/tracker.js';
import { runCommand } from '../proxy/nftables/backend.js';
import { NfTablesSocket } from '../proxy/nftables/nfnetlink.js';
import type { EndpointSliceObject, ServiceObject } from '../proxy/types.js';
import { Netns } from '../proxy/lab/netns.js';
import { buildConnectTopology, measureConnects, type ConnectStats } from '../proxy/lab/connect.js';

interface Flags {
  json: boolean;
  services: number;
  endpoints: number;
  bigServices: number;
  bigEndpoints: number;
  updates: number;
  upstreamServices: number;
  /** Connections per path (ClusterIP, direct) for the connection-setup comparison; 0 skips it. */
  connections: number;
  connectBudgetMs: number;
  backend: 'netlink' | 'nft';
  /** The bench's own namespace (set by the outer process for the inner one). */
  netnsName: string | undefined;
}

function parse(argv: string[]): Flags {
  const num = (name: string, dflt: number) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer`);
    return v;
  };
  const bi = argv.indexOf('--backend');
  const backend = bi >= 0 ? argv[bi + 1] : 'netlink';
  if (backend !== 'netlink' && backend !== 'nft') throw new Error('--backend is netlink or nft');
  return {
    json: argv.includes('--json'),
    services: num('--services', 10_000),
    endpoints: num('--endpoints', 10),
    bigServices: num('--big-services', 50_000),
    bigEndpoints: num('--big-endpoints', 10),
    updates: num('--updates', 1000),
    upstreamServices: num('--upstream-services', 10_000),
    connections: num('--connections', 2000),
    connectBudgetMs: num('--connect-budget-ms', 8000),
    backend,
    netnsName: argv.includes('--netns-name') ? argv[argv.indexOf('--netns-name') + 1] : undefined,
  };
}

/** 10.96.0.0/12 for ClusterIPs, 10.128.0.0/9 for pods: unique addresses for millions of objects. */
const clusterIP = (i: number) => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const podIP = (k: number) => `10.${128 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;

function service(i: number): ServiceObject {
  return {
    metadata: { name: `svc-${i}`, namespace: 'bench' },
    spec: { type: 'ClusterIP', clusterIP: clusterIP(i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
}

function slice(i: number, ips: string[]): EndpointSliceObject {
  return {
    metadata: { name: `svc-${i}-abcde`, namespace: 'bench', labels: { [SERVICE_NAME_LABEL]: `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: ips.map((ip, j) => ({ addresses: [ip], conditions: { ready: true }, nodeName: `node-${j % 50}` })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number) => Math.round(x * 100) / 100;

async function fullSync(
  flags: Flags,
  services: number,
  endpoints: number,
  firstPod: number,
): Promise<{ proxy: Proxy; ms: number; cpuMs: number; ips: string[][] }> {
  const proxy = createProxy({
    backend: flags.backend,
    nodeName: 'bench-node',
    nodeIPs: ['192.168.77.1'],
    conntrack: false,
  });
  const ips: string[][] = [];
  const objects: [ServiceObject, EndpointSliceObject][] = [];
  for (let i = 0; i < services; i++) {
    const list = Array.from({ length: endpoints }, (_, j) => podIP(firstPod + i * endpoints + j));
    ips.push(list);
    objects.push([service(i), slice(i, list)]);
  }
  // Timed: from the first event reaching the proxy to the kernel's ACK of the last batch.
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (const [svc, eps] of objects) {
    proxy.onService('ADDED', svc);
    proxy.onEndpointSlice('ADDED', eps);
  }
  await proxy.flush();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (proxy.stats.failures > 0) throw new Error('full sync failed');
  // CPU time of this process (user + system, which includes the kernel's netlink work; not the nft child): on a
  // busy shared machine wall time is mostly waiting for a core.
  return { proxy, ms, cpuMs: (used.user + used.system) / 1000, ips };
}

/**
 * Reads the kernel's service-slots map (one `nft -j list map`, outside the timed parts) and checks that every
 * service's slots hold exactly its endpoints in the tracker's order (sorted by address): the state really is there.
 */
async function verifyKernel(ips: readonly string[][]): Promise<void> {
  const json = JSON.parse(await runCommand(['nft', '-j', 'list', 'map', 'ip', 'skiff', 'service-slots'], '')) as {
    nftables: { map?: { elem?: [{ concat: (string | number)[] }, { concat: (string | number)[] }][] } }[];
  };
  const got = new Map<string, string>();
  for (const o of json.nftables) {
    for (const [k, v] of o.map?.elem ?? []) got.set(k.concat.join(' '), v.concat.join(':'));
  }
  let expected = 0;
  ips.forEach((list, i) => {
    [...list].sort().forEach((ip, slot) => {
      expected++;
      const have = got.get(`${clusterIP(i)} tcp 80 ${slot}`);
      if (have !== `${ip}:8080`) throw new Error(`kernel: slot ${slot} of svc-${i} holds ${have}, expected ${ip}:8080`);
    });
  });
  if (got.size !== expected) throw new Error(`kernel holds ${got.size} slots, expected ${expected}`);
}

/** Deletes a table through netlink: `nft delete table` would first read every element into its cache. */
async function dropTable(name: string): Promise<void> {
  const socket = new NfTablesSocket();
  try {
    await socket.deleteTable('ip', name);
  } finally {
    socket.close();
  }
}

/** kube-proxy nftables-mode shape: per service a chain with `numgen … vmap {…}` and a chain per endpoint. */
function upstreamRuleset(services: number, endpoints: number): string {
  const lines = [
    'add table ip upstream',
    'add chain ip upstream nat-prerouting { type nat hook prerouting priority -100 ; policy accept ; }',
    'add chain ip upstream services',
    'add map ip upstream service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }',
    'add chain ip upstream mark-for-masquerade',
    'add rule ip upstream mark-for-masquerade meta mark set meta mark | 0x4000',
    'add rule ip upstream nat-prerouting jump services',
    'add rule ip upstream services ip daddr . meta l4proto . th dport vmap @service-ips',
  ];
  for (let i = 0; i < services; i++) {
    const svc = `service-${i}`;
    lines.push(`add chain ip upstream ${svc}`);
    const targets: string[] = [];
    for (let j = 0; j < endpoints; j++) {
      const ip = podIP(i * endpoints + j);
      const ep = `endpoint-${i}-${j}`;
      lines.push(
        `add chain ip upstream ${ep}`,
        `add rule ip upstream ${ep} ip saddr ${ip} jump mark-for-masquerade`,
        `add rule ip upstream ${ep} meta l4proto tcp dnat to ${ip}:8080`,
      );
      targets.push(`${j} : goto ${ep}`);
    }
    lines.push(`add rule ip upstream ${svc} numgen random mod ${endpoints} vmap { ${targets.join(', ')} }`);
    lines.push(`add element ip upstream service-ips { ${clusterIP(i)} . tcp . 80 : goto ${svc} }`);
  }
  return lines.join('\n') + '\n';
}

/** The ClusterIP the connection comparison dials (outside the 10.96.0.0/12 range the bulk services use). */
const CONNECT_VIP = '10.112.0.1';

/**
 * Adds one real service (ClusterIP → a pod namespace) to the proxy that already holds the bulk services, then
 * times connection setup through the VIP and straight to the pod, interleaved in one client run.
 */
async function connectSetup(
  flags: Flags,
  proxy: Proxy,
  say: (s: string) => void,
): Promise<[ConnectStats, ConnectStats] | undefined> {
  if (flags.connections === 0) return undefined;
  if (!flags.netnsName) {
    say('connection setup: skipped (needs the namespace name the outer bench process passes)');
    return undefined;
  }
  const lab = new Netns(flags.netnsName);
  try {
    const topo = await buildConnectTopology(lab, flags.netnsName);
    proxy.onService('ADDED', {
      metadata: { name: 'connect-target', namespace: 'bench' },
      spec: { type: 'ClusterIP', clusterIP: CONNECT_VIP, ports: [{ name: 'tcp', port: 80, protocol: 'TCP' }] },
    });
    proxy.onEndpointSlice('ADDED', {
      metadata: { name: 'connect-target-1', namespace: 'bench', labels: { [SERVICE_NAME_LABEL]: 'connect-target' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [topo.podIP], conditions: { ready: true }, nodeName: 'bench-node' }],
      ports: [{ name: 'tcp', port: topo.podPort, protocol: 'TCP' }],
    });
    await proxy.flush();
    const [vip, direct] = await measureConnects(
      lab,
      topo.client,
      [
        { host: CONNECT_VIP, port: 80 },
        { host: topo.podIP, port: topo.podPort },
      ],
      flags.connections,
      flags.connectBudgetMs,
    );
    if (!vip || !direct || vip.count === 0 || direct.count === 0) {
      throw new Error(`connection setup: no successful connections (${JSON.stringify([vip, direct])})`);
    }
    say(
      `connection setup with ${flags.services + 1} services: ` +
        `ClusterIP median ${round(vip.medianUs)} µs (p90 ${round(vip.p90Us)}), direct median ${round(direct.medianUs)} µs ` +
        `(p90 ${round(direct.p90Us)}), ratio ${round(vip.medianUs / direct.medianUs)}; ` +
        `${vip.count}+${direct.count} connections, ${vip.failures + direct.failures} failed`,
    );
    return [vip, direct];
  } finally {
    await lab.cleanup();
  }
}

async function inside(flags: Flags): Promise<number> {
  const say = (s: string) => process.stdout.write(s + '\n');
  say(`proxy bench: backend ${flags.backend}, ${flags.services} services × ${flags.endpoints} endpoints`);

  // 1. Full sync at 10k.
  const first = await fullSync(flags, flags.services, flags.endpoints, 0);
  const { proxy, ips } = first;
  const last = proxy.dataPlane as unknown as { elementCount?: number };
  say(`full sync: ${round(first.ms)} ms, ${round(first.cpuMs)} ms CPU (${last.elementCount ?? '?'} elements)`);

  // 2. Single-endpoint changes: replace one endpoint of a random service; time event → kernel ACK.
  let nextPod = flags.services * flags.endpoints + (flags.bigServices + 1) * flags.bigEndpoints;
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const latencies: number[] = [];
  for (let u = 0; u < flags.updates; u++) {
    const changed = Math.floor(random() * flags.services);
    const list = ips[changed]!;
    list[Math.floor(random() * list.length)] = podIP(nextPod++);
    const t0 = performance.now();
    proxy.onEndpointSlice('MODIFIED', slice(changed, list));
    await proxy.flush();
    latencies.push(performance.now() - t0);
  }
  if (proxy.stats.failures > 0) throw new Error('an update failed');
  await verifyKernel(ips);
  say('kernel state verified: every slot of every service holds the expected endpoint');
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  say(
    `single-endpoint changes: ${latencies.length}, p50 ${round(p50)} ms, p99 ${round(p99)} ms, max ${round(latencies.at(-1) ?? NaN)} ms`,
  );
  const connect = await connectSetup(flags, proxy, say);
  await proxy.close();
  await dropTable('skiff');

  // 3. Full sync at 50k.
  let big = NaN;
  let bigCpu = NaN;
  if (flags.bigServices > 0) {
    const r = await fullSync(flags, flags.bigServices, flags.bigEndpoints, flags.services * flags.endpoints);
    big = r.ms;
    bigCpu = r.cpuMs;
    const elements = (r.proxy.dataPlane as unknown as { elementCount?: number }).elementCount;
    say(
      `full sync ${flags.bigServices} services × ${flags.bigEndpoints}: ${round(big)} ms, ${round(bigCpu)} ms CPU (${elements ?? '?'} elements)`,
    );
    await r.proxy.close();
    await dropTable('skiff');
  }

  // 4. Upstream-style ruleset for comparison.
  let upstream = NaN;
  if (flags.upstreamServices > 0) {
    const script = upstreamRuleset(flags.upstreamServices, flags.endpoints);
    const t0 = performance.now();
    await runCommand(['nft', '-f', '-'], script);
    upstream = performance.now() - t0;
    say(`upstream-style ruleset, ${flags.upstreamServices} services × ${flags.endpoints}: ${round(upstream)} ms`);
    await dropTable('upstream');
  }

  const result = {
    services: flags.services,
    endpointsPerService: flags.endpoints,
    backend: flags.backend,
    bigServices: flags.bigServices,
    bigEndpointsPerService: flags.bigEndpoints,
    updates: latencies.length,
    fullSyncMs: round(first.ms),
    fullSync50kMs: round(big),
    updateP50Ms: round(p50),
    updateP99Ms: round(p99),
    upstreamStyleFullSyncMs: round(upstream),
    fullSyncCpuMs: round(first.cpuMs),
    fullSync50kCpuMs: round(bigCpu),
    connectSetupClusterIpUs: round(connect?.[0].medianUs ?? NaN),
    connectSetupDirectUs: round(connect?.[1].medianUs ?? NaN),
    connectSetupRatio: connect ? Math.round((connect[0].medianUs / connect[1].medianUs) * 1000) / 1000 : null,
    connectSetupSamples: connect?.[0].count ?? 0,
  };
  const dir = fileURLToPath(new URL('../../bench-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}proxy.json`, JSON.stringify(result, null, 2) + '\n');
  if (flags.json) say(JSON.stringify(result));
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const flags = parse(argv);
  if (process.getuid?.() !== 0) {
    process.stderr.write('skiff bench proxy: needs root (it programs nftables inside its own network namespace)\n');
    return 1;
  }
  if (argv.includes('--inside-netns')) return inside(flags);
  const ns = `skiff-bench-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const script = process.argv[1]!;
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          ...process.execArgv,
          script,
          'bench',
          'proxy',
          ...argv,
          '--inside-netns',
          '--netns-name',
          ns,
        ],
        {
          stdio: 'inherit',
        },
      );
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
  } finally {
    // The inner process removes the namespaces it made (`<ns>-client`, `<ns>-pod`); if it was killed, do it here.
    const leftover = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((name) => name.startsWith(`${ns}-`));
    for (const name of [...leftover, ns]) execFileSync('ip', ['netns', 'del', name]);
  }
}
