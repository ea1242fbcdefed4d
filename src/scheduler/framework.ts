// The scheduling framework's shared pieces: score constants, plugin interfaces, exact integer division and
// DefaultNormalizeScore, as in kube-scheduler's framework package (pkg/scheduler/framework).
import type { Profile } from './types.js';
import type { NodeInfo, PodInfo, Snapshot } from './snapshot.js';

/** framework.MaxNodeScore / MinNodeScore. */
export const MaxNodeScore = 100;
export const MinNodeScore = 0;

/** What every plugin sees during one scheduling cycle of one pod. */
export interface CycleContext {
  pod: PodInfo;
  snapshot: Snapshot;
  profile: Profile;
}

/** PreFilter outcome: per-cycle state, optionally a narrowed node set or a rejection of every node. */
export interface PreFilterOutcome<S> {
  state: S;
  /** PreFilterResult.NodeNames: only these nodes are evaluated; others are reported as not satisfying the plugin. */
  nodeNames?: Set<string>;
  /** An unschedulable status from PreFilter: the pod fits no node, for this reason. */
  reject?: string;
}

export interface FilterPlugin<S = unknown> {
  readonly name: string;
  preFilter(ctx: CycleContext): PreFilterOutcome<S>;
  /** Reasons the node is rejected, or undefined when it passes. */
  filter(ctx: CycleContext, state: S, node: NodeInfo): string[] | undefined;
}

/** Returned by preScore when the plugin has nothing to say about this pod (framework.Skip): it scores 0 everywhere. */
export const Skip: unique symbol = Symbol('Skip');

export interface ScorePlugin<S = unknown> {
  readonly name: string;
  preScore(ctx: CycleContext, feasible: NodeInfo[]): S | typeof Skip;
  score(ctx: CycleContext, state: S, node: NodeInfo): number;
  /** NormalizeScore over the feasible nodes' raw scores, in place. */
  normalize?(ctx: CycleContext, state: S, feasible: NodeInfo[], scores: number[]): void;
}

/**
 * Go's int64 division (truncation toward zero), exact for operands below 2^53 even when the float quotient
 * rounds up to the next integer.
 */
export function idiv(a: number, b: number): number {
  const negative = a < 0 !== b < 0;
  const x = Math.abs(a);
  const y = Math.abs(b);
  let q = Math.floor(x / y);
  const r = x - q * y;
  if (r < 0) q -= 1;
  else if (r >= y) q += 1;
  return negative && q !== 0 ? -q : q;
}

/**
 * helper.DefaultNormalizeScore: scales scores so the highest becomes maxPriority (integer arithmetic);
 * with reverse, maxPriority - scaled. All-zero scores stay 0 (or become maxPriority when reversed).
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: number[]): void {
  let maxCount = 0;
  for (const s of scores) if (s > maxCount) maxCount = s;
  if (maxCount === 0) {
    if (reverse) scores.fill(maxPriority);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = idiv(maxPriority * scores[i]!, maxCount);
    if (reverse) s = maxPriority - s;
    scores[i] = s;
  }
}
