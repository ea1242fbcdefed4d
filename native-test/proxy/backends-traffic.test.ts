// Real packets through each backend: a client namespace reaches HTTP servers in pod namespaces through a ClusterIP,
// a NodePort, an empty service (rejected), ClientIP affinity and hairpin, with the rules programmed inside a "node"
// namespace. (P(no hairpin among 30 requests to 3 pods) = (2/3)^30 ≈ 5e-6.) Namespaces come from the lib harness.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { runInNetns, type BackendName } from '../../src/proxy/netns-apply.js';
import { missingTools, withNetns, type Netns } from '../lib/netns.js';
import { endpointState, servicePortState as svc } from '../lib/states.js';

const inNs = (ns: string, ...argv: string[]) =>
  execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Topology {
  node: string;
  client: string;
  pods: string[];
  podIPs: string[];
}

/** client 192.168.60.2 ── node 192.168.60.1 / 10.0.N.254 ── pod N at 10.0.N.1, each serving its name on :8080. */
async function topology(h: Netns, pods: number): Promise<Topology> {
  const node = await h.add('n');
  const client = await h.add('c');
  await h.sysctl(node, 'net.ipv4.ip_forward', '1');
  await h.veth(node, client, { addrA: '192.168.60.1/24', addrB: '192.168.60.2/24' });
  await h.ip(client, 'route', 'add', 'default', 'via', '192.168.60.1');
  const names: string[] = [];
  const podIPs: string[] = [];
  for (let i = 0; i < pods; i++) {
    const ns = await h.add(`p${i}`);
    await h.veth(node, ns, { addrA: `10.0.${i}.254/24`, addrB: `10.0.${i}.1/24` });
    await h.ip(ns, 'route', 'add', 'default', 'via', `10.0.${i}.254`);
    await h.httpServer(ns, '0.0.0.0', 8080, `pod${i}`); // answers every request with its name
    names.push(ns);
    podIPs.push(`10.0.${i}.1`);
  }
  return { node, client, pods: names, podIPs };
}

const ep = (ip: string) => endpointState(ip, 8080, { local: true, nodeName: 'node' });

/** curl from the client; returns the body, or the curl exit code as "exit N". */
function fetchFrom(ns: string, url: string): string {
  try {
    return inNs(ns, 'curl', '-s', '--max-time', '2', url);
  } catch (err) {
    return `exit ${(err as { status?: number }).status}`;
  }
}

const reason = missingTools('ip', 'nft', 'iptables-restore', 'curl');
if (reason) {
  t.comment(`skipped: ${reason}`);
  t.pass(`skipped: ${reason}`);
} else {
  for (const backend of ['netlink', 'nft', 'iptables'] as BackendName[]) {
    t.test(`${backend}: ClusterIP spread, NodePort, reject, ClientIP affinity, hairpin`, (t) =>
      withNetns(t, async (h) => {
        const top = await topology(h, 3);
        const web = svc('web', '10.96.0.10', top.podIPs.map(ep), {
          nodePort: 30080,
          externalEndpoints: top.podIPs.map(ep),
        });
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
      }),
    );
  }
}
