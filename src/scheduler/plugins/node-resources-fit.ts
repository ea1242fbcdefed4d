// NodeResourcesFit: filter on requests against allocatable minus what placed pods request; score with the
// LeastAllocated, MostAllocated or RequestedToCapacityRatio strategy (upstream plugins/noderesources fit.go,
// resource_allocation.go, least_allocated.go, most_allocated.go, requested_to_capacity_ratio.go).
import { idiv, MaxNodeScore, type FilterPlugin, type ScorePlugin } from '../framework.js';
import { isExtendedResourceName, isScalarResourceName, podRequests } from '../resources.js';
import type { NodeInfo, PodInfo } from '../snapshot.js';
import type { Profile, ResourceWeight, UtilizationShapePoint } from '../types.js';

// --- filter ---------------------------------------------------------------------------------------------------------

/** fitsRequest: every insufficient resource, in upstream's order (pods, cpu, memory, ephemeral, scalar by name). */
export function insufficientResources(pod: PodInfo, node: NodeInfo, profile: Profile): string[] {
  const out: string[] = [];
  if (node.pods.size + 1 > node.allocatable.allowedPods) out.push('Too many pods');
  const req = pod.request;
  if (req.milliCpu === 0 && req.memory === 0 && req.ephemeralStorage === 0 && req.scalar.size === 0) return out;
  const alloc = node.allocatable;
  const used = node.requested;
  if (req.milliCpu > 0 && req.milliCpu > alloc.milliCpu - used.milliCpu) out.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) out.push('Insufficient memory');
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage)
    out.push('Insufficient ephemeral-storage');
  if (req.scalar.size === 0) return out;
  const ignored = new Set(profile.nodeResourcesFit.ignoredResources);
  const ignoredGroups = new Set(profile.nodeResourcesFit.ignoredResourceGroups);
  // Upstream walks a Go map here; sorting keeps explain() stable (the unschedulable message is sorted anyway).
  for (const name of [...req.scalar.keys()].sort()) {
    const q = req.scalar.get(name)!;
    if (q === 0) continue;
    if (isExtendedResourceName(name) && (ignored.has(name) || ignoredGroups.has(name.split('/')[0]!))) continue;
    if (q > (alloc.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) out.push(`Insufficient ${name}`);
  }
  return out;
}

export const nodeResourcesFitFilter: FilterPlugin<undefined> = {
  name: 'NodeResourcesFit',
  preFilter: () => ({ state: undefined }),
  filter(ctx, _state, node) {
    const reasons = insufficientResources(ctx.pod, node, ctx.profile);
    return reasons.length > 0 ? reasons : undefined;
  },
};

// --- shared scoring plumbing (resourceAllocationScorer) ---------------------------------------------------------------

/** The pod's request of each scored resource; with useRequested false, missing cpu/memory count 100m/200Mi. */
export function scoredPodRequests(pod: PodInfo, resources: ResourceWeight[], useRequested: boolean): number[] {
  const reqs = podRequests(pod.pod, !useRequested);
  return resources.map((r) => reqs.get(r.name) ?? 0);
}

/**
 * calculateResourceAllocatableRequest for each resource: [allocatable, requested-with-pod]; a resource the node lacks,
 * or a scalar resource the pod does not request, is [0, 0] (skipped by the scorers).
 */
export function allocatableAndRequested(
  node: NodeInfo,
  resources: ResourceWeight[],
  podRequest: number[],
  useRequested: boolean,
  out: { allocatable: number[]; requested: number[] } = { allocatable: [], requested: [] },
): { allocatable: number[]; requested: number[] } {
  for (let i = 0; i < resources.length; i++) {
    const name = resources[i]!.name;
    const want = podRequest[i]!;
    let alloc = 0;
    let req = 0;
    if (!(want === 0 && isScalarResourceName(name))) {
      switch (name) {
        case 'cpu':
          alloc = node.allocatable.milliCpu;
          req = (useRequested ? node.requested.milliCpu : node.nonZeroCpu) + want;
          break;
        case 'memory':
          alloc = node.allocatable.memory;
          req = (useRequested ? node.requested.memory : node.nonZeroMemory) + want;
          break;
        case 'ephemeral-storage':
          alloc = node.allocatable.ephemeralStorage;
          req = node.requested.ephemeralStorage + want;
          break;
        default:
          if (node.allocatable.scalar.has(name)) {
            alloc = node.allocatable.scalar.get(name)!;
            req = (node.requested.scalar.get(name) ?? 0) + want;
          }
      }
    }
    out.allocatable[i] = alloc;
    out.requested[i] = alloc === 0 ? 0 : req;
  }
  return out;
}

