// TaintToleration: filter on untolerated NoSchedule/NoExecute taints; score by the number of untolerated
// PreferNoSchedule taints, reverse-normalised (upstream plugins/tainttoleration, v1helper.ToleratesTaint).
import { defaultNormalizeScore, MaxNodeScore, type FilterPlugin, type ScorePlugin } from '../framework.js';
import type { Taint, Toleration } from '../types.js';

/** Toleration.ToleratesTaint: empty effect/key match all; operator Exists ignores the value; "" means Equal. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => toleratesTaint(t, taint));
}

/** v1helper.FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc: the first such taint in node order. */
export function firstUntoleratedNoScheduleTaint(taints: Taint[], tolerations: Toleration[]): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

export const taintTolerationFilter: FilterPlugin<undefined> = {
  name: 'TaintToleration',
  preFilter: () => ({ state: undefined }),
  filter(ctx, _state, node) {
    const taint = firstUntoleratedNoScheduleTaint(node.taints, ctx.pod.pod.spec?.tolerations ?? []);
    return taint ? [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`] : undefined;
  },
};

/** Tolerations that can tolerate PreferNoSchedule taints: effect PreferNoSchedule or empty (all effects). */
export const taintTolerationScore: ScorePlugin<Toleration[]> = {
  name: 'TaintToleration',
  preScore: (ctx) => (ctx.pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule'),
  score(_ctx, tolerations, node) {
    let intolerable = 0;
    for (const taint of node.taints)
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) intolerable++;
    return intolerable;
  },
  normalize: (_ctx, _state, _nodes, scores) => defaultNormalizeScore(MaxNodeScore, true, scores),
};
