// nftables: transaction rendering, the fake table, and the data plane's transactions checked against the fake.
import t from 'tap';
import { Transaction } from '../../src/proxy/nftables/transaction.js';
import { FakeTable } from '../../src/proxy/nftables/fake.js';
import { FakeBackend, type NftBackend } from '../../src/proxy/nftables/backend.js';
import { NftablesDataPlane } from '../../src/proxy/nftables/dataplane.js';
import { TableBuilder } from '../../src/proxy/lb/tables.js';
import { staleFlowFilters } from '../../src/proxy/conntrack.js';
import type { EndpointState } from '../../src/proxy/types.js';
import { endpointState, servicePortState } from '../../native-test/lib/states.js';

t.test('a transaction renders nft -f text, grouping element runs', async (t) => {
  const tx = new Transaction('ip', 'skiff');
  tx.add({ kind: 'table' })
    .add({ kind: 'chain', name: 'pre', type: 'nat', hook: 'prerouting', priority: -100 })
    .add({ kind: 'chain', name: 'c' })
    .add({ kind: 'rule', chain: 'pre', rule: 'jump c' })
    .add({ kind: 'map', name: 'm', key: ['ipv4_addr', 'inet_proto', 'inet_service'], value: 'verdict' })
    .add({ kind: 'element', set: 'm', key: ['10.0.0.1', 'tcp', '80'], value: 'goto c' })
    .add({ kind: 'element', set: 'm', key: ['10.0.0.2', 'tcp', '80'], value: 'drop' })
    .delete({ kind: 'element', set: 'm', key: ['10.0.0.3', 'udp', '53'] })
    .flush({ kind: 'chain', name: 'c' });
  t.equal(
    tx.render(),
    [
      'add table ip skiff',
      'add chain ip skiff pre { type nat hook prerouting priority -100 ; policy accept ; }',
      'add chain ip skiff c',
      'add rule ip skiff pre jump c',
      'add map ip skiff m { type ipv4_addr . inet_proto . inet_service : verdict ; }',
      'add element ip skiff m { 10.0.0.1 . tcp . 80 : goto c, 10.0.0.2 . tcp . 80 : drop }',
      'delete element ip skiff m { 10.0.0.3 . udp . 53 }',
      'flush chain ip skiff c',
      '',
    ].join('\n'),
  );
  t.equal(tx.size, 9);
  t.throws(() => tx.add({ kind: 'chain', name: 'bad name' }), /invalid nftables chain name/);
  t.throws(() => tx.add({ kind: 'chain', name: 'x', hook: 'input' }), /base chain/);
  t.throws(() => tx.add({ kind: 'set', name: 's', key: ['integer'] }), /typeof/);
  t.throws(() => tx.add({ kind: 'element', set: 'm', key: ['1.2.3.4 ; flush ruleset'] }), /invalid element key/);
  t.throws(() => tx.add({ kind: 'rule', chain: 'c', rule: 'accept\nflush ruleset' }), /invalid rule/);
});

