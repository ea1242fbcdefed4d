// skiff's nftables ruleset for one family: the static table (chains, rules, sets, maps) and the names of the
// per-size dispatch chains. Services never get rules of their own: they are elements of the maps below.
//
//   nat prerouting/output → services:
//     ip daddr . l4proto . dport  vmap @service-ips        → goto svc-rand-<M> | svc-hash-<M>
//     ip daddr @nodeport-ips  l4proto . dport  vmap @service-nodeports → goto np-rand-<M> | np-hash-<M>
//   svc-rand-<M>:  dnat ip to ip daddr . l4proto . dport . numgen random mod M map @service-slots
//   svc-hash-<M>:  dnat ip to ip saddr . ip daddr . l4proto . dport map @affinity       (ClientIP affinity:
//                  … . jhash ip saddr mod M seed S map @service-slots                    Maglev tables)
//   filter prerouting/output after nat → affinity-record: new DNATed connections of affinity services
//     (vmap @affinity-services → aff-<T>) update @affinity with the endpoint, timeout T seconds
//   filter input/forward/output (before nat) → endpoints-check: vmap @no-endpoint-* → reject | drop
//   nat postrouting → masquerading: hairpin pairs (@hairpin) and packets marked for masquerade
import { Transaction, type ChainDef, type Family, type MapDef, type SetDef } from './transaction.js';

/** kube-proxy's default masquerade bit 14 (--iptables-masquerade-bit): the mark is private to skiff's table. */
export const MASQUERADE_MARK = 0x4000;

/** Fixed jhash seed: every node must hash a client to the same slot. */
export const JHASH_SEED = 0x736b6966;

/** Priorities as numbers: nft 1.0.6 rejects `dstnat` by name on the output hook. */
const DSTNAT = -100;
const SRCNAT = 100;

export interface RulesetConfig {
  family: Family;
  table: string;
  /** Pod network ranges: ClusterIP traffic from outside them is masqueraded (kube-proxy's --cluster-cidr). */
  clusterCIDRs?: string[];
}

export type DispatchKind = 'svc-rand' | 'svc-hash' | 'np-rand' | 'np-hash';

export function dispatchChain(kind: DispatchKind, m: number): string {
  return `${kind}-${m}`;
}

/** Protocols a service port can have; rules that read `ct original proto-dst` need one per protocol. */
const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

/**
 * The dispatch chain a table of size m needs, with its rules. Hash (ClientIP affinity) chains first look the
 * client up in @affinity (what it was sent to within the service's timeout); a client seen for the first time,
 * or whose entry expired, falls through to `jhash` of its address over the Maglev table.
 */
export function dispatchChainOps(kind: DispatchKind, m: number): { chain: ChainDef; rules: string[] } {
  const name = dispatchChain(kind, m);
  const hash = kind.endsWith('hash');
  const pick = hash ? `jhash ip saddr mod ${m} seed 0x${JHASH_SEED.toString(16)}` : `numgen random mod ${m}`;
  const rule = kind.startsWith('svc')
    ? `dnat ip to ip daddr . meta l4proto . th dport . ${pick} map @service-slots`
    : `dnat ip to meta l4proto . th dport . ${pick} map @nodeport-slots`;
  const rules = hash ? ['dnat ip to ip saddr . ip daddr . meta l4proto . th dport map @affinity', rule] : [rule];
  return { chain: { kind: 'chain', name }, rules };
}

export function affinityChain(timeoutSeconds: number): string {
  return `aff-${timeoutSeconds}`;
}

/**
 * The chain that records where a new connection of an affinity service went, with that service's timeout: it
 * runs after DNAT (priority dstnat+10), when `ip daddr . th dport` is the endpoint and conntrack still knows the
 * VIP. kube-proxy keeps one `dynamic,timeout` set of client addresses per endpoint, refreshed by `update` on every
 * new connection (section 1.4 of the reference notes); skiff keeps one map for all services, keyed by client and
 * VIP, so no rule is per service. `update` refreshes the timeout of an existing entry and keeps its endpoint.
 * nft 1.0.6 types `ct original proto-dst` only after a protocol match, hence a rule per protocol.
 */
