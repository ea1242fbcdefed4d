// The nftables data plane: desired service-port states → slot tables → element contributions → one transaction
// (diffed against what was last applied) → a backend (netlink, nft or fake).
import { ConntrackCleaner } from '../conntrack.js';
import type { DataPlane, SyncReport } from '../dataplane.js';
import { TableBuilder, type SlotTable, type TableSpec } from '../lb/tables.js';
import type { EndpointState, ServicePortState } from '../types.js';
import type { NftBackend } from './backend.js';
import { ElementStore, type Contribution, type ElementBatch } from './elements.js';
import {
  affinityChain,
  affinityChainOps,
  dispatchChain,
  dispatchChainOps,
  staticRuleset,
  SETS,
  SET_LAYOUTS,
  type DispatchKind,
  type RulesetConfig,
} from './ruleset.js';
import { isIPv4 } from './types.js';
import { TABLE_SIZES } from '../maglev.js';
import { Transaction, type ChainDef } from './transaction.js';

export interface NftablesDataPlaneOptions {
  backend: NftBackend;
  /** Addresses NodePorts answer on (kube-proxy's --nodeport-addresses); IPv4 ones are used. */
  nodeIPs: string[];
  /** Pod network ranges; ClusterIP traffic from outside them is masqueraded. */
  clusterCIDRs?: string[];
  /** Table name (default "skiff"). */
  table?: string;
  /** Slot table computation (default: Wasm, pool for big batches). Closed by close() only if created here. */
  tables?: TableBuilder;
  /** UDP flow clean-up after a change; omit to skip. */
  conntrack?: ConntrackCleaner;
}

interface PortRecord {
  state: ServicePortState;
  contributions: Contribution[];
}

function endpointName(e: EndpointState): string {
  return `${e.ip}:${e.port}`;
}

/**
 * Dispatch chains created with the table, so that common table sizes never need a chain (an nft run) later:
 * exact tables for 1–32 endpoints, Maglev sizes up to 541 (≥ 8 slots for up to 67 endpoints).
 */
const PRECREATED_CHAINS: [DispatchKind, number][] = [
  ...Array.from({ length: 32 }, (_, i) => i + 1).flatMap((m): [DispatchKind, number][] => [
    ['svc-rand', m],
    ['np-rand', m],
  ]),
  ...TABLE_SIZES.filter((m) => m <= 541).flatMap((m): [DispatchKind, number][] => [
    ['svc-hash', m],
    ['np-hash', m],
  ]),
];

/**
 * What a VIP's slots hold: per slot the index into `targets` ("ip . port" map values). Random dispatch uses the
 * exact table (slot i = endpoint i, in the tracker's sorted order, so no table object at all); affinity uses Maglev.
 */
interface SlotPlan {
  m: number;
  targets: string[];
  /** Endpoint index per slot; undefined = identity (slot i → endpoint i). */
  slots?: Int32Array;
  /** slots mapped to targets, computed once when a plan serves several VIPs. */
  values?: string[];
}

function targetOf(name: string): string {
  const colon = name.lastIndexOf(':');
  return `${name.slice(0, colon)} . ${name.slice(colon + 1)}`;
}

function planOf(table: SlotTable): SlotPlan {
  return { m: table.slots.length, targets: table.endpoints.map((e) => targetOf(e.name)), slots: table.slots };
}

/** The value of every slot, in slot order (the exact table's targets as they are: no copy). */
function slotValues(plan: SlotPlan): readonly string[] {
  const { slots, targets } = plan;
  if (!slots) return targets;
  plan.values ??= Array.from(slots, (i) => targets[i]!);
  return plan.values;
}

function sameEndpoints(a: readonly EndpointState[], b: readonly EndpointState[]): boolean {
  return a.length === b.length && a.every((e, i) => e.ip === b[i]!.ip && e.port === b[i]!.port);
}

export class NftablesDataPlane implements DataPlane {
  readonly kind: string;
  readonly config: RulesetConfig;
  readonly #backend: NftBackend;
  readonly #tables: TableBuilder;
  readonly #ownTables: boolean;
  readonly #nodeIPs: string[];
  readonly #conntrack: ConntrackCleaner | undefined;
  readonly #ports = new Map<string, PortRecord>();
  readonly #store = new ElementStore();
  readonly #chains = new Set<string>();
  #nodeContributions: Contribution[] = [];
  #ready = false;

