// PodTopologySpread and InterPodAffinity for the Wasm engine, on counts kept incrementally: placed pods are counted
// per (node, class); selector matches are decided once per class; topology values are interned per key. Each
// function mirrors the reference plugin of the same name (src/scheduler/plugins/pod-topology-spread.ts and
// inter-pod-affinity.ts) step by step; the engine parity test holds them to it.
import { matches, type Requirement, type Selector } from '../../api/selectors.js';
import { idiv, MaxNodeScore } from '../framework.js';
import {
  ErrReasonAffinityRulesNotMatch,
  ErrReasonAntiAffinityRulesNotMatch,
  ErrReasonExistingAntiAffinityRulesNotMatch,
} from '../plugins/inter-pod-affinity.js';
import {
  defaultSelector,
  ErrReasonConstraintsNotMatch,
  ErrReasonNodeLabelNotMatch,
  parseConstraints,
  topologyNormalizingWeight,
  type SpreadConstraint,
} from '../plugins/pod-topology-spread.js';
import { normalizeInterPodAffinityScores } from '../plugins/inter-pod-affinity.js';
import { firstUntoleratedNoScheduleTaint } from '../plugins/taint-toleration.js';
import { requiredNodeAffinity, requiredNodeAffinityMatches, termMatches, type AffinityTerm } from '../selectors.js';
import type { NodeInfo, PodInfo, Snapshot } from '../snapshot.js';
import { systemDefaultConstraints, type Profile } from '../types.js';

const hostnameKey = 'kubernetes.io/hostname';
/** Weighted per-domain counters kept at once (see #domainCounter). */
const MAX_DOMAIN_COUNTERS = 256;
// Shared (never mutated) reason lists: one failing node rarely needs its own array.
const affinityReasons: readonly string[] = Object.freeze([ErrReasonAffinityRulesNotMatch]);
const antiAffinityReasons: readonly string[] = Object.freeze([ErrReasonAntiAffinityRulesNotMatch]);
const existingAntiAffinityReasons: readonly string[] = Object.freeze([ErrReasonExistingAntiAffinityRulesNotMatch]);
const labelReasons: readonly string[] = Object.freeze([ErrReasonNodeLabelNotMatch]);
const spreadReasons: readonly string[] = Object.freeze([ErrReasonConstraintsNotMatch]);
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** What the engine knows about a class for these plugins. */
export interface RelClass {
  id: number;
  info: PodInfo;
}

/** Topology values of one label key interned to dense ids, per node slot (-1: the node lacks the key). */
interface Domains {
  of: Int32Array;
  values: string[];
  /** The nodes of each domain (built on first use): members[starts[d] .. starts[d + 1]). */
  nodes?: { starts: Int32Array; members: Int32Array };
}

/** Domain → nodes as two flat arrays (counting sort of the node → domain map). */
function domainNodes(d: Domains): { starts: Int32Array; members: Int32Array } {
  if (d.nodes) return d.nodes;
  const starts = new Int32Array(d.values.length + 1);
  for (let slot = 0; slot < d.of.length; slot++) if (d.of[slot]! >= 0) starts[d.of[slot]! + 1]!++;
  for (let i = 0; i < d.values.length; i++) starts[i + 1]! += starts[i]!;
  const members = new Int32Array(Math.max(1, starts[d.values.length]!));
  const next = starts.slice(0, d.values.length);
  for (let slot = 0; slot < d.of.length; slot++) if (d.of[slot]! >= 0) members[next[d.of[slot]!]!++] = slot;
  return (d.nodes = { starts, members });
}

/** The nodes a filter runs on: those of `order` whose first failure so far (codes, 0 = none) is not before `code`. */
export interface Candidates {
  order: readonly number[];
  codes: Int32Array;
  code: number;
}

/** Receives each node a filter rejects, with its reasons. */
export type FailureSink = (slot: number, reasons: readonly string[]) => void;

interface Counter {
  counts: Int32Array;
  matches: (classId: number) => boolean;
}

/** Copies per-pod inputs into Wasm scratch memory for the engine's filter kernels (addresses returned). */
export interface WasmPut {
  /** A per-node array (nCap entries, padded with `pad` past its length): i32, or u8 for a Uint8Array. */
  slots(arr: Int32Array | Uint8Array, pad: number): number;
  /** slots() for an array that is replaced, never changed: copied once per `id` until a different array comes. */
  lasting(id: string, arr: Int32Array | Uint8Array, pad: number): number;
  /** words() for an array that is replaced, never changed (as lasting). */
  lastingWords(id: string, arr: Int32Array): number;
  /** `count` zeroed i32 entries (at least one). */
  zeros(count: number): number;
  /** A program of i32 words. */
  words(words: ArrayLike<number>): number;
}

/** Placed pods per topology domain of one key, weighted by a per-class weight; kept current by place(). */
interface DomainCounter {
  key: string;
  weight: (classId: number) => number;
  /** Only pods on these slots count (undefined: every slot). */
  eligible?: Uint8Array;
  counts: Int32Array;
  /** Sum of counts (only domains that exist). */
  total: number;
}

export interface RelationResult {
  /** Per slot: 0 passes, else the code of the failing plugin. */
  reasons: Map<number, string[]>;
  codes: Map<number, number>;
}

