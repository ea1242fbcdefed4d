// Real packets through each backend: a client namespace reaches HTTP servers in pod namespaces through a ClusterIP,
// a NodePort, an empty service (rejected), ClientIP affinity and hairpin, with the rules programmed inside a "node"
// namespace. (P(no hairpin among 30 requests to 3 pods) = (2/3)^30 ≈ 5e-6.)
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { runInNetns, type BackendName } from '../../src/proxy/netns-apply.js';
import type { EndpointState, ServicePortState } from '../../src/proxy/types.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  for (const bin of ['ip', 'nft', 'iptables-restore', 'curl', 'python3']) {
    try {
      execFileSync('which', [bin], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed`;
    }
  }
  return undefined;
}

const sh = (...argv: string[]) =>
  execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, ...argv: string[]) => sh('ip', 'netns', 'exec', ns, ...argv);

interface Topology {
  node: string;
  client: string;
  pods: string[];
  podIPs: string[];
  servers: ChildProcess[];
}

/** client 192.168.60.2 ── node 192.168.60.1 / 10.0.N.254 ── pod N at 10.0.N.1, each serving its name on :8080. */
function topology(t: { teardown(fn: () => void): void }, pods: number): Topology {
  const id = randomBytes(3).toString('hex');
  const node = `skiff-t-${id}-n`;
  const client = `skiff-t-${id}-c`;
  const names = Array.from({ length: pods }, (_, i) => `skiff-t-${id}-p${i}`);
  const all = [node, client, ...names];
  const servers: ChildProcess[] = [];
  t.teardown(() => {
    for (const s of servers) s.kill('SIGKILL');
    for (const ns of all) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  });
  for (const ns of all) sh('ip', 'netns', 'add', ns);
  inNs(node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  for (const ns of all) inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  // client link (veth names are per-namespace once moved, so short fixed names are fine)
  sh('ip', 'link', 'add', `c${id}`, 'netns', client, 'type', 'veth', 'peer', 'name', `n${id}`, 'netns', node);
  inNs(client, 'ip', 'link', 'set', `c${id}`, 'name', 'eth0');
  inNs(node, 'ip', 'link', 'set', `n${id}`, 'name', 'toclient');
  inNs(client, 'ip', 'addr', 'add', '192.168.60.2/24', 'dev', 'eth0');
  inNs(node, 'ip', 'addr', 'add', '192.168.60.1/24', 'dev', 'toclient');
  inNs(client, 'ip', 'link', 'set', 'eth0', 'up');
  inNs(node, 'ip', 'link', 'set', 'toclient', 'up');
  inNs(client, 'ip', 'route', 'add', 'default', 'via', '192.168.60.1');
  const podIPs: string[] = [];
  names.forEach((ns, i) => {
    sh('ip', 'link', 'add', `p${id}${i}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `h${id}${i}`, 'netns', node);
    inNs(ns, 'ip', 'link', 'set', `p${id}${i}`, 'name', 'eth0');
    inNs(ns, 'ip', 'addr', 'add', `10.0.${i}.1/24`, 'dev', 'eth0');
    inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    inNs(ns, 'ip', 'route', 'add', 'default', 'via', `10.0.${i}.254`);
    inNs(node, 'ip', 'addr', 'add', `10.0.${i}.254/24`, 'dev', `h${id}${i}`);
    inNs(node, 'ip', 'link', 'set', `h${id}${i}`, 'up');
    podIPs.push(`10.0.${i}.1`);
    // Each pod answers every GET with its own name.
    const server = spawn('ip', [
      'netns',
      'exec',
      ns,
      'python3',
      '-c',
      `import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = b'pod${i}'
        self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('0.0.0.0', 8080), H).serve_forever()`,
    ]);
    servers.push(server);
  });
  return { node, client, pods: names, podIPs, servers };
}

async function waitForServers(top: Topology): Promise<void> {
  for (let i = 0; i < top.pods.length; i++) {
    for (let attempt = 0; ; attempt++) {
      try {
        inNs(top.node, 'curl', '-s', '--max-time', '1', `http://${top.podIPs[i]}:8080/`);
        break;
      } catch (err) {
        if (attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

function ep(ip: string): EndpointState {
  return { ip, port: 8080, ready: true, serving: true, terminating: false, local: true, nodeName: 'node' };
}

function svc(name: string, ip: string, eps: EndpointState[], extra: Partial<ServicePortState> = {}): ServicePortState {
  return {
    key: `ns/${name}:http/tcp`,
    namespace: 'ns',
    name,
    portName: 'http',
    protocol: 'tcp',
    port: 80,
    clusterIPs: [ip],
    externalIPs: [],
    loadBalancerIPs: [],
    internalPolicyLocal: false,
    externalPolicyLocal: false,
    clusterEndpoints: eps,
    externalEndpoints: eps,
    clusterNoEndpoints: 'reject',
    externalNoEndpoints: 'reject',
    allEndpoints: eps,
    ...extra,
  };
}

/** curl from the client; returns the body, or the curl exit code as "exit N". */
function fetchFrom(ns: string, url: string): string {
  try {
    return inNs(ns, 'curl', '-s', '--max-time', '2', url);
  } catch (err) {
    return `exit ${(err as { status?: number }).status}`;
  }
}

const reason = missing();
if (reason) {
  t.comment(`skipped: ${reason}`);
  t.pass(`skipped: ${reason}`);
} else {
  for (const backend of ['netlink', 'nft', 'iptables'] as BackendName[]) {
    t.test(`${backend}: ClusterIP spread, NodePort, reject, ClientIP affinity, hairpin`, async (t) => {
      const top = topology(t, 3);
      await waitForServers(top);
      const web = svc('web', '10.96.0.10', top.podIPs.map(ep), { nodePort: 30080 });
      const empty = svc('empty', '10.96.0.11', [], { externalEndpoints: [] });
      const sticky = svc('sticky', '10.96.0.12', top.podIPs.map(ep), { affinityTimeoutSeconds: 600 });
      await runInNetns(top.node, {
        backend,
        nodeIPs: ['192.168.60.1'],
        steps: [
          [
            [web.key, web],
            [empty.key, empty],
            [sticky.key, sticky],
          ],
        ],
      });
      const seen = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const body = fetchFrom(top.client, 'http://10.96.0.10/');
        seen.set(body, (seen.get(body) ?? 0) + 1);
      }
      t.same([...seen.keys()].sort(), ['pod0', 'pod1', 'pod2'], `every pod answered (${JSON.stringify([...seen])})`);
      t.match(fetchFrom(top.client, 'http://192.168.60.1:30080/'), /^pod\d$/, 'NodePort on the node address');
      // curl exit 7 = connection refused (a reject), 28 = timeout (a silent drop would look like this)
      t.equal(fetchFrom(top.client, 'http://10.96.0.11/'), 'exit 7', 'no endpoints: refused at once');
      const stuck = new Set(Array.from({ length: 15 }, () => fetchFrom(top.client, 'http://10.96.0.12/')));
      t.equal(stuck.size, 1, `ClientIP affinity keeps the client on one pod (${[...stuck].join(', ')})`);
      t.match([...stuck][0], /^pod\d$/);
      // A pod reaching its own service lands on itself now and then: hairpin masquerade must make that work.
      const fromPod = Array.from({ length: 30 }, () => fetchFrom(top.pods[0]!, 'http://10.96.0.10/'));
      t.ok(
        fromPod.every((b) => /^pod\d$/.test(b)),
        `every request from pod0 answered (${fromPod.join(' ')})`,
      );
      t.ok(fromPod.includes('pod0'), 'including the ones that came back to pod0 itself');
    });
  }
}