  constructor(options: NftablesDataPlaneOptions) {
    this.#backend = options.backend;
    this.kind = `nftables/${options.backend.kind}`;
    this.config = {
      family: 'ip',
      table: options.table ?? 'skiff',
      ...(options.clusterCIDRs?.length ? { clusterCIDRs: options.clusterCIDRs } : {}),
    };
    this.#ownTables = !options.tables;
    this.#tables = options.tables ?? new TableBuilder();
    this.#nodeIPs = options.nodeIPs.filter(isIPv4);
    this.#conntrack = options.conntrack;
  }

  /** Elements currently applied (all sets and maps). */
  get elementCount(): number {
    return this.#store.size;
  }

  /** Service ports known. */
  get portCount(): number {
    return this.#ports.size;
  }

  async sync(changes: ReadonlyMap<string, ServicePortState | null>): Promise<SyncReport> {
    const started = performance.now();
    const full = !this.#ready;
    // The states to (re)compute: on a full sync every known port, else only the changed ones.
    const desired = new Map<string, ServicePortState | null>();
    if (full) for (const [key, r] of this.#ports) desired.set(key, r.state);
    for (const [key, s] of changes) desired.set(key, s);

    const newChains: string[] = [];
    let tx = new Transaction(this.config.family, this.config.table);
    // A backend that splits transactions anyway (netlink: nft for rules, netlink for elements) gets the static
    // part at once, so the nft process runs while the elements are computed here.
    let staticApplied: Promise<unknown> | undefined;
    if (full) {
      this.#store.clear();
      this.#chains.clear();
      staticRuleset(this.config, tx);
      for (const [kind, m] of PRECREATED_CHAINS) {
        const { chain, rules } = dispatchChainOps(kind, m);
        tx.add(chain);
        for (const rule of rules) tx.add({ kind: 'rule', chain: chain.name, rule });
        newChains.push(chain.name);
      }
      if (this.#backend.splitsTransactions) {
        staticApplied = this.#backend.apply(tx).then(
          () => undefined,
          (err: unknown) => err,
        );
        tx = new Transaction(this.config.family, this.config.table);
      }
    }

    const live = [...desired.values()].filter((s): s is ServicePortState => s !== null);
    const tables = await this.#buildTables(live);

    const removed: Contribution[] = [];
    const added: Contribution[] = [];
    const records = new Map<string, PortRecord | null>();
    if (full) {
      this.#nodeContributions = this.#nodeIPs.map((ip) => ({ set: SETS.nodePortIPs.name, key: ip, value: '' }));
      added.push(...this.#nodeContributions);
    }
    let t = 0;
    for (const [key, state] of desired) {
      const old = this.#ports.get(key);
      if (old && !full) removed.push(...old.contributions);
      if (!state) {
        records.set(key, null);
        continue;
      }
      const cluster = tables[t++];
      const external = tables[t++];
      const contributions = this.#contributions(state, cluster, external, (chain, ops) => {
        if (this.#chains.has(chain) || newChains.includes(chain)) return;
        const { chain: def, rules } = ops();
        tx.add(def);
        for (const rule of rules) tx.add({ kind: 'rule', chain: def.name, rule });
        newChains.push(chain);
      });
      added.push(...contributions);
      records.set(key, { state, contributions });
    }
    const { deletes, adds, undo } = full
      ? { deletes: [] as ElementBatch[], adds: this.#store.fill(added), undo: () => this.#store.clear() }
      : this.#store.change(removed, added);
    let operations = 0;
    for (const d of deletes) {
      tx.delete({ kind: 'elements', set: d.set, keys: d.keys, ...(d.slots ? { slots: d.slots } : {}) });
      operations += d.keys.length;
    }
    for (const a of adds) {
      // Sets have no values: their entries are ''.
      tx.add({
        kind: 'elements',
        set: a.set,
        keys: a.keys,
        ...(SET_LAYOUTS.get(a.set)?.kind === 'map' ? { values: a.values } : {}),
        ...(a.slots ? { slots: a.slots } : {}),
      });
      operations += a.keys.length;
    }

    try {
      const staticError = await staticApplied;
      if (staticError) throw staticError;
      if (tx.size > 0) await this.#backend.apply(tx);
    } catch (err) {
      undo();
      this.#ready = false; // the kernel may hold anything now: rebuild everything next time
      // Keep the wanted states so that rebuild includes them (contributions are recomputed then).
      for (const [key, record] of records) {
        if (record) this.#ports.set(key, { state: record.state, contributions: [] });
        else this.#ports.delete(key);
      }
      throw err;
    }
    this.#ready = true;
    for (const c of newChains) this.#chains.add(c);
    const cleanups: [ServicePortState | null, ServicePortState | null][] = [];
    for (const [key, record] of records) {
      const before = this.#ports.get(key)?.state ?? null;
      if (record) this.#ports.set(key, record);
      else this.#ports.delete(key);
      if (!full || before) cleanups.push([before, record?.state ?? null]);
    }
    // A full sync made the table (and its empty affinity map) anew; otherwise forget clients' removed endpoints.
    if (!full) await this.#forgetStaleAffinity(cleanups);
    if (this.#conntrack) await this.#conntrack.clean(cleanups);
    return { full, operations, ms: performance.now() - started };
  }

  /** VIP keys of a port ("ip . proto . port", node addresses for its NodePort) → the endpoints they may reach. */
  #affinityTargets(s: ServicePortState | null): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    if (!s || s.affinityTimeoutSeconds === undefined) return out;
    const targets = (eps: readonly EndpointState[]) => new Set(eps.map((e) => `${e.ip} . ${e.port}`));
    const cluster = targets(s.clusterEndpoints);
    const external = targets(s.externalEndpoints);
    for (const ip of s.clusterIPs) out.set(`${ip} . ${s.protocol} . ${s.port}`, cluster);
    for (const ip of [...s.externalIPs, ...s.loadBalancerIPs]) out.set(`${ip} . ${s.protocol} . ${s.port}`, external);
    if (s.nodePort !== undefined) {
      for (const ip of this.#nodeIPs) out.set(`${ip} . ${s.protocol} . ${s.nodePort}`, external);
    }
    return out;
  }

  /**
   * Deletes @affinity entries (added by the packet path, so only the kernel knows them) that send a client of a
   * changed affinity service to an endpoint it no longer has: without this, the client would keep being sent
   * there until its timeout. Read from the kernel only when some endpoint really went away.
   */
  async #forgetStaleAffinity(changes: [ServicePortState | null, ServicePortState | null][]): Promise<void> {
    const allowed = new Map<string, Set<string>>();
    let lost = false;
    for (const [before, after] of changes) {
      const old = this.#affinityTargets(before);
      if (old.size === 0) continue;
      const now = this.#affinityTargets(after);
      for (const [vip, targets] of old) {
        const keep = now.get(vip) ?? new Set<string>();
        allowed.set(vip, keep);
        for (const t of targets) if (!keep.has(t)) lost = true;
      }
    }
    if (!lost) return;
    try {
      const entries = await this.#backend.listMap(this.config.family, this.config.table, SETS.affinity.name);
      const stale: string[] = [];
      for (const [key, target] of entries) {
        const vip = key.slice(key.indexOf(' . ') + 3); // the key is "client . vip . proto . port"
        if (allowed.get(vip)?.has(target) === false) stale.push(key);
      }
      if (stale.length === 0) return;
      const tx = new Transaction(this.config.family, this.config.table);
      try {
        await this.#backend.apply(tx.delete({ kind: 'elements', set: SETS.affinity.name, keys: stale }));
      } catch {
        // An entry may have expired since the listing (a batch fails as a whole): delete one at a time.
        for (const key of stale) {
          const one = new Transaction(this.config.family, this.config.table);
          await this.#backend
            .apply(one.delete({ kind: 'elements', set: SETS.affinity.name, keys: [key] }))
            .catch(() => undefined);
        }
      }
    } catch (err) {
      // Clients could be sent to a removed endpoint: rebuild everything (a fresh table has no affinity entries).
      this.#ready = false;
      throw err;
    }
  }

  /** Two slot plans per live port (cluster, external); Maglev ones computed in one batch; undefined = none. */
  async #buildTables(states: readonly ServicePortState[]): Promise<(SlotPlan | undefined)[]> {
    const specs: TableSpec[] = [];
    const plans: (SlotPlan | number | undefined)[] = [];
    const plan = (eps: readonly EndpointState[], maglev: boolean): SlotPlan | number | undefined => {
      if (eps.length === 0) return undefined;
      if (!maglev) return { m: eps.length, targets: eps.map((e) => `${e.ip} . ${e.port}`) };
      return specs.push({ endpoints: eps.map((e) => ({ name: endpointName(e) })), kind: 'maglev' }) - 1;
    };
    for (const s of states) {
      const maglev = s.affinityTimeoutSeconds !== undefined;
      const cluster = s.clusterEndpoints.filter((e) => isIPv4(e.ip));
      const hasExternal = s.nodePort !== undefined || s.externalIPs.length > 0 || s.loadBalancerIPs.length > 0;
      const external = hasExternal ? s.externalEndpoints.filter((e) => isIPv4(e.ip)) : [];
      const clusterPlan = plan(cluster, maglev);
      plans.push(
        clusterPlan,
        external.length && sameEndpoints(cluster, external) ? clusterPlan : plan(external, maglev),
      );
    }
    const built = specs.length ? await this.#tables.build(specs) : [];
    const byIndex = built.map(planOf);
    return plans.map((p) => (typeof p === 'number' ? byIndex[p] : p));
  }

