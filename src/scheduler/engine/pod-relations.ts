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

  constructor(
    readonly profile: Profile,
    readonly snapshot: Snapshot,
    readonly nodes: () => (NodeInfo | undefined)[],
  ) {}

  /** Node membership or labels changed: interned topology values are recomputed on next use. */
  nodesChanged(): void {
    this.#epoch++;
    this.#domains.clear();
  }

  defineClass(c: RelClass): void {
    this.#classes.set(c.id, c);
  }

  /** Counts a pod of class c on a slot (sign 1) or stops counting it (-1). */
  place(slot: number, c: RelClass, sign: 1 | -1): void {
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
    if (n === 0) m.delete(c.id);
    else m.set(c.id, n);
    if (m.size === 0) this.#occupied.delete(slot);
    else this.#occupied.add(slot);
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

  /** countPodsMatchSelector on one node: placed, not terminating, same namespace, matching; empty selector: 0. */
  #countMatching(slot: number, selector: Selector, namespace: string, memo: Map<number, boolean>): number {
    if (selector.length === 0) return 0;
    const m = this.#placed[slot];
    if (!m) return 0;
    let n = 0;
    for (const [id, count] of m) {
      let ok = memo.get(id);
      if (ok === undefined) {
        const e = this.#classes.get(id)!.info;
        ok = !e.terminating && e.namespace === namespace && matches(selector, e.labels);
        memo.set(id, ok);
      }
      if (ok) n += count;
    }
    return n;
  }

  // ---- PodTopologySpread ----------------------------------------------------------------------------------------

  /** podConstraints of the reference: the pod's own constraints, else the defaults with its default selector. */
  #constraints(pod: PodInfo, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
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

  /** Whether the pod has constraints of either kind (then it needs this module at all). */
  hasSpreadConstraints(pod: PodInfo): boolean {
    return this.#constraints(pod, 'DoNotSchedule').length > 0 || this.#constraints(pod, 'ScheduleAnyway').length > 0;
  }

  #included(c: SpreadConstraint, pod: PodInfo, node: NodeInfo, affinity: ReturnType<typeof requiredNodeAffinity>) {
    if (c.honorNodeAffinity && !requiredNodeAffinityMatches(affinity, node.node)) return false;
    if (c.honorNodeTaints && firstUntoleratedNoScheduleTaint(node.taints, pod.pod.spec?.tolerations ?? []))
      return false;
    return true;
  }

  /** PodTopologySpread Filter over the candidate slots; returns the failing ones with reasons. */
  spreadFilter(pod: PodInfo, candidates: number[], out: Map<number, string[]>): void {
    const constraints = this.#constraints(pod, 'DoNotSchedule');
    if (constraints.length === 0) return;
    const nodes = this.nodes();
    const affinity = requiredNodeAffinity(pod.pod);
    // pairCounts per topology key, by domain id; present marks pairs that exist (TpPairToMatchNum keys).
    const keys = [...new Set(constraints.map((c) => c.topologyKey))];
    const doms = new Map(keys.map((k) => [k, this.#domainsOf(k)]));
    const counts = new Map(keys.map((k) => [k, new Float64Array(doms.get(k)!.values.length)]));
    const present = new Map(keys.map((k) => [k, new Uint8Array(doms.get(k)!.values.length)]));
    const memos = constraints.map(() => new Map<number, boolean>());
    const perNode = new Map<string, number>();
    nodes.forEach((node, slot) => {
      if (!node) return;
      for (const c of constraints) if (doms.get(c.topologyKey)!.of[slot]! < 0) return;
      perNode.clear();
      constraints.forEach((c, i) => {
        if (!this.#included(c, pod, node, affinity)) return;
        perNode.set(c.topologyKey, this.#countMatching(slot, c.selector, pod.namespace, memos[i]!));
      });
      for (const [key, count] of perNode) {
        const d = doms.get(key)!.of[slot]!;
        counts.get(key)![d]! += count;
        present.get(key)![d] = 1;
      }
    });
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
    for (const slot of candidates) {
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]!;
        const d = doms.get(c.topologyKey)!.of[slot]!;
        if (d < 0) {
          out.set(slot, [ErrReasonNodeLabelNotMatch]);
          break;
        }
        const domains = domainsByKey.get(c.topologyKey) ?? 0;
        const minMatch = domains < c.minDomains ? 0 : (minByKey.get(c.topologyKey) ?? 0);
        const matchNum = present.get(c.topologyKey)![d] ? counts.get(c.topologyKey)![d]! : 0;
        if (matchNum + self[i]! - minMatch > c.maxSkew) {
          out.set(slot, [ErrReasonConstraintsNotMatch]);
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
    const affinity = requiredNodeAffinity(pod.pod);
    const memos = constraints.map(() => new Map<number, boolean>());
    // Only nodes with matching pods add to a count; skip the empty ones (adding 0 changes nothing).
    for (const slot of this.#occupied) {
      const node = nodes[slot];
      if (!node) continue;
      if (requireAll && !hasAll(node)) continue;
      constraints.forEach((c, i) => {
        if (c.topologyKey === hostnameKey) return;
        if (!this.#included(c, pod, node, affinity)) return;
        const value = node.labels[c.topologyKey] ?? '';
        const current = counts[i]!.get(value);
        if (current === undefined) return;
        counts[i]!.set(value, current + this.#countMatching(slot, c.selector, pod.namespace, memos[i]!));
      });
    }
    const scores = feasible.map((slot) => {
      if (ignored.has(slot)) return 0;
      const node = nodes[slot]!;
      let score = 0;
      constraints.forEach((c, i) => {
        if (!has(node.labels, c.topologyKey)) return;
        const count =
          c.topologyKey === hostnameKey
            ? this.#countMatching(slot, c.selector, pod.namespace, memos[i]!)
            : counts[i]!.get(node.labels[c.topologyKey]!)!;
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
  affinityFilter(pod: PodInfo, candidates: number[], out: Map<number, string[]>): void {
    const wantsTerms = pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0;
    // key → domain counts (only increments, so "size" of the reference maps = any bump happened for that map).
    const existingAnti = new Map<string, Float64Array>();
    const aff = new Map<string, Float64Array>();
    const anti = new Map<string, Float64Array>();
    let affAny = false;
    let antiAny = false;
    let existingAny = false;
    const bump = (map: Map<string, Float64Array>, slot: number, key: string, k: number): boolean => {
      const d = this.#domainsOf(key);
      const id = d.of[slot]!;
      if (id < 0) return false;
      let arr = map.get(key);
      if (!arr) map.set(key, (arr = new Float64Array(d.values.length)));
      arr[id]! += k;
      return true;
    };
    const pairMemo = new Map<number, { existingAnti: string[]; affAll: boolean; anti: string[] }>();
    const pair = (id: number) => {
      let p = pairMemo.get(id);
      if (p) return p;
      const e = this.#classes.get(id)!.info;
      p = {
        existingAnti: e.requiredAntiAffinityTerms
          .filter((t) => termMatches(t, pod.namespace, pod.labels))
          .map((t) => t.topologyKey),
        affAll:
          pod.requiredAffinityTerms.length > 0 &&
          pod.requiredAffinityTerms.every((t) => termMatches(t, e.namespace, e.labels)),
        anti: pod.requiredAntiAffinityTerms
          .filter((t) => termMatches(t, e.namespace, e.labels))
          .map((t) => t.topologyKey),
      };
      pairMemo.set(id, p);
      return p;
    };
    for (const slot of this.#occupied) {
      if (!this.nodes()[slot]) continue;
      if (this.#withRequiredAnti[slot] === 0 && !wantsTerms) continue;
      for (const [id, k] of this.#placed[slot]!) {
        const p = pair(id);
        for (const key of p.existingAnti) if (bump(existingAnti, slot, key, k)) existingAny = true;
        if (!wantsTerms) continue;
        if (p.affAll) for (const t of pod.requiredAffinityTerms) if (bump(aff, slot, t.topologyKey, k)) affAny = true;
        for (const key of p.anti) if (bump(anti, slot, key, k)) antiAny = true;
      }
    }
    const countAt = (map: Map<string, Float64Array>, slot: number, key: string): number | undefined => {
      const id = this.#domainsOf(key).of[slot]!;
      if (id < 0) return undefined;
      return map.get(key)?.[id] ?? 0;
    };
    const selfAffinity =
      pod.requiredAffinityTerms.length > 0 &&
      pod.requiredAffinityTerms.every((t) => termMatches(t, pod.namespace, pod.labels));
    for (const slot of candidates) {
      // satisfiesAffinity
      let podsExist = true;
      let keysMissing = false;
      for (const t of pod.requiredAffinityTerms) {
        const c = countAt(aff, slot, t.topologyKey);
        if (c === undefined) {
          keysMissing = true;
          break;
        }
        if (c <= 0) podsExist = false;
      }
      if (keysMissing || (!podsExist && !(!affAny && selfAffinity))) {
        out.set(slot, [ErrReasonAffinityRulesNotMatch]);
        continue;
      }
      if (antiAny) {
        let blocked = false;
        for (const t of pod.requiredAntiAffinityTerms)
          if ((countAt(anti, slot, t.topologyKey) ?? 0) > 0) {
            blocked = true;
            break;
          }
        if (blocked) {
          out.set(slot, [ErrReasonAntiAffinityRulesNotMatch]);
          continue;
        }
      }
      if (existingAny) {
        for (const [key, arr] of existingAnti) {
          const id = this.#domainsOf(key).of[slot]!;
          if (id >= 0 && arr[id]! > 0) {
            out.set(slot, [ErrReasonExistingAntiAffinityRulesNotMatch]);
            break;
          }
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
    // Nodes without pods add nothing; the reference's order of additions does not matter (integer sums).
    for (const slot of this.#occupied) {
      const node = nodes[slot];
      if (!node) continue;
      if (!hasConstraints && this.#withAffinity[slot] === 0) continue;
      let anyLabel = false;
      for (const _ in node.labels) {
        anyLabel = true;
        break;
      }
      if (!anyLabel) continue;
      for (const [id, k] of this.#placed[slot]!) {
        for (const [key, weight] of contributions(id)) {
          const d = this.#domainsOf(key);
          const dom = d.of[slot]!;
          if (dom < 0) continue;
          let arr = byKey.get(key);
          if (!arr) byKey.set(key, (arr = new Float64Array(d.values.length)));
          // The reference adds weight once per existing pod.
          arr[dom]! += weight * k;
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
