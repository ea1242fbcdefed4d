// PodTopologySpread: filter on DoNotSchedule constraints (maxSkew against the global minimum, minDomains,
// node inclusion policies, matchLabelKeys); score ScheduleAnyway constraints and the system default constraints
// (upstream plugins/podtopologyspread common.go, filtering.go, scoring.go, k8s v1.33).
import { matches, type Requirement, type Selector } from '../../api/selectors.js';
import { idiv, MaxNodeScore, Skip, type CycleContext, type FilterPlugin, type ScorePlugin } from '../framework.js';
import {
  labelSelector,
  requiredNodeAffinity,
  requiredNodeAffinityMatches,
  type RequiredNodeAffinity,
} from '../selectors.js';
import type { NodeInfo, PodInfo, Snapshot } from '../snapshot.js';
import { systemDefaultConstraints, type TopologySpreadConstraint, type Workload } from '../types.js';
import { firstUntoleratedNoScheduleTaint } from './taint-toleration.js';

export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

const hostnameKey = 'kubernetes.io/hostname';

/** topologySpreadConstraint: a constraint with its selector parsed and defaults applied. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

/** filterTopologySpreadConstraints: the constraints with the given action, matchLabelKeys merged into the selector. */
export function parseConstraints(
  constraints: TopologySpreadConstraint[],
  podLabels: Record<string, string>,
  action: 'DoNotSchedule' | 'ScheduleAnyway',
): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (const c of constraints) {
    if (c.whenUnsatisfiable !== action) continue;
    let selector = labelSelector(c.labelSelector);
    const merged: Requirement[] = [];
    for (const key of c.matchLabelKeys ?? [])
      if (Object.prototype.hasOwnProperty.call(podLabels, key))
        merged.push({ key, operator: 'Equals', values: [podLabels[key]!] });
    if (merged.length > 0) selector = [...merged, ...selector];
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
    });
  }
  return out;
}

/**
 * helper.DefaultSelector: the selectors of Services selecting the pod, merged, then its controller's selector
 * (a ReplicationController's map merged in; a ReplicaSet's or StatefulSet's requirements added).
 */
export function defaultSelector(pod: PodInfo, workloads: Iterable<Workload>): Selector {
  const labelSet: Record<string, string> = {};
  const all = [...workloads].filter((w) => w.namespace === pod.namespace);
  for (const w of all) {
    if (w.kind !== 'Service') continue;
    const set = w.selector.matchLabels ?? {};
    const sel = Object.entries(set).map(([key, v]): Requirement => ({ key, operator: 'Equals', values: [v] }));
    if (matches(sel, pod.labels)) Object.assign(labelSet, set);
  }
  const fromSet = (): Requirement[] =>
    Object.keys(labelSet)
      .sort()
      .map((key) => ({ key, operator: 'Equals', values: [labelSet[key]!] }));
  let selector: Requirement[] = fromSet();
  const owner = (pod.pod.metadata?.ownerReferences ?? []).find((o) => o.controller === true);
  if (!owner) return selector;
  const kindOf: Record<string, Workload['kind']> = {
    'v1/ReplicationController': 'ReplicationController',
    'apps/v1/ReplicaSet': 'ReplicaSet',
    'apps/v1/StatefulSet': 'StatefulSet',
  };
  const kind = kindOf[`${owner.apiVersion}/${owner.kind}`];
  const w = kind && all.find((x) => x.kind === kind && x.name === owner.name);
  if (!w) return selector;
  if (kind === 'ReplicationController') {
    Object.assign(labelSet, w.selector.matchLabels ?? {});
    selector = fromSet();
  } else {
    selector = [...selector, ...labelSelector(w.selector)];
  }
  return selector;
}

/** buildDefaultConstraints: the profile's default constraints with the pod's default selector, if it has one. */
function defaultConstraints(ctx: CycleContext, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const cfg = ctx.profile.podTopologySpread;
  const list = cfg.defaultingType === 'System' ? systemDefaultConstraints : cfg.defaultConstraints;
  const constraints = parseConstraints([...list], ctx.pod.labels, action);
  if (constraints.length === 0) return [];
  const selector = defaultSelector(ctx.pod, ctx.snapshot.workloads.values());
  if (selector.length === 0) return [];
  return constraints.map((c) => ({ ...c, selector }));
}

