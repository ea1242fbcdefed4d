// The nft and netlink backends leave the same ruleset in the kernel for the same desired state, and the
// iptables backend's restore input is accepted; everything inside network namespaces this test creates.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { runInNetns } from '../../src/proxy/netns-apply.js';
import type { ServicePortState } from '../../src/proxy/types.js';
import { missingTools, withNetns } from '../lib/netns.js';
import { endpointState as ep, servicePortState } from '../lib/states.js';

const reason = missingTools('ip', 'nft', 'iptables-restore');
if (reason) {
  t.comment(`skipped: ${reason}`);
  t.pass(`skipped: ${reason}`);
} else {
  run();
}

function inNetns(ns: string, ...argv: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** `nft -j list table` without handles and with every list sorted, so hash-order differences don't matter. */
function normalizedTable(ns: string): unknown {
  const json = JSON.parse(inNetns(ns, 'nft', '-j', 'list', 'table', 'ip', 'skiff')) as { nftables: object[] };
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v))
        if (k !== 'handle') o[k] = k === 'elem' && Array.isArray(x) ? sortDeep(strip(x)) : strip(x);
      return o;
    }
    return v;
  };
  return sortDeep(json.nftables.filter((o) => !('metainfo' in o)).map(strip));
}

function sortDeep(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return [...v].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

const svc = (name: string, ip: string, eps: ReturnType<typeof ep>[], extra: Partial<ServicePortState> = {}) =>
  servicePortState(name, ip, eps, { portName: 'p', ...extra });

function steps(): [string, ServicePortState | null][][] {
  const local = ep('10.0.9.1', 8080, { local: true, nodeName: 'me' });
  const first = [
    svc('web', '10.96.0.10', [ep('10.0.1.1'), ep('10.0.1.2'), ep('10.0.1.3')]),
    svc('empty', '10.96.0.11', []),
    svc('lb', '10.96.0.12', [local, ep('10.0.1.4')], {
      nodePort: 30080,
      loadBalancerIPs: ['198.51.100.7'],
      externalIPs: ['192.0.2.5'],
      externalEndpoints: [local, ep('10.0.1.4')],
    }),
    svc('local', '10.96.0.13', [ep('10.0.1.5')], {
      nodePort: 30081,
      externalPolicyLocal: true,
      externalNoEndpoints: 'drop',
    }),
    svc('aff', '10.96.0.14', [ep('10.0.2.1'), ep('10.0.2.2'), ep('10.0.2.3')], { affinityTimeoutSeconds: 600 }),
    { ...svc('dns', '10.96.0.15', [ep('10.0.3.1', 53)]), key: 'ns/dns:p/udp', protocol: 'udp' as const, port: 53 },
  ];
  const second = [
    svc('web', '10.96.0.10', [ep('10.0.1.1'), ep('10.0.1.3')]),
    svc('empty', '10.96.0.11', [ep('10.0.1.9')]),
    svc('aff', '10.96.0.14', [ep('10.0.2.1'), ep('10.0.2.3'), ep('10.0.2.4')], { affinityTimeoutSeconds: 600 }),
  ];
  return [
    first.map((s) => [s.key, s]),
    [...second.map((s): [string, ServicePortState] => [s.key, s]), ['ns/local:p/tcp', null]],
  ];
}

function run(): void {
  t.test('nft -f and netlink leave the same ruleset', (t) =>
    withNetns(t, async (h) => {
      const viaNft = await h.add('nft');
      const viaNetlink = await h.add('netlink');
      const request = { nodeIPs: ['192.168.50.1'], clusterCIDRs: ['10.0.0.0/16'], steps: steps() };
      const [nftReports, netlinkReports] = await Promise.all([
        runInNetns(viaNft, { ...request, backend: 'nft' }),
        runInNetns(viaNetlink, { ...request, backend: 'netlink' }),
      ]);
      t.same(
        nftReports.map((r) => r.full),
        [true, false],
      );
      t.same(
        netlinkReports.map((r) => r.full),
        [true, false],
      );
      t.same(
        nftReports.map((r) => r.operations),
        netlinkReports.map((r) => r.operations),
        'same element operations',
      );
      const a = normalizedTable(viaNft);
      const b = normalizedTable(viaNetlink);
      t.same(b, a, 'identical `nft -j list table ip skiff`');
      const text = inNetns(viaNetlink, 'nft', 'list', 'map', 'ip', 'skiff', 'service-slots');
      t.match(
        text,
        /10\.96\.0\.10 \. tcp \. 80 \. 1 : 10\.0\.1\.3 \. 8080/,
        'the netlink-written slot is readable by nft',
      );
      t.notMatch(text, /10\.0\.1\.2 \. 8080/, 'the removed endpoint is gone');
      const services = inNetns(viaNetlink, 'nft', 'list', 'map', 'ip', 'skiff', 'service-nodeports');
      t.notMatch(services, /30081/, 'the deleted service port is gone');
      t.match(services, /tcp \. 30080 : goto np-rand-2/);
      // The slot maps' value type must not pin a protocol: nft compiles `typeof … : ip daddr . tcp dport` into an
      // implicit `meta l4proto tcp` match in every rule using the map, and UDP services would stop being DNATed.
      for (const chain of ['svc-rand-1', 'svc-hash-7', 'np-rand-2']) {
        const bytecode = inNetns(viaNetlink, 'nft', '--debug=netlink', 'list', 'chain', 'ip', 'skiff', chain);
        t.match(bytecode, /\[ nat dnat ip /, `${chain} compiles to a dnat`);
        t.notMatch(bytecode, /\[ cmp eq reg \d+ 0x00000006 \]/, `${chain} matches no protocol before the map lookup`);
      }
    }),
  );

  t.test('a second proxy start replaces what the first left (fresh table, same result)', (t) =>
    withNetns(t, async (h) => {
      const ns = await h.add('restart');
      const request = { nodeIPs: ['192.168.50.1'], steps: steps().slice(0, 1) };
      await runInNetns(ns, { ...request, backend: 'nft' });
      const first = normalizedTable(ns);
      await runInNetns(ns, { ...request, backend: 'netlink' });
      t.same(normalizedTable(ns), first);
    }),
  );

  t.test('iptables-restore accepts the iptables backend, and only changed chains are rewritten', (t) =>
    withNetns(t, async (h) => {
      const ns = await h.add('iptables');
      const reports = await runInNetns(ns, { backend: 'iptables', nodeIPs: ['192.168.50.1'], steps: steps() });
      t.same(
        reports.map((r) => r.full),
        [true, false],
      );
      const nat = inNetns(ns, 'iptables-save', '-t', 'nat');
      t.match(nat, /-A PREROUTING -j SKIFF-SERVICES/);
      t.match(
        nat,
        /-A SKIFF-SERVICES -d 10\.96\.0\.10\/32 -p tcp -m comment --comment "ns\/web:p" -m tcp --dport 80 -j SKIFF-SVC-/,
      );
      t.match(nat, /--to-destination 10\.0\.1\.9:8080/, 'the second step added the endpoint of "empty"');
      t.notMatch(nat, /--to-destination 10\.0\.1\.2:8080/, 'and removed a web endpoint');
      t.notMatch(nat, /ns\/local:p/, 'the deleted port left no rule');
      const filter = inNetns(ns, 'iptables-save', '-t', 'filter');
      t.notMatch(filter, /10\.96\.0\.11/, 'no reject for "empty" once it has an endpoint');
      t.ok(reports[1]!.operations < reports[0]!.operations, 'the second sync wrote fewer rules');
    }),
  );
}