// --- strategies -----------------------------------------------------------------------------------------------------

export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return idiv((capacity - requested) * MaxNodeScore, capacity);
}

export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return idiv(Math.min(requested, capacity) * MaxNodeScore, capacity);
}

/** Weighted integer mean of per-resource scores over resources the node has. */
function weightedMean(
  resources: ResourceWeight[],
  requested: number[],
  allocatable: number[],
  perResource: (req: number, cap: number) => number,
): number {
  let nodeScore = 0;
  let weightSum = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    nodeScore += perResource(requested[i]!, allocatable[i]!) * resources[i]!.weight;
    weightSum += resources[i]!.weight;
  }
  return weightSum === 0 ? 0 : idiv(nodeScore, weightSum);
}

/** MaxCustomPriorityScore of the config API: shape scores are 0..10 and scaled by 100/10. */
export const MaxCustomPriorityScore = 10;

/** helper.BuildBrokenLinearFunction over the (utilization, scaled score) points. */
export function brokenLinear(shape: UtilizationShapePoint[], p: number): number {
  for (let i = 0; i < shape.length; i++) {
    if (p <= shape[i]!.utilization) {
      if (i === 0) return shape[0]!.score;
      const a = shape[i - 1]!;
      const b = shape[i]!;
      return a.score + idiv((b.score - a.score) * (p - a.utilization), b.utilization - a.utilization);
    }
  }
  return shape[shape.length - 1]!.score;
}

export function requestedToCapacityRatioScorer(
  shapeArg: UtilizationShapePoint[],
  resources: ResourceWeight[],
): (requested: number[], allocatable: number[]) => number {
  const shape = shapeArg.map((p) => ({
    utilization: p.utilization,
    score: p.score * idiv(MaxNodeScore, MaxCustomPriorityScore),
  }));
  const resourceScore = (requested: number, capacity: number) =>
    capacity === 0 || requested > capacity
      ? brokenLinear(shape, 100)
      : brokenLinear(shape, idiv(requested * 100, capacity));
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const s = resourceScore(requested[i]!, allocatable[i]!);
      if (s > 0) {
        nodeScore += s * resources[i]!.weight;
        weightSum += resources[i]!.weight;
      }
    }
    return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
  };
}

/** The configured strategy as a function of (requested, allocatable) vectors. */
export function fitScorer(profile: Profile): (requested: number[], allocatable: number[]) => number {
  const s = profile.nodeResourcesFit.scoringStrategy;
  switch (s.type) {
    case 'LeastAllocated':
      return (req, alloc) => weightedMean(s.resources, req, alloc, leastRequestedScore);
    case 'MostAllocated':
      return (req, alloc) => weightedMean(s.resources, req, alloc, mostRequestedScore);
    case 'RequestedToCapacityRatio':
      return requestedToCapacityRatioScorer(s.requestedToCapacityRatio?.shape ?? [], s.resources);
  }
}

interface FitScoreState {
  podRequest: number[];
  scorer: (requested: number[], allocatable: number[]) => number;
  /** Scratch vectors reused across nodes (one pod is scored at a time). */
  scratch: { allocatable: number[]; requested: number[] };
}

export const nodeResourcesFitScore: ScorePlugin<FitScoreState> = {
  name: 'NodeResourcesFit',
  preScore: (ctx) => ({
    podRequest: scoredPodRequests(ctx.pod, ctx.profile.nodeResourcesFit.scoringStrategy.resources, false),
    scorer: fitScorer(ctx.profile),
    scratch: { allocatable: [], requested: [] },
  }),
  score(ctx, state, node) {
    const resources = ctx.profile.nodeResourcesFit.scoringStrategy.resources;
    const { allocatable, requested } = allocatableAndRequested(node, resources, state.podRequest, false, state.scratch);
    return state.scorer(requested, allocatable);
  },
};
