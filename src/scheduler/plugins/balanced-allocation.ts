// NodeResourcesBalancedAllocation score: 100 × (1 − standard deviation of the requested/allocatable fractions),
// the std-dev formula of kube-scheduler v1.33–v1.35 (balanced_allocation.go before kubernetes#135573).
// Uses plain requests (no 100m/200Mi defaults); best-effort pods are skipped; no normalisation.
import { MaxNodeScore, Skip, type ScorePlugin } from '../framework.js';
import { allocatableAndRequested, scoredPodRequests } from './node-resources-fit.js';

/** balancedResourceScorer: float64 arithmetic in upstream's order, truncated toward zero. */
export function balancedResourceScore(requested: number[], allocatable: number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    let f = requested[i]! / allocatable[i]!;
    if (f > 1) f = 1;
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum = sum + (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MaxNodeScore);
}

interface BalancedState {
  podRequest: number[];
  scratch: { allocatable: number[]; requested: number[] };
}

export const balancedAllocation: ScorePlugin<BalancedState> = {
  name: 'NodeResourcesBalancedAllocation',
  preScore(ctx) {
    const podRequest = scoredPodRequests(ctx.pod, ctx.profile.nodeResourcesBalancedAllocation.resources, true);
    return podRequest.every((r) => r === 0) ? Skip : { podRequest, scratch: { allocatable: [], requested: [] } };
  },
  score(ctx, state, node) {
    const resources = ctx.profile.nodeResourcesBalancedAllocation.resources;
    const { allocatable, requested } = allocatableAndRequested(node, resources, state.podRequest, true, state.scratch);
    return balancedResourceScore(requested, allocatable);
  },
};