function podConstraints(ctx: CycleContext, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const own = ctx.pod.pod.spec?.topologySpreadConstraints ?? [];
  return own.length > 0 ? parseConstraints(own, ctx.pod.labels, action) : defaultConstraints(ctx, action);
}

function hasAllTopologyKeys(labels: Record<string, string>, constraints: SpreadConstraint[]): boolean {
  return constraints.every((c) => Object.prototype.hasOwnProperty.call(labels, c.topologyKey));
}

/** matchNodeInclusionPolicies: nodeAffinityPolicy Honor → node must match; nodeTaintsPolicy Honor → no untolerated. */
function nodeIncluded(c: SpreadConstraint, pod: PodInfo, node: NodeInfo, affinity: RequiredNodeAffinity): boolean {
  if (c.honorNodeAffinity && !requiredNodeAffinityMatches(affinity, node.node)) return false;
  if (c.honorNodeTaints && firstUntoleratedNoScheduleTaint(node.taints, pod.pod.spec?.tolerations ?? [])) return false;
  return true;
}

/** countPodsMatchSelector: pods of the namespace, not terminating, matching; an empty selector counts nothing. */
export function countMatching(node: NodeInfo, selector: Selector, namespace: string): number {
  if (selector.length === 0) return 0;
  let n = 0;
  for (const p of node.pods.values())
    if (!p.terminating && p.namespace === namespace && matches(selector, p.labels)) n++;
  return n;
}

// --- filter ---------------------------------------------------------------------------------------------------------

interface FilterState {
  constraints: SpreadConstraint[];
  /** "key\0value" → matching pods (upstream TpPairToMatchNum: constraints sharing a key share the counts). */
  pairCounts: Map<string, number>;
  /** topologyKey → minimum over its pairs and number of domains. */
  minByKey: Map<string, number>;
  domainsByKey: Map<string, number>;
}

function pairKey(key: string, value: string): string {
  return `${key}\0${value}`;
}

function filterState(ctx: CycleContext, snapshot: Snapshot): FilterState {
  const constraints = podConstraints(ctx, 'DoNotSchedule');
  const state: FilterState = { constraints, pairCounts: new Map(), minByKey: new Map(), domainsByKey: new Map() };
  if (constraints.length === 0) return state;
  const affinity = requiredNodeAffinity(ctx.pod.pod);
  for (const node of snapshot.nodes()) {
    if (!hasAllTopologyKeys(node.labels, constraints)) continue;
    // Upstream assigns per node (a later constraint on the same key overwrites) and then sums over nodes.
    const perNode = new Map<string, number>();
    for (const c of constraints) {
      if (!nodeIncluded(c, ctx.pod, node, affinity)) continue;
      perNode.set(
        pairKey(c.topologyKey, node.labels[c.topologyKey]!),
        countMatching(node, c.selector, ctx.pod.namespace),
      );
    }
    for (const [pk, count] of perNode) state.pairCounts.set(pk, (state.pairCounts.get(pk) ?? 0) + count);
  }
  for (const [pk, count] of state.pairCounts) {
    const key = pk.slice(0, pk.indexOf('\0'));
    state.domainsByKey.set(key, (state.domainsByKey.get(key) ?? 0) + 1);
    state.minByKey.set(key, Math.min(state.minByKey.get(key) ?? Number.MAX_SAFE_INTEGER, count));
  }
  return state;
}

