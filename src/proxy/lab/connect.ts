// Connection-setup timing through a service VIP versus straight to the pod, inside namespaces a lab creates:
//
//   client (10.241.0.2) ── veth ── (10.241.0.1) node ── veth ── (10.240.0.1) … pod (10.240.0.10)
//
// The node namespace is given (the caller programs its proxy there); client and pod are created here. Both
// paths cross the node's nftables hooks and conntrack; only the VIP path is DNATed, so the difference between
// the two is what the service proxy costs a new connection.
import type { Netns, SpawnedProcess } from './netns.js';

export interface ConnectTopology {
  client: string;
  pod: string;
  podIP: string;
  podPort: number;
  server: SpawnedProcess;
}

/** A TCP server that accepts and waits for the client to reset (no TIME_WAIT state piles up on either side). */
const SERVER = `
  const net = require('node:net');
  const srv = net.createServer((s) => { s.on('error', () => {}); });
  srv.listen(Number(process.argv[2]), process.argv[1], () => console.log('ready'));
  process.on('SIGTERM', () => process.exit(0));
`;

/**
 * Sequential connect + reset to each target in turn (the order alternates every round so neither path always
 * goes first); time from connect() to the 'connect' event. Prints one JSON line: per target the samples' median,
 * mean, p90 in microseconds and the failures.
 */
const CLIENT = `
  const net = require('node:net');
  const targets = JSON.parse(process.argv[1]);
  const rounds = Number(process.argv[2]);
  const deadline = performance.now() + Number(process.argv[3]);
  const samples = targets.map(() => []);
  const failures = targets.map(() => 0);
  const once = (t) => new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host: t.host, port: t.port });
    const timer = setTimeout(() => { s.destroy(); resolve(-1); }, 2000);
    s.once('connect', () => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      clearTimeout(timer);
      s.resetAndDestroy();
      resolve(us);
    });
    s.once('error', () => { clearTimeout(timer); resolve(-1); });
  });
  (async () => {
    for (let r = 0; r < rounds && performance.now() < deadline; r++) {
      const order = r % 2 ? targets.map((_, i) => targets.length - 1 - i) : targets.map((_, i) => i);
      for (const i of order) {
        const us = await once(targets[i]);
        if (us < 0) failures[i]++;
        else samples[i].push(us);
      }
    }
    const stats = samples.map((s, i) => {
      s.sort((a, b) => a - b);
      const at = (p) => s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
      const mean = s.reduce((a, b) => a + b, 0) / s.length;
      return { count: s.length, failures: failures[i], medianUs: at(0.5), meanUs: mean, p90Us: at(0.9) };
    });
    console.log(JSON.stringify(stats));
  })();
`;

/** Client and pod namespaces wired to `node` (routes both ways, forwarding on in node), a server in the pod. */
export async function buildConnectTopology(lab: Netns, node: string, podPort = 8080): Promise<ConnectTopology> {
  const client = await lab.add('client');
  const pod = await lab.add('pod');
  await lab.sysctl(node, 'net.ipv4.ip_forward', '1');
  await lab.veth(node, client, { addrA: '10.241.0.1/24', addrB: '10.241.0.2/24' });
  await lab.ip(client, 'route', 'add', 'default', 'via', '10.241.0.1');
  const podIP = '10.240.0.10';
  await lab.veth(node, pod, { addrA: '10.240.0.1/24', addrB: `${podIP}/24` });
  await lab.ip(pod, 'route', 'add', 'default', 'via', '10.240.0.1');
  const server = lab.spawn(pod, process.execPath, ['-e', SERVER, podIP, String(podPort)]);
  await server.waitFor(/ready/);
  return { client, pod, podIP, podPort, server };
}

export interface ConnectStats {
  count: number;
  failures: number;
  medianUs: number;
  meanUs: number;
  p90Us: number;
}

/** Runs the client in `client`: `rounds` connections per target at most, stopping early after `budgetMs`. */
export async function measureConnects(
  lab: Netns,
  client: string,
  targets: { host: string; port: number }[],
  rounds: number,
  budgetMs: number,
): Promise<ConnectStats[]> {
  const out = await lab.mustExec(
    client,
    process.execPath,
    ['-e', CLIENT, JSON.stringify(targets), String(rounds), String(budgetMs)],
    { timeoutMs: budgetMs + 30_000 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as ConnectStats[];
}