  /** The elements one service port needs; `needChain` is told every chain they jump to (and how to make it). */
  #contributions(
    s: ServicePortState,
    cluster: SlotPlan | undefined,
    external: SlotPlan | undefined,
    needChain: (chain: string, ops: () => { chain: ChainDef; rules: string[] }) => void,
  ): Contribution[] {
    const out: Contribution[] = [];
    const proto = s.protocol;
    const port = String(s.port);
    const hash = s.affinityTimeoutSeconds !== undefined;
    const noEndpointVerdict = (action: 'reject' | 'drop') => (action === 'drop' ? 'drop' : 'goto reject-chain');
    /** Affinity services: new connections to this VIP key are recorded in @affinity with the timeout. */
    const recordAffinity = (vipKey: string) => {
      const timeout = s.affinityTimeoutSeconds;
      if (timeout === undefined) return;
      const chain = affinityChain(timeout);
      needChain(chain, () => affinityChainOps(timeout));
      out.push({ set: SETS.affinityServices.name, key: vipKey, value: `goto ${chain}` });
    };

    const vip = (ip: string, table: SlotPlan | undefined, noEndpoints: 'reject' | 'drop', masquerade: boolean) => {
      const key = `${ip} . ${proto} . ${port}`;
      if (!table) {
        out.push({ set: SETS.noEndpointServices.name, key, value: noEndpointVerdict(noEndpoints) });
        return;
      }
      const kind: DispatchKind = hash ? 'svc-hash' : 'svc-rand';
      const chain = dispatchChain(kind, table.m);
      needChain(chain, () => dispatchChainOps(kind, table.m));
      recordAffinity(key);
      out.push({ set: SETS.serviceIPs.name, key, value: `goto ${chain}` });
      out.push({ set: SETS.serviceSlots.name, key, value: '', slots: slotValues(table) });
      if (masquerade) out.push({ set: SETS.externalMasq.name, key, value: '' });
    };

    for (const ip of s.clusterIPs) {
      if (!isIPv4(ip)) continue;
      vip(ip, cluster, s.clusterNoEndpoints, false);
      if (this.config.clusterCIDRs) out.push({ set: SETS.clusterIPs.name, key: ip, value: '' });
    }
    for (const ip of [...s.externalIPs, ...s.loadBalancerIPs]) {
      if (isIPv4(ip)) vip(ip, external, s.externalNoEndpoints, !s.externalPolicyLocal);
    }
    if (s.nodePort !== undefined) {
      const key = `${proto} . ${s.nodePort}`;
      if (!external) {
        out.push({ set: SETS.noEndpointNodePorts.name, key, value: noEndpointVerdict(s.externalNoEndpoints) });
      } else {
        const kind: DispatchKind = hash ? 'np-hash' : 'np-rand';
        const { m } = external;
        const chain = dispatchChain(kind, m);
        needChain(chain, () => dispatchChainOps(kind, m));
        for (const ip of this.#nodeIPs) recordAffinity(`${ip} . ${key}`);
        out.push({ set: SETS.serviceNodePorts.name, key, value: `goto ${chain}` });
        out.push({ set: SETS.nodePortSlots.name, key, value: '', slots: slotValues(external) });
        if (!s.externalPolicyLocal) out.push({ set: SETS.nodePortMasq.name, key, value: '' });
      }
    }
    // Hairpin is only possible for endpoints on this node (or of unknown node).
    let hairpin: Set<string> | undefined;
    for (const list of [s.clusterEndpoints, s.externalEndpoints]) {
      for (const e of list) if ((e.local || !e.nodeName) && isIPv4(e.ip)) (hairpin ??= new Set()).add(e.ip);
    }
    for (const ip of hairpin ?? []) out.push({ set: SETS.hairpin.name, key: `${ip} . ${ip}`, value: '' });
    return out;
  }

  async close(): Promise<void> {
    await this.#backend.close();
    if (this.#ownTables) await this.#tables.close();
  }
}