export const podTopologySpreadFilter: FilterPlugin<FilterState> = {
  name: 'PodTopologySpread',
  preFilter: (ctx) => ({ state: filterState(ctx, ctx.snapshot) }),
  filter(ctx, state, node) {
    for (const c of state.constraints) {
      if (!Object.prototype.hasOwnProperty.call(node.labels, c.topologyKey)) return [ErrReasonNodeLabelNotMatch];
      const domains = state.domainsByKey.get(c.topologyKey) ?? 0;
      const minMatch = domains < c.minDomains ? 0 : (state.minByKey.get(c.topologyKey) ?? 0);
      const self = matches(c.selector, ctx.pod.labels) ? 1 : 0;
      const matchNum = state.pairCounts.get(pairKey(c.topologyKey, node.labels[c.topologyKey]!)) ?? 0;
      if (matchNum + self - minMatch > c.maxSkew) return [ErrReasonConstraintsNotMatch];
    }
    return undefined;
  },
};

// --- score ----------------------------------------------------------------------------------------------------------

interface ScoreState {
  constraints: SpreadConstraint[];
  ignored: Set<string>;
  /** Per constraint: topology value → matching pods (hostname constraints are counted per node at Score). */
  counts: Map<string, number>[];
  weights: number[];
}

/** topologyNormalizingWeight: log(size + 2). */
export function topologyNormalizingWeight(size: number): number {
  return Math.log(size + 2);
}

export function scoreForCount(count: number, maxSkew: number, weight: number): number {
  return count * weight + (maxSkew - 1);
}

export const podTopologySpreadScore: ScorePlugin<ScoreState> = {
  name: 'PodTopologySpread',
  preScore(ctx, feasible) {
    if (ctx.snapshot.size === 0) return Skip;
    const constraints = podConstraints(ctx, 'ScheduleAnyway');
    if (constraints.length === 0) return Skip;
    // Only user constraints need every topology key on a node; system defaults still spread by hostname.
    const requireAll =
      (ctx.pod.pod.spec?.topologySpreadConstraints ?? []).length > 0 ||
      ctx.profile.podTopologySpread.defaultingType !== 'System';
    const state: ScoreState = {
      constraints,
      ignored: new Set(),
      counts: constraints.map(() => new Map()),
      weights: [],
    };
    const sizes = constraints.map(() => 0);
    for (const node of feasible) {
      if (requireAll && !hasAllTopologyKeys(node.labels, constraints)) {
        state.ignored.add(node.name);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === hostnameKey) return;
        const value = node.labels[c.topologyKey] ?? '';
        if (!state.counts[i]!.has(value)) {
          state.counts[i]!.set(value, 0);
          sizes[i]!++;
        }
      });
    }
    state.weights = constraints.map((c, i) =>
      topologyNormalizingWeight(c.topologyKey === hostnameKey ? feasible.length - state.ignored.size : sizes[i]!),
    );
    const affinity = requiredNodeAffinity(ctx.pod.pod);
    for (const node of ctx.snapshot.nodes()) {
      if (requireAll && !hasAllTopologyKeys(node.labels, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!nodeIncluded(c, ctx.pod, node, affinity)) return;
        const value = node.labels[c.topologyKey] ?? '';
        const current = state.counts[i]!.get(value);
        if (current === undefined) return;
        state.counts[i]!.set(value, current + countMatching(node, c.selector, ctx.pod.namespace));
      });
    }
    return state;
  },
  score(ctx, state, node) {
    if (state.ignored.has(node.name)) return 0;
    let score = 0;
    state.constraints.forEach((c, i) => {
      if (!Object.prototype.hasOwnProperty.call(node.labels, c.topologyKey)) return;
      const count =
        c.topologyKey === hostnameKey
          ? countMatching(node, c.selector, ctx.pod.namespace)
          : state.counts[i]!.get(node.labels[c.topologyKey]!)!;
      score += scoreForCount(count, c.maxSkew, state.weights[i]!);
    });
    return Math.round(score);
  },
  normalize(_ctx, state, feasible, scores) {
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    feasible.forEach((node, i) => {
      if (state.ignored.has(node.name)) return;
      if (scores[i]! < min) min = scores[i]!;
      if (scores[i]! > max) max = scores[i]!;
    });
    feasible.forEach((node, i) => {
      if (state.ignored.has(node.name)) scores[i] = 0;
      else if (max === 0) scores[i] = MaxNodeScore;
      else scores[i] = idiv(MaxNodeScore * (max + min - scores[i]!), max);
    });
  },
};