export class PodRelations {
  /**
   * Placed pods per (slot, class). Most nodes hold pods of one class, so each slot keeps its first class in two typed
   * arrays (id -1: none) and only further classes in a Map: placing 10,000 pods then allocates no object per node.
   */
  #firstClass = new Int32Array(0);
  #firstCount = new Int32Array(0);
  readonly #moreClasses: (Map<number, number> | undefined)[] = [];
  /** #placedOn's result buffer: [classId, pods, classId, pods, ...] (reused; read it before the next call). */
  readonly #entries: number[] = [];
  readonly #classes = new Map<number, RelClass>();
  #epoch = 0;
  readonly #domains = new Map<string, Domains>();
  /** Per node: pods with any affinity, pods with required anti-affinity. */
  #withAffinity = new Int32Array(0);
  #withRequiredAnti = new Int32Array(0);
  readonly #occupied = new Set<number>();
  /** Parsed spread constraints per pod class (they depend on workloads through the default selector). */
  readonly #parsed = new WeakMap<
    PodInfo,
    { version: number; doNotSchedule: SpreadConstraint[] | undefined; scheduleAnyway: SpreadConstraint[] | undefined }
  >();
  #workloadVersion = 0;
  /** classId → pods placed (anywhere). */
  readonly #classPlaced = new Map<number, number>();
  /** topology key → classId → placed pods per domain of that key (present nodes only), kept by place(). */
  readonly #classDomains = new Map<string, Map<number, Float64Array>>();
  /** Placed pods matching one (selector, namespace) per slot, kept current by place(). */
  readonly #counters = new Map<string, Counter>();
  /** Changes when the set of placed classes or the nodes change (cached filter programs are then rebuilt). */
  #shapeVersion = 0;
  /** Changes when the nodes, workloads or the set of counters change (not with placements): spread programs. */
  #spreadVersion = 0;
  /** The counters of each pending class's affinityFilter program, for one #shapeVersion. */
  readonly #affinityShape = new WeakMap<
    PodInfo,
    { version: number; aff: DomainCounter[]; anti: DomainCounter[]; existing: DomainCounter[]; self: boolean }
  >();
  /** Weighted per-domain counters of the Wasm InterPodAffinity filter, by pending class, kind and key. */
  readonly #domainCounters = new Map<string, DomainCounter>();
  #cap = 64;
  /** Per pod class and node epoch: node inclusion (required node affinity, untolerated NoSchedule taints). */
  readonly #inclusion = new WeakMap<PodInfo, { epoch: number; affinity: Uint8Array; taints: Uint8Array }>();

  constructor(
    readonly profile: Profile,
    readonly snapshot: Snapshot,
    readonly nodes: () => (NodeInfo | undefined)[],
  ) {}

  /** Node membership or labels changed: interned topology values are recomputed on next use. */
  nodesChanged(): void {
    this.#epoch++;
    this.#domains.clear();
    this.#classDomains.clear();
    this.#domainCounters.clear();
    this.#shapeVersion++;
    this.#spreadVersion++;
    this.#grow(this.nodes().length);
  }

