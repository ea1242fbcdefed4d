// InterPodAffinity: filter on the pod's required affinity / anti-affinity and on the required anti-affinity of pods
// already placed; score preferred terms both ways plus existing pods' required affinity (hardPodAffinityWeight),
// min-max normalised (upstream plugins/interpodaffinity filtering.go and scoring.go, k8s v1.33).
import { MaxNodeScore, Skip, type CycleContext, type FilterPlugin, type ScorePlugin } from '../framework.js';
import { termMatches, type AffinityTerm } from '../selectors.js';
import type { NodeInfo, PodInfo, WeightedAffinityTerm } from '../snapshot.js';

export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";
export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";

/** topologyToMatchedTermCount: "key\0value" → count. */
type PairCounts = Map<string, number>;

function bump(counts: PairCounts, node: NodeInfo, topologyKey: string, delta: number): void {
  if (!Object.prototype.hasOwnProperty.call(node.labels, topologyKey)) return;
  const k = `${topologyKey}\0${node.labels[topologyKey]}`;
  const v = (counts.get(k) ?? 0) + delta;
  if (v === 0) counts.delete(k);
  else counts.set(k, v);
}

function countAt(counts: PairCounts, node: NodeInfo, topologyKey: string): number | undefined {
  if (!Object.prototype.hasOwnProperty.call(node.labels, topologyKey)) return undefined;
  return counts.get(`${topologyKey}\0${node.labels[topologyKey]}`) ?? 0;
}

/** podMatchesAllAffinityTerms: false for no terms. */
function matchesAllTerms(terms: AffinityTerm[], pod: PodInfo): boolean {
  return terms.length > 0 && terms.every((t) => termMatches(t, pod.namespace, pod.labels));
}

interface FilterState {
  existingAntiAffinity: PairCounts;
  affinity: PairCounts;
  antiAffinity: PairCounts;
}

function filterState(ctx: CycleContext): FilterState {
  const pod = ctx.pod;
  const state: FilterState = { existingAntiAffinity: new Map(), affinity: new Map(), antiAffinity: new Map() };
  const wantsTerms = pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0;
  for (const node of ctx.snapshot.nodes()) {
    if (node.podsWithRequiredAntiAffinity === 0 && !wantsTerms) continue;
    for (const existing of node.pods.values()) {
      // Existing pods whose required anti-affinity selects the incoming pod block their topology domain.
      for (const t of existing.requiredAntiAffinityTerms)
        if (termMatches(t, pod.namespace, pod.labels)) bump(state.existingAntiAffinity, node, t.topologyKey, 1);
      if (!wantsTerms) continue;
      if (matchesAllTerms(pod.requiredAffinityTerms, existing))
        for (const t of pod.requiredAffinityTerms) bump(state.affinity, node, t.topologyKey, 1);
      for (const t of pod.requiredAntiAffinityTerms)
        if (termMatches(t, existing.namespace, existing.labels)) bump(state.antiAffinity, node, t.topologyKey, 1);
    }
  }
  return state;
}