export function affinityChainOps(timeoutSeconds: number): { chain: ChainDef; rules: string[] } {
  const name = affinityChain(timeoutSeconds);
  const rules = PROTOCOLS.map(
    (p) =>
      `meta l4proto ${p} update @affinity { ip saddr . ct original ip daddr . meta l4proto . ct original proto-dst ` +
      `timeout ${timeoutSeconds}s : ip daddr . th dport }`,
  );
  return { chain: { kind: 'chain', name }, rules };
}

/**
 * The slot maps' `typeof` data is `ip daddr . th dport`, deliberately not `tcp dport`: checked on nft 1.0.6, a
 * `tcp dport` there makes nft compile every rule that uses the map with an implicit `meta l4proto tcp` match
 * (`nft --debug=netlink` shows `cmp eq reg 1 0x00000006`), so UDP and SCTP services would silently stop being
 * DNATed (the native e2e's DNS-over-UDP ClusterIP check catches that); listings would also print the dispatch
 * rules' `th dport` as `tcp dport`. `th dport` reads the same two bytes for every protocol and round-trips
 * through `nft list` unchanged. (Upstream kube-proxy has no such map: it writes `dnat to <ip>:<port>` into a
 * chain per endpoint.)
 */
export const SLOT_VALUE_TYPEOF = 'ip daddr . th dport';

export const SETS = {
  serviceIPs: {
    kind: 'map',
    name: 'service-ips',
    key: ['ipv4_addr', 'inet_proto', 'inet_service'],
    value: 'verdict',
  },
  serviceNodePorts: { kind: 'map', name: 'service-nodeports', key: ['inet_proto', 'inet_service'], value: 'verdict' },
  serviceSlots: {
    kind: 'map',
    name: 'service-slots',
    key: ['ipv4_addr', 'inet_proto', 'inet_service', 'integer'],
    value: ['ipv4_addr', 'inet_service'],
    typeof: `ip daddr . meta l4proto . th dport . numgen random mod 1 : ${SLOT_VALUE_TYPEOF}`,
  },
  nodePortSlots: {
    kind: 'map',
    name: 'nodeport-slots',
    key: ['inet_proto', 'inet_service', 'integer'],
    value: ['ipv4_addr', 'inet_service'],
    typeof: `meta l4proto . th dport . numgen random mod 1 : ${SLOT_VALUE_TYPEOF}`,
  },
  noEndpointServices: {
    kind: 'map',
    name: 'no-endpoint-services',
    key: ['ipv4_addr', 'inet_proto', 'inet_service'],
    value: 'verdict',
  },
  noEndpointNodePorts: {
    kind: 'map',
    name: 'no-endpoint-nodeports',
    key: ['inet_proto', 'inet_service'],
    value: 'verdict',
  },
  /** ClientIP affinity: (client, VIP, protocol, port) → the endpoint it went to; the packet path fills it. */
  affinity: {
    kind: 'map',
    name: 'affinity',
    key: ['ipv4_addr', 'ipv4_addr', 'inet_proto', 'inet_service'],
    value: ['ipv4_addr', 'inet_service'],
    flags: ['dynamic', 'timeout'],
  },
  /** VIP (ClusterIP, external, LB, node address) of an affinity service → `goto aff-<timeout>`. */
  affinityServices: {
    kind: 'map',
    name: 'affinity-services',
    key: ['ipv4_addr', 'inet_proto', 'inet_service'],
    value: 'verdict',
  },
  externalMasq: { kind: 'set', name: 'external-masq', key: ['ipv4_addr', 'inet_proto', 'inet_service'] },
  nodePortMasq: { kind: 'set', name: 'nodeport-masq', key: ['inet_proto', 'inet_service'] },
  nodePortIPs: { kind: 'set', name: 'nodeport-ips', key: ['ipv4_addr'] },
  hairpin: { kind: 'set', name: 'hairpin', key: ['ipv4_addr', 'ipv4_addr'] },
  clusterIPs: { kind: 'set', name: 'cluster-ips', key: ['ipv4_addr'] },
} satisfies Record<string, SetDef | MapDef>;

export type SetName = (typeof SETS)[keyof typeof SETS]['name'];