t.test('the fake applies all or nothing and refuses what the kernel refuses', async (t) => {
  const fake = new FakeTable('ip', 'skiff');
  const setup = new Transaction('ip', 'skiff')
    .add({ kind: 'table' })
    .add({ kind: 'chain', name: 'c' })
    .add({ kind: 'map', name: 'm', key: ['ipv4_addr', 'inet_service'], value: ['ipv4_addr', 'inet_service'] });
  fake.apply(setup);
  const bad = new Transaction('ip', 'skiff')
    .add({ kind: 'element', set: 'm', key: ['10.0.0.1', '80'], value: ['10.1.0.1', '8080'] })
    .add({ kind: 'rule', chain: 'c', rule: 'ip daddr @missing accept' });
  t.throws(() => fake.apply(bad), /missing set missing/);
  t.equal(fake.elements('m').size, 0, 'the element of the failed transaction is not there');
  fake.apply(
    new Transaction('ip', 'skiff').add({
      kind: 'element',
      set: 'm',
      key: ['10.0.0.1', '80'],
      value: ['10.1.0.1', '8080'],
    }),
  );
  t.equal(fake.lookup('m', ['10.0.0.1', '080']), '10.1.0.1 . 8080', 'keys compare canonically');
  t.throws(
    () =>
      fake.apply(
        new Transaction('ip', 'skiff').add({
          kind: 'element',
          set: 'm',
          key: ['10.0.0.1', '80'],
          value: ['10.1.0.2', '8080'],
        }),
      ),
    /EBUSY/,
    'a map element cannot change value without a delete',
  );
  t.throws(
    () => fake.apply(new Transaction('ip', 'skiff').delete({ kind: 'element', set: 'm', key: ['10.0.0.9', '80'] })),
    /ENOENT/,
  );
  t.throws(
    () =>
      fake.apply(
        new Transaction('ip', 'skiff').add({
          kind: 'element',
          set: 'm',
          key: ['10.0.0.300', '80'],
          value: ['1.1.1.1', '1'],
        }),
      ),
    /EINVAL/,
  );
  const vmap = new Transaction('ip', 'skiff')
    .add({ kind: 'map', name: 'v', key: ['inet_service'], value: 'verdict' })
    .add({ kind: 'element', set: 'v', key: ['80'], value: 'goto nowhere' });
  t.throws(() => fake.apply(vmap), /no chain nowhere/);
  fake.apply(new Transaction('ip', 'skiff').add({ kind: 'rule', chain: 'c', rule: 'ip daddr . th dport @m accept' }));
  t.throws(
    () =>
      fake.apply(
        new Transaction('ip', 'skiff').delete({
          kind: 'map',
          name: 'm',
          key: ['ipv4_addr', 'inet_service'],
          value: ['ipv4_addr', 'inet_service'],
        }),
      ),
    /in use/,
  );
  t.match(
    fake.dump(),
    /map m \{\n\t\ttype ipv4_addr . inet_service : ipv4_addr . inet_service\n\t\telements = \{ 10.0.0.1 . 80 : 10.1.0.1 . 8080 \}/,
  );
});

// ---- the data plane against the fake ----

const endpoint = endpointState;
const port = servicePortState;

/**
 * Follows a new connection through the fake's maps the way the kernel would: the VIP's verdict, then the dispatch
 * chain's rule (its modulus and map read from the rule text), then every slot. Returns endpoint → slot count, or
 * the verdict for a VIP without endpoints.
 */
function trace(
  fake: FakeTable,
  daddr: string,
  proto: string,
  dport: number,
  nodePort = false,
): Map<string, number> | string {
  const key = nodePort ? [proto, String(dport)] : [daddr, proto, String(dport)];
  const verdict = fake.lookup(nodePort ? 'service-nodeports' : 'service-ips', key);
  if (!verdict) {
    const none = fake.lookup(nodePort ? 'no-endpoint-nodeports' : 'no-endpoint-services', key);
    return none ?? 'no match';
  }
  const chain = /^goto (\S+)$/.exec(verdict)![1]!;
  // The slot pick is the chain's last rule (affinity chains look @affinity up first).
  const rule = fake.rules(chain).at(-1);
  const m = /(?:numgen random|jhash ip saddr) mod (\d+)(?: seed 0x[0-9a-f]+)? map @(\S+)/.exec(rule!);
  if (!m) throw new Error(`unexpected dispatch rule ${rule}`);
  const counts = new Map<string, number>();
  for (let slot = 0; slot < Number(m[1]); slot++) {
    const target = fake.lookup(m[2]!, [...key, String(slot)]);
    if (!target) throw new Error(`slot ${slot} of ${key.join(' . ')} is empty`);
    counts.set(target, (counts.get(target) ?? 0) + 1);
  }
  return counts;
}

function newPlane(backend: NftBackend = new FakeBackend(), extra = {}) {
  return new NftablesDataPlane({
    backend,
    nodeIPs: ['192.168.1.10'],
    tables: new TableBuilder({ threads: 0 }),
    ...extra,
  });
}

t.test('ClusterIP services dispatch evenly to their endpoints; empty ones reject', async (t) => {
  const backend = new FakeBackend();
  const plane = newPlane(backend);
  const web = port('web', '10.96.0.10', [endpoint('10.0.1.1'), endpoint('10.0.1.2'), endpoint('10.0.1.3')]);
  const empty = port('empty', '10.96.0.11', []);
  const report = await plane.sync(
    new Map([
      [web.key, web],
      [empty.key, empty],
    ]),
  );
  t.ok(report.full, 'the first sync builds the table');
  const fake = backend.table;
  t.same(
    trace(fake, '10.96.0.10', 'tcp', 80),
    new Map([
      ['10.0.1.1 . 8080', 1],
      ['10.0.1.2 . 8080', 1],
      ['10.0.1.3 . 8080', 1],
    ]),
    'one slot per endpoint: an exact spread',
  );
  t.equal(trace(fake, '10.96.0.11', 'tcp', 80), 'goto reject-chain');
  t.same(fake.rules('reject-chain'), ['reject']);
  t.same(fake.rules('svc-rand-3'), [
    'dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 3 map @service-slots',
  ]);
  t.same([...fake.elements('nodeport-ips').keys()], ['192.168.1.10']);
  t.equal(fake.elements('hairpin').size, 0, 'endpoints on other nodes cannot hairpin');
});

t.test('an endpoint change is a handful of element operations, and equals a fresh build', async (t) => {
  const backend = new FakeBackend();
  const plane = newPlane(backend);
  const many = Array.from({ length: 50 }, (_, i) =>
    port(`svc${i}`, `10.96.1.${i}`, [endpoint(`10.0.2.${i}`), endpoint(`10.0.3.${i}`)]),
  );
  await plane.sync(new Map(many.map((p) => [p.key, p])));
  const changed = port('svc7', '10.96.1.7', [endpoint('10.0.2.7'), endpoint('10.0.3.7'), endpoint('10.0.4.7')]);
  const report = await plane.sync(new Map([[changed.key, changed]]));
  t.notOk(report.full);
  const tx = backend.applied.at(-1)!;
  t.ok(tx.size <= 12, `small transaction: ${tx.size} operations`);
  t.ok(
    tx.operations.every((o) => o.object.kind !== 'rule' || o.object.chain === 'svc-rand-3'),
    'no service rules, only a new size chain',
  );
  t.equal((trace(backend.table, '10.96.1.7', 'tcp', 80) as Map<string, number>).size, 3);

  // The same desired state built from scratch gives the same table.
  const fresh = new FakeBackend();
  const plane2 = newPlane(fresh);
  await plane2.sync(new Map(many.map((p) => [p.key, p.key === changed.key ? changed : p])));
  t.equal(backend.table.dump(), fresh.table.dump(), 'incremental = full');

  // Removing services removes every element they contributed.
  await plane.sync(new Map(many.map((p) => [p.key, null])));
  for (const set of ['service-ips', 'service-slots', 'no-endpoint-services', 'hairpin']) {
    t.equal(backend.table.elements(set).size, 0, `${set} is empty`);
  }
});

t.test('NodePort, LoadBalancer and external IPs; Local policy; masquerade sets', async (t) => {
  const backend = new FakeBackend();
  const plane = newPlane(backend);
  const local = endpoint('10.0.5.1', 8080, { local: true, nodeName: 'me' });
  const remote = endpoint('10.0.5.2');
  const lb = port('lb', '10.96.2.1', [local, remote], {
    nodePort: 30080,
    loadBalancerIPs: ['198.51.100.7'],
    externalIPs: ['192.0.2.5'],
    externalEndpoints: [local, remote],
  });
  const onlyLocal = port('loc', '10.96.2.2', [local, remote], {
    nodePort: 30081,
    loadBalancerIPs: ['198.51.100.8'],
    externalPolicyLocal: true,
    externalEndpoints: [local],
  });
  const noneHere = port('none', '10.96.2.3', [remote], {
    nodePort: 30082,
    externalPolicyLocal: true,
    externalEndpoints: [],
    externalNoEndpoints: 'drop',
  });
  await plane.sync(new Map([lb, onlyLocal, noneHere].map((p) => [p.key, p])));
  const fake = backend.table;
  const both = new Map([
    ['10.0.5.1 . 8080', 1],
    ['10.0.5.2 . 8080', 1],
  ]);
  t.same(trace(fake, '198.51.100.7', 'tcp', 80), both);
  t.same(trace(fake, '192.0.2.5', 'tcp', 80), both);
  t.same(trace(fake, '', 'tcp', 30080, true), both);
  t.same(trace(fake, '', 'tcp', 30081, true), new Map([['10.0.5.1 . 8080', 1]]), 'Local: only this node');
  t.same(trace(fake, '10.96.2.2', 'tcp', 80), both, 'ClusterIP of a Local service still uses all');
  t.equal(trace(fake, '', 'tcp', 30082, true), 'drop', 'Local with no local endpoint drops');
  t.same([...fake.elements('external-masq').keys()].sort(), ['192.0.2.5 . tcp . 80', '198.51.100.7 . tcp . 80']);
  t.same([...fake.elements('nodeport-masq').keys()], ['tcp . 30080'], 'Local keeps the client address');
  t.same([...fake.elements('hairpin').keys()], ['10.0.5.1 . 10.0.5.1'], 'only the local endpoint can hairpin');
});

t.test('ClientIP affinity uses jhash over a Maglev table', async (t) => {
  const backend = new FakeBackend();
  const plane = newPlane(backend);
  const eps = Array.from({ length: 5 }, (_, i) => endpoint(`10.0.6.${i + 1}`));
  const aff = port('aff', '10.96.3.1', eps, { affinityTimeoutSeconds: 10800 });
  await plane.sync(new Map([[aff.key, aff]]));
  const counts = trace(backend.table, '10.96.3.1', 'tcp', 80) as Map<string, number>;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  t.ok(total >= 40, `M=${total} ≥ 8 per endpoint`);
  t.equal(counts.size, 5);
  const [remembered, rule] = backend.table.rules(`svc-hash-${total}`);
  t.equal(remembered, 'dnat ip to ip saddr . ip daddr . meta l4proto . th dport map @affinity', 'known clients first');
  t.match(rule, /jhash ip saddr mod \d+ seed 0x736b6966 map @service-slots/);
  t.ok(Math.max(...counts.values()) - Math.min(...counts.values()) <= 1, 'Maglev shares differ by at most one slot');
});

t.test('ClientIP affinity timeout: recorded per VIP with the service timeout; stale entries are deleted', async (t) => {
  const backend = new FakeBackend();
  const plane = newPlane(backend);
  const eps = ['10.0.6.1', '10.0.6.2', '10.0.6.3'].map((ip) => endpoint(ip));
  const aff = port('aff', '10.96.3.1', eps, { affinityTimeoutSeconds: 60, nodePort: 30090, externalEndpoints: eps });
  const web = port('web', '10.96.3.2', [endpoint('10.0.7.1')]);
  await plane.sync(
    new Map([
      [aff.key, aff],
      [web.key, web],
    ]),
  );
  t.same(
    [...backend.table.elements('affinity-services')].sort(),
    [
      ['10.96.3.1 . tcp . 80', 'goto aff-60'],
      ['192.168.1.10 . tcp . 30090', 'goto aff-60'],
    ],
    'the ClusterIP and the NodePort on the node address record affinity; the plain service does not',
  );
  t.same(backend.table.rules('aff-60'), [
    'meta l4proto tcp update @affinity { ip saddr . ct original ip daddr . meta l4proto . ct original proto-dst timeout 60s : ip daddr . th dport }',
    'meta l4proto udp update @affinity { ip saddr . ct original ip daddr . meta l4proto . ct original proto-dst timeout 60s : ip daddr . th dport }',
    'meta l4proto sctp update @affinity { ip saddr . ct original ip daddr . meta l4proto . ct original proto-dst timeout 60s : ip daddr . th dport }',
  ]);
  t.ok(
    backend.table.rules('affinity-record').every((r) => r.endsWith('vmap @affinity-services')),
    'new DNATed connections are looked up by their original destination',
  );

  // What the packet path would have recorded for three clients.
  const packetPath = new Transaction('ip', 'skiff');
  const recorded: [string, string][] = [
    ['10.241.0.2 . 10.96.3.1 . tcp . 80', '10.0.6.2 . 8080'],
    ['10.241.0.3 . 10.96.3.1 . tcp . 80', '10.0.6.1 . 8080'],
    ['10.241.0.2 . 192.168.1.10 . tcp . 30090', '10.0.6.2 . 8080'],
  ];
  for (const [key, value] of recorded) {
    packetPath.add({ kind: 'element', set: 'affinity', key: key.split(' . '), value: value.split(' . ') });
  }
  await backend.apply(packetPath);

  // Adding an endpoint keeps every client where it is.
  const grown = port('aff', '10.96.3.1', [...eps, endpoint('10.0.6.4')], {
    affinityTimeoutSeconds: 60,
    nodePort: 30090,
    externalEndpoints: [...eps, endpoint('10.0.6.4')],
  });
  await plane.sync(new Map([[grown.key, grown]]));
  t.equal(backend.table.elements('affinity').size, 3, 'no entry deleted when no endpoint went away');

  // Removing 10.0.6.2 forgets exactly the clients sent there, on every VIP of the service.
  const shrunk = port('aff', '10.96.3.1', [eps[0]!, eps[2]!, endpoint('10.0.6.4')], {
    affinityTimeoutSeconds: 60,
    nodePort: 30090,
    externalEndpoints: [eps[0]!, eps[2]!, endpoint('10.0.6.4')],
  });
  await plane.sync(new Map([[shrunk.key, shrunk]]));
  t.same([...backend.table.elements('affinity').keys()], ['10.241.0.3 . 10.96.3.1 . tcp . 80']);

  // Deleting the service forgets the rest.
  await plane.sync(new Map([[shrunk.key, null]]));
  t.equal(backend.table.elements('affinity').size, 0);
  t.equal(backend.table.elements('affinity-services').size, 0);
});

t.test('clusterCIDRs add the off-cluster masquerade rule and the cluster-ips set', async (t) => {
  const backend = new FakeBackend();
  const plane = newPlane(backend, { clusterCIDRs: ['10.0.0.0/16'] });
  const web = port('web', '10.96.0.10', [endpoint('10.0.1.1')]);
  await plane.sync(new Map([[web.key, web]]));
  t.ok(backend.table.rules('services').some((r) => r.includes('ip saddr != { 10.0.0.0/16 }')));
  t.same([...backend.table.elements('cluster-ips').keys()], ['10.96.0.10']);
});

t.test('after a failed apply the next sync rebuilds everything', async (t) => {
  const fake = new FakeBackend();
  let fail = false;
  const flaky: NftBackend = {
    kind: 'fake',
    apply: async (tx) => {
      if (fail) throw new Error('kernel said no');
      await fake.apply(tx);
    },
    listMap: (family, table, map) => fake.listMap(family, table, map),
    close: async () => {},
  };
  const plane = newPlane(flaky);
  const a = port('a', '10.96.4.1', [endpoint('10.0.7.1')]);
  await plane.sync(new Map([[a.key, a]]));
  fail = true;
  const b = port('b', '10.96.4.2', [endpoint('10.0.7.2')]);
  await t.rejects(plane.sync(new Map([[b.key, b]])), /kernel said no/);
  fail = false;
  const c = port('c', '10.96.4.3', [endpoint('10.0.7.3')]);
  const report = await plane.sync(new Map([[c.key, c]]));
  t.ok(report.full, 'full resync');
  for (const [ip, ep] of [
    ['10.96.4.1', '10.0.7.1'],
    ['10.96.4.2', '10.0.7.2'],
    ['10.96.4.3', '10.0.7.3'],
  ] as const) {
    t.same(trace(fake.table, ip, 'tcp', 80), new Map([[`${ep} . 8080`, 1]]), `${ip} served`);
  }
});

t.test('stale UDP flows: removed endpoints and the first endpoint of an empty service', async (t) => {
  const udp = (eps: EndpointState[]) => ({
    ...port('dns', '10.96.0.53', eps),
    protocol: 'udp' as const,
    port: 53,
    nodePort: 30053,
  });
  t.same(staleFlowFilters(udp([endpoint('10.0.8.1'), endpoint('10.0.8.2')]), udp([endpoint('10.0.8.2')])), [
    ['-D', '-p', 'udp', '--orig-dst', '10.96.0.53', '--dst-nat', '10.0.8.1'],
    ['-D', '-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.0.8.1'],
  ]);
  t.same(staleFlowFilters(udp([]), udp([endpoint('10.0.8.1')])), [
    ['-D', '-p', 'udp', '--orig-dst', '10.96.0.53', '--orig-port-dst', '53'],
  ]);
  t.same(staleFlowFilters(port('web', '10.96.0.1', [endpoint('10.0.8.1')]), null), [], 'TCP needs nothing');
});

t.test('bulk element operations: rendered in statements of 1000, checked for nft syntax when rendered', async (t) => {
  const keys = Array.from({ length: 2500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
  const tx = new Transaction('ip', 'skiff').add({ kind: 'elements', set: 's', keys });
  t.equal(tx.size, 2500, 'size counts elements');
  const lines = tx.render().trim().split('\n');
  t.equal(lines.length, 3);
  t.match(lines[0], /^add element ip skiff s \{ 10\.1\.0\.0, 10\.1\.0\.1, /);
  const evil = new Transaction('ip', 'skiff').add({
    kind: 'elements',
    set: 's',
    keys: ['1.2.3.4 } ; flush ruleset ; {'],
  });
  t.throws(() => evil.render(), /invalid element key/);
  t.throws(
    () => new Transaction('ip', 'skiff').add({ kind: 'elements', set: 'm', keys: ['a'], values: [] }),
    /differ in length/,
  );
  // The fake applies bulk operations with the same checks as single ones.
  const fake = new FakeTable('ip', 'skiff');
  fake.apply(new Transaction('ip', 'skiff').add({ kind: 'table' }).add({ kind: 'set', name: 's', key: ['ipv4_addr'] }));
  fake.apply(tx);
  t.equal(fake.elements('s').size, 2500);
  t.throws(
    () => fake.apply(new Transaction('ip', 'skiff').delete({ kind: 'elements', set: 's', keys: ['10.9.9.9'] })),
    /ENOENT/,
  );
});