  /** Keeps every per-slot array at least `slots` long. */
  #grow(slots: number): void {
    if (slots <= this.#cap) return;
    while (this.#cap < slots) this.#cap *= 2;
    for (const counter of this.#counters.values()) {
      const b = new Int32Array(this.#cap);
      b.set(counter.counts);
      counter.counts = b;
    }
  }

  defineClass(c: RelClass): void {
    this.#classes.set(c.id, c);
  }

  /** Counts a pod of class c on a slot (sign 1) or stops counting it (-1). */
  place(slot: number, c: RelClass, sign: 1 | -1): void {
    this.#grow(slot + 1);
    const total = (this.#classPlaced.get(c.id) ?? 0) + sign;
    if (total === 0) this.#classPlaced.delete(c.id);
    else this.#classPlaced.set(c.id, total);
    if (total === 0 || total === sign) this.#shapeVersion++;
    this.#count(slot, c, sign);
  }

  /** place(slot, c, 1) for slots[0..count) (a run of one class's decisions). */
  placeMany(slots: Int32Array, from: number, count: number, c: RelClass): void {
    if (count === 0) return;
    let top = 0;
    for (let i = from; i < from + count; i++) if (slots[i]! > top) top = slots[i]!;
    this.#grow(top + 1);
    const before = this.#classPlaced.get(c.id) ?? 0;
    this.#classPlaced.set(c.id, before + count);
    if (before === 0) this.#shapeVersion++;
    if (
      this.#classDomains.size > 0 ||
      this.#counters.size > 0 ||
      this.#domainCounters.size > 0 ||
      c.info.hasAffinity ||
      c.info.requiredAntiAffinityTerms.length > 0
    ) {
      for (let i = from; i < from + count; i++) this.#count(slots[i]!, c, 1);
      return;
    }
    // Nothing but the per-node tallies to keep (what #count does then), in one loop without a call per pod.
    this.#slotArrays(top);
    const firstClass = this.#firstClass;
    const firstCount = this.#firstCount;
    for (let i = from; i < from + count; i++) {
      const slot = slots[i]!;
      if (firstClass[slot] === c.id && firstCount[slot]! > 0) firstCount[slot]!++;
      else this.#tally(slot, c.id, 1);
    }
  }

  /** Keeps the per-slot arrays #count writes long enough for `slot`. */
  #slotArrays(slot: number): void {
    if (slot < this.#withAffinity.length) return;
    const grow = (a: Int32Array, fill: number) => {
      const b = new Int32Array(Math.max(64, slot * 2)).fill(fill);
      b.set(a);
      return b;
    };
    this.#withAffinity = grow(this.#withAffinity, 0);
    this.#withRequiredAnti = grow(this.#withRequiredAnti, 0);
    this.#firstClass = grow(this.#firstClass, -1);
    this.#firstCount = grow(this.#firstCount, 0);
  }

  #count(slot: number, c: RelClass, sign: 1 | -1): void {
    if (this.#classDomains.size > 0)
      for (const [key, byClass] of this.#classDomains) {
        const d = this.#domainsOf(key).of[slot] ?? -1;
        if (d < 0) continue;
        let arr = byClass.get(c.id);
        if (!arr) byClass.set(c.id, (arr = new Float64Array(this.#domainsOf(key).values.length)));
        arr[d]! += sign;
      }
    if (this.#counters.size > 0)
      for (const counter of this.#counters.values()) if (counter.matches(c.id)) counter.counts[slot]! += sign;
    if (this.#domainCounters.size > 0)
      for (const counter of this.#domainCounters.values()) {
        const w = counter.weight(c.id);
        if (w === 0) continue;
        if (counter.eligible && counter.eligible[slot] !== 1) continue;
        const d = this.#domainsOf(counter.key).of[slot] ?? -1;
        if (d < 0) continue;
        counter.counts[d]! += sign * w;
        counter.total += sign * w;
      }
    this.#slotArrays(slot);
    this.#tally(slot, c.id, sign);
    if (c.info.hasAffinity) this.#withAffinity[slot]! += sign;
    if (c.info.requiredAntiAffinityTerms.length > 0) this.#withRequiredAnti[slot]! += sign;
  }

  /**
   * Adds sign pods of class id on slot (arrays already long enough). A slot is occupied while it has a first class;
   * further classes exist only beside one.
   */
  #tally(slot: number, id: number, sign: 1 | -1): void {
    const first = this.#firstClass[slot]!;
    if (first === id) {
      const n = this.#firstCount[slot]! + sign;
      if (n !== 0) {
        this.#firstCount[slot] = n;
        return;
      }
      // The first class leaves the slot: another one (if any) takes its place.
      const more = this.#moreClasses[slot];
      if (more) {
        const [nid, nk] = more.entries().next().value as [number, number];
        more.delete(nid);
        if (more.size === 0) this.#moreClasses[slot] = undefined;
        this.#firstClass[slot] = nid;
        this.#firstCount[slot] = nk;
      } else {
        this.#firstClass[slot] = -1;
        this.#firstCount[slot] = 0;
        this.#occupied.delete(slot);
      }
      return;
    }
    if (first < 0) {
      this.#firstClass[slot] = id;
      this.#firstCount[slot] = sign;
      this.#occupied.add(slot);
      return;
    }
    let more = this.#moreClasses[slot];
    if (!more) this.#moreClasses[slot] = more = new Map();
    const n = (more.get(id) ?? 0) + sign;
    if (n !== 0) more.set(id, n);
    else {
      more.delete(id);
      if (more.size === 0) this.#moreClasses[slot] = undefined;
    }
  }

  /** The classes placed on an occupied slot with their pod counts, as [classId, pods, ...] (a reused buffer). */
  #placedOn(slot: number): readonly number[] {
    const out = this.#entries;
    out.length = 0;
    const first = this.#firstClass[slot]!;
    if (first >= 0) out.push(first, this.#firstCount[slot]!);
    const more = this.#moreClasses[slot];
    if (more) for (const [id, k] of more) out.push(id, k);
    return out;
  }

  #domainsOf(key: string): Domains {
    let d = this.#domains.get(key);
    if (d) return d;
    const nodes = this.nodes();
    const of = new Int32Array(nodes.length).fill(-1);
    const ids = new Map<string, number>();
    const values: string[] = [];
    nodes.forEach((node, slot) => {
      if (!node || !has(node.labels, key)) return;
      const v = node.labels[key]!;
      let id = ids.get(v);
      if (id === undefined) {
        id = values.length;
        ids.set(v, id);
        values.push(v);
      }
      of[slot] = id;
    });
    d = { of, values };
    this.#domains.set(key, d);
    return d;
  }

  /**
   * The per-slot counts of countPodsMatchSelector (placed, not terminating, same namespace, matching; an empty
   * selector counts nothing) for one (selector, namespace), created on first use and then kept by place().
   */
  #counter(selector: Selector, namespace: string): Int32Array {
    this.#grow(this.nodes().length);
    const key = `${namespace}\0${JSON.stringify(selector)}`;
    let counter = this.#counters.get(key);
    if (!counter) {
      const memo = new Map<number, boolean>();
      const matchesClass = (id: number): boolean => {
        let ok = memo.get(id);
        if (ok === undefined) {
          const e = this.#classes.get(id)!.info;
          ok = selector.length > 0 && !e.terminating && e.namespace === namespace && matches(selector, e.labels);
          memo.set(id, ok);
        }
        return ok;
      };
      counter = { counts: new Int32Array(this.#cap), matches: matchesClass };
      for (const slot of this.#occupied) {
        const e = this.#placedOn(slot);
        for (let j = 0; j < e.length; j += 2) if (matchesClass(e[j]!)) counter.counts[slot]! += e[j + 1]!;
      }
      this.#counters.set(key, counter);
    }
    return counter.counts;
  }

  /** Pods of class `id` per domain of `key` (present nodes), from the kept tallies; all zero when none. */
  #classDomainCounts(key: string, id: number): Float64Array | undefined {
    let byClass = this.#classDomains.get(key);
    if (!byClass) {
      // First use of this key: tally every placement once; place() keeps it current afterwards.
      const d = this.#domainsOf(key);
      byClass = new Map();
      for (const slot of this.#occupied) {
        const dom = d.of[slot] ?? -1;
        if (dom < 0) continue;
        const e = this.#placedOn(slot);
        for (let j = 0; j < e.length; j += 2) {
          const cid = e[j]!;
          const k = e[j + 1]!;
          let arr = byClass.get(cid);
          if (!arr) byClass.set(cid, (arr = new Float64Array(d.values.length)));
          arr[dom]! += k;
        }
      }
      this.#classDomains.set(key, byClass);
    }
    return byClass.get(id);
  }

  /** nodeIncluded's two node tests for this pod, per slot (cached until nodes change). */
  #inclusionOf(pod: PodInfo): { affinity: Uint8Array; taints: Uint8Array } {
    let inc = this.#inclusion.get(pod);
    if (inc && inc.epoch === this.#epoch) return inc;
    const nodes = this.nodes();
    const affinity = new Uint8Array(nodes.length);
    const taints = new Uint8Array(nodes.length);
    const req = requiredNodeAffinity(pod.pod);
    const tolerations = pod.pod.spec?.tolerations ?? [];
    nodes.forEach((node, slot) => {
      if (!node) return;
      affinity[slot] = requiredNodeAffinityMatches(req, node.node) ? 1 : 0;
      taints[slot] = firstUntoleratedNoScheduleTaint(node.taints, tolerations) ? 0 : 1;
    });
    inc = { epoch: this.#epoch, affinity, taints };
    this.#inclusion.set(pod, inc);
    return inc;
  }

  // ---- PodTopologySpread ----------------------------------------------------------------------------------------

  /** podConstraints of the reference: the pod's own constraints, else the defaults with its default selector. */
  #constraints(pod: PodInfo, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
    let cached = this.#parsed.get(pod);
    if (!cached || cached.version !== this.#workloadVersion) {
      cached = { version: this.#workloadVersion, doNotSchedule: undefined, scheduleAnyway: undefined };
      this.#parsed.set(pod, cached);
    }
    const key = action === 'DoNotSchedule' ? 'doNotSchedule' : 'scheduleAnyway';
    return (cached[key] ??= this.#parseConstraints(pod, action));
  }

  #parseConstraints(pod: PodInfo, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
    const own = pod.pod.spec?.topologySpreadConstraints ?? [];
    if (own.length > 0) return parseConstraints(own, pod.labels, action);
    const cfg = this.profile.podTopologySpread;
    const list = cfg.defaultingType === 'System' ? systemDefaultConstraints : cfg.defaultConstraints;
    const constraints = parseConstraints([...list], pod.labels, action);
    if (constraints.length === 0) return [];
    const selector = defaultSelector(pod, this.snapshot.workloads.values());
    if (selector.length === 0) return [];
    return constraints.map((c) => ({ ...c, selector }));
  }

  /** Services or controllers changed: default spreading selectors are recomputed. */
  workloadsChanged(): void {
    this.#workloadVersion++;
    this.#shapeVersion++;
    this.#spreadVersion++;
    // Spread counters count by constraints that may have changed with the default selector.
    for (const id of this.#domainCounters.keys()) if (id.includes('\0spread\0')) this.#domainCounters.delete(id);
  }

  /** Whether the pod has constraints of either kind (then it needs this module at all). */
  hasSpreadConstraints(pod: PodInfo): boolean {
    return this.#constraints(pod, 'DoNotSchedule').length > 0 || this.#constraints(pod, 'ScheduleAnyway').length > 0;
  }

  /** matchNodeInclusionPolicies from the cached per-slot tests. */
  #included(c: SpreadConstraint, inc: { affinity: Uint8Array; taints: Uint8Array }, slot: number): boolean {
    if (c.honorNodeAffinity && inc.affinity[slot] === 0) return false;
    if (c.honorNodeTaints && inc.taints[slot] === 0) return false;
    return true;
  }

  /** PodTopologySpread Filter over the candidate slots; returns the failing ones with reasons. */
  spreadFilter(pod: PodInfo, candidates: Candidates, out: FailureSink): void {
    const constraints = this.#constraints(pod, 'DoNotSchedule');
    if (constraints.length === 0) return;
    const nodes = this.nodes();
    const inc = this.#inclusionOf(pod);
    // pairCounts per topology key, by domain id; present marks pairs that exist (TpPairToMatchNum keys).
    const keys = [...new Set(constraints.map((c) => c.topologyKey))];
    const doms = new Map(keys.map((k) => [k, this.#domainsOf(k)]));
    const counts = new Map(keys.map((k) => [k, new Float64Array(doms.get(k)!.values.length)]));
    const present = new Map(keys.map((k) => [k, new Uint8Array(doms.get(k)!.values.length)]));
    const matching = constraints.map((c) => this.#counter(c.selector, pod.namespace));
    const ofs = constraints.map((c) => doms.get(c.topologyKey)!.of);
    const cnts = constraints.map((c) => counts.get(c.topologyKey)!);
    const pres = constraints.map((c) => present.get(c.topologyKey)!);
    // Constraints sharing a key: upstream keeps the last included one's count per node.
    const distinct = new Set(constraints.map((c) => c.topologyKey)).size === constraints.length;
    const honorAff = constraints.map((c) => c.honorNodeAffinity);
    const honorTaints = constraints.map((c) => c.honorNodeTaints);
    const incAff = inc.affinity;
    const incTaints = inc.taints;
    for (let slot = 0; slot < nodes.length; slot++) {
      if (!nodes[slot]) continue;
      let all = true;
      for (let i = 0; i < ofs.length; i++)
        if (ofs[i]![slot]! < 0) {
          all = false;
          break;
        }
      if (!all) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]!;
        if ((honorAff[i] && incAff[slot] === 0) || (honorTaints[i] && incTaints[slot] === 0)) continue;
        if (!distinct) {
          // A later included constraint on the same key overwrites this one.
          let overwritten = false;
          for (let j = i + 1; j < constraints.length; j++)
            if (constraints[j]!.topologyKey === c.topologyKey && this.#included(constraints[j]!, inc, slot))
              overwritten = true;
          if (overwritten) continue;
        }
        const d = ofs[i]![slot]!;
        cnts[i]![d]! += matching[i]![slot]!;
        pres[i]![d] = 1;
      }
    }
    const minByKey = new Map<string, number>();
    const domainsByKey = new Map<string, number>();
    for (const key of keys) {
      const p = present.get(key)!;
      const cnt = counts.get(key)!;
      let domains = 0;
      let min = Number.MAX_SAFE_INTEGER;
      for (let d = 0; d < p.length; d++)
        if (p[d]) {
          domains++;
          if (cnt[d]! < min) min = cnt[d]!;
        }
      domainsByKey.set(key, domains);
      if (domains > 0) minByKey.set(key, min);
    }
    const self = constraints.map((c) => (matches(c.selector, pod.labels) ? 1 : 0));
    // Per constraint: the node → domain map, the pair counts and existence, and maxSkew + minMatch - self as one bound.
    const checks = constraints.map((c, i) => {
      const domains = domainsByKey.get(c.topologyKey) ?? 0;
      const minMatch = domains < c.minDomains ? 0 : (minByKey.get(c.topologyKey) ?? 0);
      return {
        of: ofs[i]!,
        counts: cnts[i]!,
        present: pres[i]!,
        bound: c.maxSkew + minMatch - self[i]!,
      };
    });
    const { order, codes, code } = candidates;
    for (let k = 0; k < order.length; k++) {
      const slot = order[k]!;
      const earlier = codes[slot]!;
      if (earlier !== 0 && earlier < code) continue;
      for (let i = 0; i < checks.length; i++) {
        const ch = checks[i]!;
        const d = ch.of[slot]!;
        if (d < 0) {
          out(slot, labelReasons);
          break;
        }
        // matchNum + self - minMatch > maxSkew
        const matchNum = ch.present[d] ? ch.counts[d]! : 0;
        if (matchNum > ch.bound) {
          out(slot, spreadReasons);
          break;
        }
      }
    }
  }

  /** PodTopologySpread PreScore + Score + NormalizeScore over the feasible slots (name order); undefined = Skip. */
  spreadScores(pod: PodInfo, feasible: number[]): number[] | undefined {
    if (this.snapshot.size === 0) return undefined;
    const constraints = this.#constraints(pod, 'ScheduleAnyway');
    if (constraints.length === 0) return undefined;
    const nodes = this.nodes();
    const requireAll =
      (pod.pod.spec?.topologySpreadConstraints ?? []).length > 0 ||
      this.profile.podTopologySpread.defaultingType !== 'System';
    const hasAll = (node: NodeInfo) => constraints.every((c) => has(node.labels, c.topologyKey));
    const ignored = new Set<number>();
    const counts = constraints.map(() => new Map<string, number>());
    const sizes = constraints.map(() => 0);
    for (const slot of feasible) {
      const node = nodes[slot]!;
      if (requireAll && !hasAll(node)) {
        ignored.add(slot);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === hostnameKey) return;
        const value = node.labels[c.topologyKey] ?? '';
        if (!counts[i]!.has(value)) {
          counts[i]!.set(value, 0);
          sizes[i]!++;
        }
      });
    }
    const weights = constraints.map((c, i) =>
      topologyNormalizingWeight(c.topologyKey === hostnameKey ? feasible.length - ignored.size : sizes[i]!),
    );
    const inc = this.#inclusionOf(pod);
    const matching = constraints.map((c) => this.#counter(c.selector, pod.namespace));
    // Only nodes with matching pods add to a count; skip the empty ones (adding 0 changes nothing).
    for (const slot of this.#occupied) {
      const node = nodes[slot];
      if (!node) continue;
      if (requireAll && !hasAll(node)) continue;
      constraints.forEach((c, i) => {
        if (c.topologyKey === hostnameKey) return;
        if (!this.#included(c, inc, slot)) return;
        const value = node.labels[c.topologyKey] ?? '';
        const current = counts[i]!.get(value);
        if (current === undefined) return;
        counts[i]!.set(value, current + matching[i]![slot]!);
      });
    }
    const scores = feasible.map((slot) => {
      if (ignored.has(slot)) return 0;
      const node = nodes[slot]!;
      let score = 0;
      constraints.forEach((c, i) => {
        if (!has(node.labels, c.topologyKey)) return;
        const count =
          c.topologyKey === hostnameKey ? matching[i]![slot]! : counts[i]!.get(node.labels[c.topologyKey]!)!;
        score += count * weights[i]! + (c.maxSkew - 1);
      });
      return Math.round(score);
    });
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    feasible.forEach((slot, i) => {
      if (ignored.has(slot)) return;
      if (scores[i]! < min) min = scores[i]!;
      if (scores[i]! > max) max = scores[i]!;
    });
    feasible.forEach((slot, i) => {
      if (ignored.has(slot)) scores[i] = 0;
      else if (max === 0) scores[i] = MaxNodeScore;
      else scores[i] = idiv(MaxNodeScore * (max + min - scores[i]!), max);
    });
    return scores;
  }

  // ---- programs for the Wasm filters (assembly/scheduler spreadFilter / affinityFilter) ------------------------
  // The decision of a pod on its class index needs only which nodes these filters reject; the kernels compute that
  // from the same counts as spreadFilter/affinityFilter above (their reasons are still produced there for messages).

  /** PodTopologySpread's score skips this pod (no ScheduleAnyway constraints, own or default). */
  spreadScoreSkips(pod: PodInfo): boolean {
    return this.snapshot.size === 0 || this.#constraints(pod, 'ScheduleAnyway').length === 0;
  }

  /**
   * InterPodAffinity's score certainly skips (or scores 0 everywhere) for this pod: it has no preferred terms and no
   * placed pod has terms that could score it (a conservative test; false means: let affinityScores decide).
   */
  affinityScoreSkips(pod: PodInfo): boolean {
    const args = this.profile.interPodAffinity;
    const hasConstraints = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    if (!hasConstraints && args.ignorePreferredTermsOfExistingPods) return true;
    if (hasConstraints) return false;
    for (const id of this.#classPlaced.keys()) {
      const e = this.#classes.get(id)!.info;
      if (args.hardPodAffinityWeight > 0 && e.requiredAffinityTerms.length > 0) return false;
      if (e.preferredAffinityTerms.length > 0 || e.preferredAntiAffinityTerms.length > 0) return false;
    }
    return true;
  }

  /**
   * The program of the spreadCheck kernel (constraints on distinct keys: matching pods per domain kept by place()
   * over the nodes each constraint counts) or else of the spreadFilter kernel (which aggregates per pod); undefined
   * when the pod has no DoNotSchedule constraints.
   */
  spreadProgram(cls: RelClass, put: WasmPut): { kernel: 'check' | 'full'; prog: number } | undefined {
    const pod = cls.info;
    const constraints = this.#constraints(pod, 'DoNotSchedule');
    if (constraints.length === 0) return undefined;
    const keys = [...new Set(constraints.map((c) => c.topologyKey))];
    if (keys.length === constraints.length) return { kernel: 'check', prog: this.#spreadCheck(cls, constraints, put) };
    const inc = this.#inclusionOf(pod);
    const words = [constraints.length, keys.length, put.slots(inc.affinity, 0), put.slots(inc.taints, 0)];
    for (const key of keys) {
      const d = this.#domainsOf(key);
      const n = d.values.length;
      words.push(put.lasting(key, d.of, -1), n, put.zeros(n), put.zeros(n));
    }
    for (const c of constraints)
      words.push(
        keys.indexOf(c.topologyKey),
        put.slots(this.#counter(c.selector, pod.namespace), 0),
        c.honorNodeAffinity ? 1 : 0,
        c.honorNodeTaints ? 1 : 0,
        c.maxSkew,
        c.minDomains,
        matches(c.selector, pod.labels) ? 1 : 0,
      );
    return { kernel: 'full', prog: put.words(words) };
  }

  /** Per class and #spreadVersion: the spreadCheck counters and which domains any counted node has. */
  readonly #spreadShape = new WeakMap<
    PodInfo,
    { version: number; counters: DomainCounter[]; present: Uint8Array[]; self: number[] }
  >();

  /** spreadCheck program: [K, K × (domains ptr, matching pods per domain ptr, maxSkew + minMatch - self)]. */
  #spreadCheck(cls: RelClass, constraints: SpreadConstraint[], put: WasmPut): number {
    const pod = cls.info;
    let shape = this.#spreadShape.get(pod);
    if (!shape || shape.version !== this.#spreadVersion) {
      this.#boundCounters();
      const nodes = this.nodes();
      const inc = this.#inclusionOf(pod);
      const ofs = constraints.map((c) => this.#domainsOf(c.topologyKey).of);
      // A node counts for a constraint when it has every constraint's key and the constraint includes it.
      // Nodes that have every constraint's key (the same for all constraints).
      const withKeys = new Uint8Array(nodes.length);
      for (let slot = 0; slot < nodes.length; slot++) {
        if (!nodes[slot]) continue;
        let all = 1;
        for (let k = 0; k < ofs.length; k++) if ((ofs[k]![slot] ?? -1) < 0) all = 0;
        withKeys[slot] = all;
      }
      const counters = constraints.map((c, i) => {
        const eligible = new Uint8Array(nodes.length);
        const aff = c.honorNodeAffinity;
        const taints = c.honorNodeTaints;
        for (let slot = 0; slot < nodes.length; slot++)
          if (withKeys[slot] === 1 && !(aff && inc.affinity[slot] === 0) && !(taints && inc.taints[slot] === 0))
            eligible[slot] = 1;
        const selector = c.selector;
        return this.#domainCounter(
          `${cls.id}\0spread\0${i}`,
          c.topologyKey,
          (e) =>
            selector.length > 0 && !e.terminating && e.namespace === pod.namespace && matches(selector, e.labels)
              ? 1
              : 0,
          eligible,
        );
      });
      const present = counters.map((counter, i) => {
        const p = new Uint8Array(counter.counts.length);
        const of = ofs[i]!;
        for (let slot = 0; slot < nodes.length; slot++) if (counter.eligible![slot] === 1) p[of[slot]!] = 1;
        return p;
      });
      const self = constraints.map((c) => (matches(c.selector, pod.labels) ? 1 : 0));
      shape = { version: this.#spreadVersion, counters, present, self };
      this.#spreadShape.set(pod, shape);
    }
    const words = [constraints.length];
    constraints.forEach((c, i) => {
      const counts = shape.counters[i]!.counts;
      const present = shape.present[i]!;
      let domains = 0;
      let min = Number.MAX_SAFE_INTEGER;
      for (let d = 0; d < present.length; d++)
        if (present[d] === 1) {
          domains++;
          if (counts[d]! < min) min = counts[d]!;
        }
      const minMatch = domains === 0 || domains < c.minDomains ? 0 : min;
      words.push(
        put.lasting(c.topologyKey, this.#domainsOf(c.topologyKey).of, -1),
        put.words(counts),
        c.maxSkew + minMatch - shape.self[i]!,
      );
    });
    return put.words(words);
  }

  /**
   * A weighted per-domain counter (created on first use from the placed pods, then kept by place()). `id` names
   * what the weight depends on; weights are memoised per class.
   */
  /**
   * Called before a program's counters are gathered: every placement updates every counter, so past a bound they are
   * all dropped (cached programs then rebuild and re-create the ones still in use).
   */
  #boundCounters(): void {
    if (this.#domainCounters.size < MAX_DOMAIN_COUNTERS) return;
    this.#domainCounters.clear();
    this.#shapeVersion++;
    this.#spreadVersion++;
  }

  #domainCounter(id: string, key: string, weightOf: (e: PodInfo) => number, eligible?: Uint8Array): DomainCounter {
    let counter = this.#domainCounters.get(`${id}\0${key}`);
    if (counter) return counter;
    const memo = new Map<number, number>();
    const weight = (classId: number): number => {
      let w = memo.get(classId);
      if (w === undefined) memo.set(classId, (w = weightOf(this.#classes.get(classId)!.info)));
      return w;
    };
    const d = this.#domainsOf(key);
    counter = { key, weight, eligible, counts: new Int32Array(Math.max(1, d.values.length)), total: 0 };
    for (const slot of this.#occupied) {
      const dom = d.of[slot] ?? -1;
      if (dom < 0 || (eligible && eligible[slot] !== 1)) continue;
      const e = this.#placedOn(slot);
      for (let j = 0; j < e.length; j += 2) {
        const k = e[j + 1]!;
        const w = weight(e[j]!);
        counter.counts[dom]! += k * w;
        counter.total += k * w;
      }
    }
    this.#domainCounters.set(`${id}\0${key}`, counter);
    return counter;
  }

  /**
   * The affinityFilter kernel's program for a pod of class `cls`, or undefined when nothing can fail (as
   * affinityFilter's early return). Counters per key: pods matching all its required affinity terms, pods its
   * required anti-affinity terms match, placed pods whose required anti-affinity terms match it.
   */
  affinityProgram(cls: RelClass, put: WasmPut): number | undefined {
    const pod = cls.info;
    let shape = this.#affinityShape.get(pod);
    if (!shape || shape.version !== this.#shapeVersion) {
      shape = this.#affinityCounters(cls);
      this.#affinityShape.set(pod, shape);
    }
    const { aff, anti, existing } = shape;
    const antiAny = anyCounted(anti);
    const existingAny = anyCounted(existing);
    if (aff.length === 0 && !antiAny && !existingAny) return undefined;
    const words = [aff.length, anti.length, existing.length, shape.self && !anyCounted(aff) ? 1 : 0];
    this.#counterWords(aff, words, put);
    this.#counterWords(anti, words, put);
    this.#counterWords(existing, words, put);
    return put.words(words);
  }

  /** Appends (domain map, counts, domain count, domain starts, domain members) of each counter to a program. */
  #counterWords(counters: DomainCounter[], words: number[], put: WasmPut): void {
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i]!;
      const d = this.#domainsOf(c.key);
      const { starts, members } = domainNodes(d);
      words.push(
        put.lasting(c.key, d.of, -1),
        put.words(c.counts),
        d.values.length,
        put.lastingWords(`${c.key}\0starts`, starts),
        put.lastingWords(`${c.key}\0members`, members),
      );
    }
  }

  #affinityCounters(cls: RelClass) {
    this.#boundCounters();
    const pod = cls.info;
    const affKeys = [...new Set(pod.requiredAffinityTerms.map((t) => t.topologyKey))];
    const antiKeys = [...new Set(pod.requiredAntiAffinityTerms.map((t) => t.topologyKey))];
    const existingKeys = new Set<string>();
    for (const id of this.#classPlaced.keys())
      for (const t of this.#classes.get(id)!.info.requiredAntiAffinityTerms)
        if (!existingKeys.has(t.topologyKey) && termMatches(t, pod.namespace, pod.labels))
          existingKeys.add(t.topologyKey);
    const aff = affKeys.map((key) =>
      this.#domainCounter(`${cls.id}\0aff`, key, (e) =>
        pod.requiredAffinityTerms.every((t) => termMatches(t, e.namespace, e.labels))
          ? pod.requiredAffinityTerms.filter((t) => t.topologyKey === key).length
          : 0,
      ),
    );
    const anti = antiKeys.map((key) =>
      this.#domainCounter(
        `${cls.id}\0anti`,
        key,
        (e) =>
          pod.requiredAntiAffinityTerms.filter((t) => t.topologyKey === key && termMatches(t, e.namespace, e.labels))
            .length,
      ),
    );
    const existing = [...existingKeys].map((key) =>
      this.#domainCounter(
        `${cls.id}\0existing`,
        key,
        (e) =>
          e.requiredAntiAffinityTerms.filter((t) => t.topologyKey === key && termMatches(t, pod.namespace, pod.labels))
            .length,
      ),
    );
    const self =
      pod.requiredAffinityTerms.length > 0 &&
      pod.requiredAffinityTerms.every((t) => termMatches(t, pod.namespace, pod.labels));
    return { version: this.#shapeVersion, aff, anti, existing, self };
  }

  // ---- InterPodAffinity -----------------------------------------------------------------------------------------

  /** Whether InterPodAffinity can say anything about this pod (else it passes everywhere and scores Skip). */
  affinityRelevant(pod: PodInfo): boolean {
    if (pod.hasAffinity) return true;
    for (const slot of this.#occupied) if (this.#withAffinity[slot]! > 0) return true;
    return false;
  }

  /** InterPodAffinity Filter over the candidate slots. */
  affinityFilter(pod: PodInfo, candidates: Candidates, out: FailureSink): void {
    const wantsTerms = pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0;
    // key → domain counts (only increments, so "size" of the reference maps = any bump happened for that map).
    const existingAnti = new Map<string, Float64Array>();
    const aff = new Map<string, Float64Array>();
    const anti = new Map<string, Float64Array>();
    let affAny = false;
    let antiAny = false;
    let existingAny = false;
    // bump() for every pod of a class at once: add its per-domain tallies (a pod on a node without the key adds
    // nothing, as in the reference). Returns whether any pod was counted.
    const add = (map: Map<string, Float64Array>, key: string, id: number): boolean => {
      const counts = this.#classDomainCounts(key, id);
      if (!counts) return false;
      let arr = map.get(key);
      let any = false;
      for (let d = 0; d < counts.length; d++)
        if (counts[d] !== 0) {
          if (!arr) map.set(key, (arr = new Float64Array(counts.length)));
          arr[d]! += counts[d]!;
          any = true;
        }
      return any;
    };
    for (const id of this.#classPlaced.keys()) {
      const e = this.#classes.get(id)!.info;
      // Only pods with required anti-affinity can block, unless the pod has required terms of its own.
      if (e.requiredAntiAffinityTerms.length === 0 && !wantsTerms) continue;
      for (const t of e.requiredAntiAffinityTerms)
        if (termMatches(t, pod.namespace, pod.labels) && add(existingAnti, t.topologyKey, id)) existingAny = true;
      if (!wantsTerms) continue;
      if (
        pod.requiredAffinityTerms.length > 0 &&
        pod.requiredAffinityTerms.every((t) => termMatches(t, e.namespace, e.labels))
      )
        for (const t of pod.requiredAffinityTerms) if (add(aff, t.topologyKey, id)) affAny = true;
      for (const t of pod.requiredAntiAffinityTerms)
        if (termMatches(t, e.namespace, e.labels) && add(anti, t.topologyKey, id)) antiAny = true;
    }
    const selfAffinity =
      pod.requiredAffinityTerms.length > 0 &&
      pod.requiredAffinityTerms.every((t) => termMatches(t, pod.namespace, pod.labels));
    const view = (map: Map<string, Float64Array>, key: string) => ({ of: this.#domainsOf(key).of, arr: map.get(key) });
    const affTerms = pod.requiredAffinityTerms.map((t) => view(aff, t.topologyKey));
    const antiTerms = pod.requiredAntiAffinityTerms.map((t) => view(anti, t.topologyKey));
    const existing = [...existingAnti.keys()].map((key) => view(existingAnti, key));
    const allowFirst = !affAny && selfAffinity;
    // Nothing can fail: no required terms of its own and no placed pod's anti-affinity selects it.
    if (affTerms.length === 0 && !antiAny && !existingAny) return;
    const { order, codes, code } = candidates;
    for (let i = 0; i < order.length; i++) {
      const slot = order[i]!;
      const earlier = codes[slot]!;
      if (earlier !== 0 && earlier < code) continue;
      // satisfiesAffinity: every topology key present; pods matching all terms there, unless it is the first one.
      let podsExist = true;
      let keysMissing = false;
      for (const t of affTerms) {
        const id = t.of[slot]!;
        if (id < 0) {
          keysMissing = true;
          break;
        }
        if ((t.arr ? t.arr[id]! : 0) <= 0) podsExist = false;
      }
      if (keysMissing || (!podsExist && !allowFirst)) {
        out(slot, affinityReasons);
        continue;
      }
      if (antiAny) {
        let blocked = false;
        for (const t of antiTerms) {
          const id = t.of[slot]!;
          if (id >= 0 && t.arr !== undefined && t.arr[id]! > 0) {
            blocked = true;
            break;
          }
        }
        if (blocked) {
          out(slot, antiAffinityReasons);
          continue;
        }
      }
      if (existingAny)
        for (const e of existing) {
          const id = e.of[slot]!;
          if (id >= 0 && e.arr![id]! > 0) {
            out(slot, existingAntiAffinityReasons);
            break;
          }
        }
    }
  }

  /** InterPodAffinity PreScore + Score + NormalizeScore over the feasible slots; undefined = Skip. */
  affinityScores(pod: PodInfo, feasible: number[]): number[] | undefined {
    const args = this.profile.interPodAffinity;
    const hasConstraints = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    if (args.ignorePreferredTermsOfExistingPods && !hasConstraints) return undefined;
    const nodes = this.nodes();
    // Contributions of one existing class to this pod's scores: [topologyKey, weight] pairs.
    const memo = new Map<number, [string, number][]>();
    const contributions = (id: number): [string, number][] => {
      let list = memo.get(id);
      if (list) return list;
      const e = this.#classes.get(id)!.info;
      list = [];
      const add = (term: AffinityTerm, weight: number, target: PodInfo) => {
        if (termMatches(term, target.namespace, target.labels)) list!.push([term.topologyKey, weight]);
      };
      if (hasConstraints || e.hasAffinity) {
        for (const w of pod.preferredAffinityTerms) add(w.term, w.weight, e);
        for (const w of pod.preferredAntiAffinityTerms) add(w.term, -w.weight, e);
        // ignorePreferredTermsOfExistingPods only skips pods without preferred terms (above), as upstream.
        if (args.hardPodAffinityWeight > 0)
          for (const t of e.requiredAffinityTerms) add(t, args.hardPodAffinityWeight, pod);
        for (const w of e.preferredAffinityTerms) add(w.term, w.weight, pod);
        for (const w of e.preferredAntiAffinityTerms) add(w.term, -w.weight, pod);
      }
      memo.set(id, list);
      return list;
    };
    const byKey = new Map<string, Float64Array>();
    // Every pod of a class contributes the same weights; add them per domain from the class tallies. A key gets an
    // entry once some pod on a node with that key contributes (the reference's map entry), even if it sums to 0.
    for (const id of this.#classPlaced.keys()) {
      for (const [key, weight] of contributions(id)) {
        const counts = this.#classDomainCounts(key, id);
        if (!counts) continue;
        let arr = byKey.get(key);
        for (let d = 0; d < counts.length; d++)
          if (counts[d] !== 0) {
            if (!arr) byKey.set(key, (arr = new Float64Array(counts.length)));
            arr[d]! += weight * counts[d]!;
          }
      }
    }
    if (byKey.size === 0) return undefined;
    const scores = feasible.map((slot) => {
      let sum = 0;
      for (const [key, arr] of byKey) {
        const dom = this.#domainsOf(key).of[slot]!;
        if (dom >= 0) sum += arr[dom]!;
      }
      return sum;
    });
    normalizeInterPodAffinityScores(scores);
    return scores;
  }
}

function anyCounted(counters: DomainCounter[]): boolean {
  for (let i = 0; i < counters.length; i++) if (counters[i]!.total > 0) return true;
  return false;
}

export type { Requirement };