/** Layouts by name, for encoders that need the key/value types of a set. */
export const SET_LAYOUTS = new Map<string, SetDef | MapDef>(Object.values(SETS).map((s) => [s.name, s]));

const base = (name: string, type: 'nat' | 'filter', hook: ChainDef['hook'], priority: number): ChainDef => ({
  kind: 'chain',
  name,
  type,
  hook,
  priority,
  policy: 'accept',
});

/**
 * The static part, from scratch: creates the table if needed, deletes it (dropping whatever a previous run left)
 * and builds it again. Elements and dispatch chains follow in the same transaction.
 */
export function staticRuleset(config: RulesetConfig, tx = new Transaction(config.family, config.table)): Transaction {
  tx.add({ kind: 'table' });
  tx.delete({ kind: 'table' });
  tx.add({ kind: 'table', comment: 'skiff service proxy' });
  for (const s of Object.values(SETS)) tx.add(s);
  const chains: ChainDef[] = [
    base('nat-prerouting', 'nat', 'prerouting', DSTNAT),
    base('nat-output', 'nat', 'output', DSTNAT),
    base('nat-postrouting', 'nat', 'postrouting', SRCNAT),
    base('filter-input', 'filter', 'input', DSTNAT - 10),
    base('filter-forward', 'filter', 'forward', DSTNAT - 10),
    base('filter-output', 'filter', 'output', DSTNAT - 10),
    base('affinity-prerouting', 'filter', 'prerouting', DSTNAT + 10),
    base('affinity-output', 'filter', 'output', DSTNAT + 10),
    { kind: 'chain', name: 'affinity-record' },
    { kind: 'chain', name: 'services' },
    { kind: 'chain', name: 'endpoints-check' },
    { kind: 'chain', name: 'mark-for-masquerade' },
    { kind: 'chain', name: 'masquerading' },
    { kind: 'chain', name: 'reject-chain' },
  ];
  for (const c of chains) tx.add(c);
  const mark = `0x${MASQUERADE_MARK.toString(16).padStart(8, '0')}`;
  const rules: [string, string][] = [
    ['nat-prerouting', 'jump services'],
    ['nat-output', 'jump services'],
    ['nat-postrouting', 'jump masquerading'],
    // Reject in input/forward/output, not prerouting: kernels before 5.9 refuse reject there (kube-proxy's note).
    ['filter-input', 'ct state new jump endpoints-check'],
    ['filter-forward', 'ct state new jump endpoints-check'],
    ['filter-output', 'ct state new jump endpoints-check'],
    ['endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services'],
    ['endpoints-check', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports'],
    ['reject-chain', 'reject'],
    ['affinity-prerouting', 'ct state new ct status dnat jump affinity-record'],
    ['affinity-output', 'ct state new ct status dnat jump affinity-record'],
    ...PROTOCOLS.map((p): [string, string] => [
      'affinity-record',
      `meta l4proto ${p} ct original ip daddr . meta l4proto . ct original proto-dst vmap @affinity-services`,
    ]),
    ['mark-for-masquerade', `meta mark set meta mark | ${mark}`],
    ['services', 'ip daddr . meta l4proto . th dport @external-masq jump mark-for-masquerade'],
  ];
  if (config.clusterCIDRs?.length) {
    rules.push([
      'services',
      `ip daddr @cluster-ips ip saddr != { ${config.clusterCIDRs.join(', ')} } jump mark-for-masquerade`,
    ]);
  }
  rules.push(
    ['services', 'ip daddr . meta l4proto . th dport vmap @service-ips'],
    ['services', 'ip daddr @nodeport-ips meta l4proto . th dport @nodeport-masq jump mark-for-masquerade'],
    ['services', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'],
    // A pod reaching itself through a VIP must be masqueraded or its reply would bypass conntrack.
    ['masquerading', 'ct status dnat ip saddr . ip daddr @hairpin masquerade'],
    ['masquerading', `meta mark & ${mark} == 0x00000000 return`],
    ['masquerading', `meta mark set meta mark ^ ${mark}`],
    ['masquerading', 'masquerade fully-random'],
  );
  for (const [chain, rule] of rules) tx.add({ kind: 'rule', chain, rule });
  return tx;
}
