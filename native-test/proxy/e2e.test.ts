// End to end on the real kernel, per data plane: a node namespace programmed by skiff's proxy, pod namespaces
// serving HTTP, a client namespace routed through the node. ClusterIP spread, endpoint removal, NodePort,
// LoadBalancer IP, ClientIP affinity and cluster DNS; the root namespace must be untouched.
import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nativeSkipReason, run, withNetns, type Netns, type SpawnedProcess } from '../lib/netns.js';
import { tsNodeArgs } from '../lib/tsx.js';
import { rootDiff, snapshotRoot } from '../lib/rootcheck.js';
import { buildTopology, POD_SUBNET, SERVICE_CIDR, type Topology } from '../lib/topology.js';
import { podResolvConf, renderResolvConf } from '../../src/proxy/dns/resolvconf.js';
import { CHI2_CRITICAL_0_001, chiSquareUniform, holdConnections, httpLoad } from '../lib/load.js';

const proxyChild = fileURLToPath(new URL('../lib/fixtures/proxy-child.ts', import.meta.url));
const dnsChild = fileURLToPath(new URL('../lib/fixtures/dns-child.ts', import.meta.url));

t.setTimeout(900_000); // three data planes, each with bounded load phases

/** Every data plane the proxy offers; each must pass the same assertions. */
const BACKENDS = ['netlink', 'nft', 'iptables'] as const;
const PODS = 4;
const NODE = 'node-a';
const WEB_IP = '10.96.0.100';
const STICKY_IP = '10.96.0.101';
const DNS_IP = '10.96.0.10';
const LB_IP = '192.0.2.100';
const BRIEF_IP = '10.96.0.102';
const BRIEF_TIMEOUT = 3;
const NODE_PORT = 30080;

type Event = { kind: 'Service' | 'EndpointSlice'; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: object };

function slice(ns: string, name: string, svc: string, ips: string[], ports: object[]): object {
  return {
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true }, nodeName: NODE })),
    ports,
  };
}

/** A ClusterIP Service (port 80 → the pods' port) with ClientIP affinity and the given timeout. */
function affinityService(name: string, ip: string, timeoutSeconds: number, podPort: number): Event {
  return {
    kind: 'Service',
    type: 'ADDED',
    object: {
      metadata: { namespace: 'default', name },
      spec: {
        clusterIP: ip,
        clusterIPs: [ip],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds } },
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: podPort }],
      },
    },
  };
}

function clusterObjects(topo: Topology): Event[] {
  const podIPs = topo.pods.map((p) => p.ip);
  const httpPort = [{ name: 'http', protocol: 'TCP', port: topo.podPort }];
  return [
    {
      kind: 'Service',
      type: 'ADDED',
      object: {
        metadata: { namespace: 'default', name: 'web' },
        spec: {
          type: 'LoadBalancer',
          clusterIP: WEB_IP,
          clusterIPs: [WEB_IP],
          ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: topo.podPort, nodePort: NODE_PORT }],
        },
        status: { loadBalancer: { ingress: [{ ip: LB_IP }] } },
      },
    },
    { kind: 'EndpointSlice', type: 'ADDED', object: slice('default', 'web-1', 'web', podIPs, httpPort) },
    affinityService('sticky', STICKY_IP, 10800, topo.podPort),
    { kind: 'EndpointSlice', type: 'ADDED', object: slice('default', 'sticky-1', 'sticky', podIPs, httpPort) },
    affinityService('brief', BRIEF_IP, BRIEF_TIMEOUT, topo.podPort),
    { kind: 'EndpointSlice', type: 'ADDED', object: slice('default', 'brief-1', 'brief', podIPs, httpPort) },
    {
      kind: 'Service',
      type: 'ADDED',
      object: {
        metadata: { namespace: 'kube-system', name: 'kube-dns' },
        spec: {
          clusterIP: DNS_IP,
          clusterIPs: [DNS_IP],
          ports: [
            { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
            { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 },
          ],
        },
      },
    },
    {
      kind: 'EndpointSlice',
      type: 'ADDED',
      object: slice(
        'kube-system',
        'kube-dns-1',
        'kube-dns',
        [topo.nodePodIP],
        [
          { name: 'dns', protocol: 'UDP', port: 53 },
          { name: 'dns-tcp', protocol: 'TCP', port: 53 },
        ],
      ),
    },
  ];
}

type JsonValue = string | number | { concat: (string | number)[] } | { elem: { val: JsonValue; timeout?: number } };