function satisfiesAffinity(ctx: CycleContext, state: FilterState, node: NodeInfo): boolean {
  let podsExist = true;
  for (const t of ctx.pod.requiredAffinityTerms) {
    const c = countAt(state.affinity, node, t.topologyKey);
    if (c === undefined) return false; // every topology key must exist on the node
    if (c <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself may go anywhere with the topology keys.
  return state.affinity.size === 0 && matchesAllTerms(ctx.pod.requiredAffinityTerms, ctx.pod);
}

function satisfiesAntiAffinity(ctx: CycleContext, state: FilterState, node: NodeInfo): boolean {
  if (state.antiAffinity.size === 0) return true;
  for (const t of ctx.pod.requiredAntiAffinityTerms)
    if ((countAt(state.antiAffinity, node, t.topologyKey) ?? 0) > 0) return false;
  return true;
}

function satisfiesExistingAntiAffinity(state: FilterState, node: NodeInfo): boolean {
  if (state.existingAntiAffinity.size === 0) return true;
  for (const [key, value] of Object.entries(node.labels))
    if ((state.existingAntiAffinity.get(`${key}\0${value}`) ?? 0) > 0) return false;
  return true;
}

export const interPodAffinityFilter: FilterPlugin<FilterState> = {
  name: 'InterPodAffinity',
  preFilter: (ctx) => ({ state: filterState(ctx) }),
  filter(ctx, state, node) {
    if (!satisfiesAffinity(ctx, state, node)) return [ErrReasonAffinityRulesNotMatch];
    if (!satisfiesAntiAffinity(ctx, state, node)) return [ErrReasonAntiAffinityRulesNotMatch];
    if (!satisfiesExistingAntiAffinity(state, node)) return [ErrReasonExistingAntiAffinityRulesNotMatch];
    return undefined;
  },
};

// --- score ----------------------------------------------------------------------------------------------------------

/** topologyKey → topology value → score. */
type TopologyScore = Map<string, Map<string, number>>;

function addTerm(
  scores: TopologyScore,
  term: AffinityTerm,
  weight: number,
  target: PodInfo,
  node: NodeInfo,
  multiplier: number,
): void {
  if (!termMatches(term, target.namespace, target.labels)) return;
  if (!Object.prototype.hasOwnProperty.call(node.labels, term.topologyKey)) return;
  let byValue = scores.get(term.topologyKey);
  if (!byValue) scores.set(term.topologyKey, (byValue = new Map()));
  const v = node.labels[term.topologyKey]!;
  byValue.set(v, (byValue.get(v) ?? 0) + weight * multiplier);
}

function addWeighted(scores: TopologyScore, terms: WeightedAffinityTerm[], target: PodInfo, node: NodeInfo, m: number) {
  for (const w of terms) addTerm(scores, w.term, w.weight, target, node, m);
}

export const interPodAffinityScore: ScorePlugin<TopologyScore> = {
  name: 'InterPodAffinity',
  preScore(ctx) {
    const pod = ctx.pod;
    const args = ctx.profile.interPodAffinity;
    const hasConstraints = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    if (args.ignorePreferredTermsOfExistingPods && !hasConstraints) return Skip;
    const scores: TopologyScore = new Map();
    for (const node of ctx.snapshot.nodes()) {
      // Without preferred terms of its own, only pods with affinity can contribute.
      if (!hasConstraints && node.podsWithAffinity === 0) continue;
      if (Object.keys(node.labels).length === 0) continue;
      for (const existing of node.pods.values()) {
        if (!hasConstraints && !existing.hasAffinity) continue;
        addWeighted(scores, pod.preferredAffinityTerms, existing, node, 1);
        addWeighted(scores, pod.preferredAntiAffinityTerms, existing, node, -1);
        if (args.hardPodAffinityWeight > 0)
          for (const t of existing.requiredAffinityTerms) addTerm(scores, t, args.hardPodAffinityWeight, pod, node, 1);
        addWeighted(scores, existing.preferredAffinityTerms, pod, node, 1);
        addWeighted(scores, existing.preferredAntiAffinityTerms, pod, node, -1);
      }
    }
    return scores.size === 0 ? Skip : scores;
  },
  score(_ctx, scores, node) {
    let sum = 0;
    for (const [key, byValue] of scores)
      if (Object.prototype.hasOwnProperty.call(node.labels, key)) sum += byValue.get(node.labels[key]!) ?? 0;
    return sum;
  },
  normalize(_ctx, _state, _nodes, scores) {
    normalizeInterPodAffinityScores(scores);
  },
};

/** InterPodAffinity's NormalizeScore: min-max onto 0..MaxNodeScore, truncated (all 0 when every score is equal). */
export function normalizeInterPodAffinityScores(scores: number[]): void {
  let min = Infinity;
  let max = -Infinity;
  for (const s of scores) {
    if (s > max) max = s;
    if (s < min) min = s;
  }
  const diff = max - min;
  for (let i = 0; i < scores.length; i++)
    scores[i] = diff > 0 ? Math.trunc(MaxNodeScore * ((scores[i]! - min) / diff)) : 0;
}
