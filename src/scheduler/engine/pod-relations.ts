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
import { firstUntoleratedNoScheduleTaint } from '../plugins/taint-toleration.js';
import { requiredNodeAffinity, requiredNodeAffinityMatches, termMatches, type AffinityTerm } from '../selectors.js';
import type { NodeInfo, PodInfo, Snapshot } from '../snapshot.js';
import { systemDefaultConstraints, type Profile } from '../types.js';

const hostnameKey = 'kubernetes.io/hostname';
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

export interface RelationResult {
  /** Per slot: 0 passes, else the code of the failing plugin. */
  reasons: Map<number, string[]>;
  codes: Map<number, number>;
}

export class PodRelations {
  /** slot → classId → placed pods. */
  readonly #placed: (Map<number, number> | undefined)[] = [];
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
    this.#count(slot, c, sign);
  }

  /** place(slot, c, 1) for slots[0..count) (a run of one class's decisions). */
  placeMany(slots: Int32Array, from: number, count: number, c: RelClass): void {
    if (count === 0) return;
    let top = 0;
    for (let i = from; i < from + count; i++) if (slots[i]! > top) top = slots[i]!;
    this.#grow(top + 1);
    this.#classPlaced.set(c.id, (this.#classPlaced.get(c.id) ?? 0) + count);
    for (let i = from; i < from + count; i++) this.#count(slots[i]!, c, 1);
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
    if (slot >= this.#withAffinity.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(Math.max(64, slot * 2));
        b.set(a);
        return b;
      };
      this.#withAffinity = grow(this.#withAffinity);
      this.#withRequiredAnti = grow(this.#withRequiredAnti);
    }
    let m = this.#placed[slot];
    if (!m) this.#placed[slot] = m = new Map();
    const n = (m.get(c.id) ?? 0) + sign;
    if (n === 0) {
      m.delete(c.id);
      if (m.size === 0) this.#occupied.delete(slot);
    } else {
      m.set(c.id, n);
      if (n === sign && m.size === 1) this.#occupied.add(slot);
    }
    if (c.info.hasAffinity) this.#withAffinity[slot]! += sign;
    if (c.info.requiredAntiAffinityTerms.length > 0) this.#withRequiredAnti[slot]! += sign;
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
      for (const slot of this.#occupied)
        for (const [id, k] of this.#placed[slot]!) if (matchesClass(id)) counter.counts[slot]! += k;
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
        for (const [cid, k] of this.#placed[slot]!) {
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
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s > max) max = s;
      if (s < min) min = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++)
      scores[i] = diff > 0 ? Math.trunc(MaxNodeScore * ((scores[i]! - min) / diff)) : 0;
    return scores;
  }
}

export type { Requirement };