/** The kernel's @affinity map in the node: "client vip proto port" → endpoint "ip:port" and timeout (s). */
async function affinityEntries(h: Netns, node: string): Promise<Map<string, { target: string; timeout?: number }>> {
  const out = await h.mustExec(node, 'nft', ['-j', 'list', 'map', 'ip', 'skiff', 'affinity']);
  const json = JSON.parse(out) as { nftables: { map?: { elem?: [JsonValue, JsonValue][] } }[] };
  const text = (v: JsonValue, sep: string): string =>
    typeof v !== 'object' ? String(v) : 'elem' in v ? text(v.elem.val, sep) : v.concat.join(sep);
  const entries = new Map<string, { target: string; timeout?: number }>();
  for (const o of json.nftables) {
    for (const [k, v] of o.map?.elem ?? []) {
      const timeout = typeof k === 'object' && 'elem' in k ? k.elem.timeout : undefined;
      entries.set(text(k, ' '), { target: text(v, ':'), ...(timeout !== undefined ? { timeout } : {}) });
    }
  }
  return entries;
}

/** Drives the proxy child: events in, "sync" out, waiting for its report. */
class ProxyDriver {
  private syncs = 0;
  constructor(readonly proc: SpawnedProcess) {}
  send(events: Event[]): void {
    for (const e of events) this.proc.child.stdin!.write(JSON.stringify(e) + '\n');
  }
  /** Waits until the proxy has every event in the kernel; returns its report and every failed attempt so far. */
  async sync(): Promise<{ report: string; failures: string[] }> {
    const n = ++this.syncs;
    this.proc.child.stdin!.write('{"op":"sync"}\n');
    const line = await this.proc.waitFor(new RegExp(`synced ${n} .*\\n`), 60_000);
    return { report: line.trim(), failures: this.proc.output().match(/^syncfail .*$/gm) ?? [] };
  }
}

async function startNode(
  h: Netns,
  topo: Topology,
  backend: string,
): Promise<{ proxy: ProxyDriver; dns: SpawnedProcess }> {
  const proc = h.spawn(
    topo.node,
    process.execPath,
    tsNodeArgs(proxyChild, backend, NODE, SERVICE_CIDR, topo.nodeIP, POD_SUBNET),
  );
  await proc.waitFor(/ready \S+/, 30_000);
  const dns = h.spawn(topo.node, process.execPath, tsNodeArgs(dnsChild, topo.nodePodIP, '53', ''));
  await dns.waitFor(/ready 53/, 30_000);
  return { proxy: new ProxyDriver(proc), dns };
}

const skip =
  nativeSkipReason() ?? ((await run('dig', ['-v'])).code !== 0 ? 'dig (dnsutils) is not installed' : undefined);
if (skip) {
  t.pass(`skipped: ${skip}`);
} else {
  const before = await snapshotRoot();
  for (const backend of BACKENDS) {
    t.test(`data plane ${backend}`, (t) =>
      withNetns(t, async (h) => {
        const topo = await buildTopology(h, { pods: PODS });
        const { proxy, dns } = await startNode(h, topo, backend);
        const events = clusterObjects(topo);
        proxy.send(events);
        const first = await proxy.sync();
        t.comment(first.report);
        t.same(first.failures, [], 'the initial sync succeeded at the first attempt');
        let dnsApplied = 0;
        for (const e of events) {
          dns.child.stdin!.write(JSON.stringify(e) + '\n');
          dnsApplied++;
        }
        await dns.waitFor(new RegExp(`applied ${dnsApplied}\\b`));
        const podNames = topo.pods.map((p) => p.name);

        await t.test('ClusterIP spreads 3,000 new connections evenly over the pods', async (t) => {
          const r = await httpLoad(h, topo.client, `http://${WEB_IP}/`, {
            count: 3000,
            concurrency: 8,
            deadlineMs: 180_000,
          });
          t.equal(r.sent, 3000, 'all requests sent before the deadline');
          t.equal(r.errors, 0, `no errors ${r.errorSamples.join('; ')}`);
          t.same(Object.keys(r.counts).sort(), podNames, 'every pod answered, nothing else did');
          const observed = podNames.map((n) => r.counts[n] ?? 0);
          const chi2 = chiSquareUniform(observed);
          const critical = CHI2_CRITICAL_0_001[PODS - 1]!;
          t.comment(
            `counts ${JSON.stringify(r.counts)}; chi-square ${chi2.toFixed(2)} (df ${PODS - 1}, critical ${critical} at 0.001)`,
          );
          t.ok(chi2 < critical, `uniform at significance 0.001: chi2 ${chi2.toFixed(2)} < ${critical}`);
        });

        await t.test('ClientIP affinity keeps each client on one backend', async (t) => {
          await h.ip(topo.client, 'addr', 'add', '10.241.0.3/24', 'dev', topo.clientIf);
          for (const localAddress of [topo.clientIP, '10.241.0.3']) {
            const r = await httpLoad(h, topo.client, `http://${STICKY_IP}/`, {
              count: 200,
              concurrency: 4,
              deadlineMs: 60_000,
              localAddress,
            });
            t.equal(r.errors, 0, `no errors ${r.errorSamples.join('; ')}`);
            t.equal(Object.keys(r.counts).length, 1, `${localAddress} stuck to ${JSON.stringify(r.counts)}`);
            t.equal(Object.values(r.counts)[0], 200);
          }
        });

        await t.test(
          'ClientIP affinity: removing the endpoint a client sticks to moves it, nothing fails',
          async (t) => {
            const first = await httpLoad(h, topo.client, `http://${STICKY_IP}/`, {
              count: 20,
              concurrency: 2,
              deadlineMs: 60_000,
              localAddress: topo.clientIP,
            });
            const stuck = topo.pods.find((p) => first.counts[p.name] === 20);
            t.ok(stuck, `the client sticks to one pod: ${JSON.stringify(first.counts)}`);
            if (!stuck) return;
            if (backend !== 'iptables') {
              const entries = await affinityEntries(h, topo.node);
              t.equal(entries.get(`${topo.clientIP} ${STICKY_IP} tcp 80`)?.target, `${stuck.ip}:${topo.podPort}`);
            }
            const rest = topo.pods.filter((p) => p !== stuck).map((p) => p.ip);
            proxy.send([
              {
                kind: 'EndpointSlice',
                type: 'MODIFIED',
                object: slice('default', 'sticky-1', 'sticky', rest, [
                  { name: 'http', protocol: 'TCP', port: topo.podPort },
                ]),
              },
            ]);
            const synced = await proxy.sync();
            t.same(synced.failures, [], 'the incremental sync succeeded at the first attempt');
            if (backend !== 'iptables') {
              const entries = await affinityEntries(h, topo.node);
              t.notOk(entries.has(`${topo.clientIP} ${STICKY_IP} tcp 80`), 'the stale affinity entry was deleted');
            }
            const after = await httpLoad(h, topo.client, `http://${STICKY_IP}/`, {
              count: 20,
              concurrency: 2,
              deadlineMs: 60_000,
              localAddress: topo.clientIP,
            });
            t.equal(after.errors, 0, `no errors ${after.errorSamples.join('; ')}`);
            t.equal(after.counts[stuck.name] ?? 0, 0, 'nothing goes to the removed endpoint');
            t.equal(Object.keys(after.counts).length, 1, `sticks to one other pod: ${JSON.stringify(after.counts)}`);
          },
        );

        await t.test('ClientIP affinity timeout: the kernel forgets a client after timeoutSeconds', async (t) => {
          if (backend === 'iptables') {
            // iptables keeps clients in `-m recent` lists checked with `--seconds <timeout>`.
            const nat = await h.mustExec(topo.node, 'iptables-save', ['-t', 'nat']);
            t.match(nat, new RegExp(`--rcheck --seconds ${BRIEF_TIMEOUT} --reap`), 'recent check uses the timeout');
            return;
          }
          const r = await httpLoad(h, topo.client, `http://${BRIEF_IP}/`, {
            count: 5,
            concurrency: 1,
            deadlineMs: 30_000,
            localAddress: topo.clientIP,
          });
          t.equal(r.errors, 0);
          const key = `${topo.clientIP} ${BRIEF_IP} tcp 80`;
          const entry = (await affinityEntries(h, topo.node)).get(key);
          t.ok(entry, 'a connection records the client');
          t.ok(entry && entry.timeout === BRIEF_TIMEOUT, `with the service's timeout (${JSON.stringify(entry)})`);
          // Bounded wait: the entry must be gone once its timeout passed (polls for at most 3 × the timeout).
          let gone = false;
          for (let i = 0; i < BRIEF_TIMEOUT * 6 && !gone; i++) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            gone = !(await affinityEntries(h, topo.node)).has(key);
          }
          t.ok(gone, `expired after ${BRIEF_TIMEOUT} s without traffic`);
        });

        await t.test('NodePort reached from outside the node', async (t) => {
          const r = await httpLoad(h, topo.client, `http://${topo.nodeIP}:${NODE_PORT}/`, {
            count: 200,
            concurrency: 4,
            deadlineMs: 60_000,
          });
          t.equal(r.errors, 0, `no errors ${r.errorSamples.join('; ')}`);
          t.equal(r.sent, 200);
          t.ok(Object.keys(r.counts).length >= 2, `spread over ${JSON.stringify(r.counts)}`);
          t.ok(Object.keys(r.counts).every((k) => podNames.includes(k)));
        });

        await t.test('LoadBalancer IP works from outside and from the node itself', async (t) => {
          const r = await httpLoad(h, topo.client, `http://${LB_IP}/`, {
            count: 200,
            concurrency: 4,
            deadlineMs: 60_000,
          });
          t.equal(r.errors, 0, `no errors ${r.errorSamples.join('; ')}`);
          t.ok(Object.keys(r.counts).length >= 2, `spread over ${JSON.stringify(r.counts)}`);
          t.match(
            await h.ip(topo.node, '-o', 'addr', 'show', 'dev', 'skiff-lb'),
            LB_IP,
            'LB IP on the holder interface',
          );
          for (const url of [`http://${LB_IP}/`, `http://${WEB_IP}/`]) {
            const c = await h.exec(topo.node, 'curl', ['-s', '--max-time', '5', url]);
            t.ok(podNames.includes(c.stdout), `node-local ${url} answered by a pod (${c.stdout || c.stderr})`);
          }
        });

        await t.test('dig resolves the service name through cluster DNS in the node namespace', async (t) => {
          const dig = async (...args: string[]) =>
            (await h.mustExec(topo.client, 'dig', ['+short', '+time=2', '+tries=2', ...args])).trim();
          t.equal(await dig(`@${topo.nodePodIP}`, 'web.default.svc.cluster.local'), WEB_IP);
          t.equal(await dig(`@${DNS_IP}`, 'web.default.svc.cluster.local'), WEB_IP, 'via the kube-dns ClusterIP (UDP)');
          t.equal(await dig(`@${DNS_IP}`, '+tcp', 'sticky.default.svc.cluster.local'), STICKY_IP, 'kube-dns over TCP');
          t.equal(
            await dig(`@${DNS_IP}`, 'SRV', '_http._tcp.web.default.svc.cluster.local'),
            '0 100 80 web.default.svc.cluster.local.',
          );
          // A pod's resolv.conf as kubelet writes it (nameserver = the kube-dns ClusterIP); `ip netns exec`
          // bind-mounts /etc/netns/<ns>/resolv.conf, so the client resolves like a pod in "default".
          const etc = `/etc/netns/${topo.client}`;
          mkdirSync(etc, { recursive: true });
          t.teardown(() => rmSync(etc, { recursive: true, force: true }));
          const conf = renderResolvConf(podResolvConf({ namespace: 'default', clusterDNS: [DNS_IP] }));
          writeFileSync(`${etc}/resolv.conf`, conf);
          t.equal(await dig('+search', 'web'), WEB_IP, 'short name through the search path and the ClusterIP');
          const getent = await h.mustExec(topo.client, 'getent', ['ahostsv4', 'sticky']);
          t.ok(
            getent.split('\n').some((l) => l.startsWith(`${STICKY_IP} `)),
            `glibc with ndots:5 resolves "sticky"`,
          );
          const body = await h.exec(topo.client, 'curl', ['-s', '--max-time', '5', 'http://web/']);
          t.ok(
            podNames.includes(body.stdout),
            `curl http://web/ reaches a pod by name (${body.stdout || body.stderr})`,
          );
        });

        await t.test('a removed endpoint gets no new connections; existing ones keep working', async (t) => {
          const held = await holdConnections(h, topo.client, WEB_IP, 80, 24);
          t.ok(
            held.first.every((b) => podNames.includes(b)),
            `held connections answered: ${held.first.join(',')}`,
          );
          const gone = topo.pods[0]!;
          const remaining = topo.pods.slice(1).map((p) => p.ip);
          proxy.send([
            {
              kind: 'EndpointSlice',
              type: 'MODIFIED',
              object: slice('default', 'web-1', 'web', remaining, [
                { name: 'http', protocol: 'TCP', port: topo.podPort },
              ]),
            },
          ]);
          const second = await proxy.sync();
          t.comment(second.report);
          // The runner heals a failed incremental sync with a full rebuild; that is still a failure to report.
          t.same(second.failures, [], 'the incremental sync succeeded at the first attempt');
          const r = await httpLoad(h, topo.client, `http://${WEB_IP}/`, {
            count: 600,
            concurrency: 8,
            deadlineMs: 90_000,
          });
          t.equal(r.errors, 0, `no errors ${r.errorSamples.join('; ')}`);
          t.equal(r.counts[gone.name] ?? 0, 0, `${gone.name} got no new connection: ${JSON.stringify(r.counts)}`);
          t.equal(Object.keys(r.counts).length, PODS - 1);
          const again = await held.round();
          for (let i = 0; i < held.first.length; i++) {
            if (held.first[i] === gone.name) continue;
            t.equal(again[i], held.first[i], `held connection ${i} still served by ${held.first[i]}`);
          }
          const toGone = held.first.filter((b) => b === gone.name).length;
          t.comment(
            `${toGone} held connection(s) were on ${gone.name}; after removal they answered: ${again.filter((_, i) => held.first[i] === gone.name).join(',') || '-'}`,
          );
        });
      }),
    );
  }
  t.test('the root namespace is untouched', async (t) => {
    const after = await snapshotRoot();
    t.same(rootDiff(before, after), [], 'nft ruleset, iptables, routes, rules, links and addresses unchanged');
  });
}
