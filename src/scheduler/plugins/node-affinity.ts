// NodeAffinity: filter on spec.nodeSelector and required node affinity (with the metadata.name PreFilter shortcut);
// score by the summed weights of matching preferred terms, normalised to 0..100 (upstream plugins/nodeaffinity).
import { defaultNormalizeScore, MaxNodeScore, Skip, type FilterPlugin, type ScorePlugin } from '../framework.js';
import {
  nodeSelectorTermMatches,
  parseNodeSelectorTerm,
  requiredNodeAffinity,
  requiredNodeAffinityMatches,
  type ParsedNodeSelectorTerm,
  type RequiredNodeAffinity,
} from '../selectors.js';
import type { NodeAffinity as NodeAffinitySpec } from '../types.js';

export const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector";
export const ErrReasonEnforced = "node(s) didn't match scheduler-enforced node affinity";
export const ErrReasonConflict = 'pod affinity terms conflict';

interface FilterState {
  required: RequiredNodeAffinity;
  added: RequiredNodeAffinity | undefined;
}

function addedRequired(added: NodeAffinitySpec | undefined): RequiredNodeAffinity | undefined {
  const req = added?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!req) return undefined;
  return {
    nodeSelector: undefined,
    terms: req.nodeSelectorTerms.map(parseNodeSelectorTerm).filter((t): t is ParsedNodeSelectorTerm => !!t),
  };
}

export const nodeAffinityFilter: FilterPlugin<FilterState> = {
  name: 'NodeAffinity',
  preFilter(ctx) {
    const pod = ctx.pod.pod;
    const state = { required: requiredNodeAffinity(pod), added: addedRequired(ctx.profile.nodeAffinity.addedAffinity) };
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!required || state.added) return { state };
    // Terms that all pin metadata.name narrow the nodes evaluated (PreFilterResult.NodeNames).
    let names: Set<string> | undefined;
    for (const term of required.nodeSelectorTerms) {
      let termNames: Set<string> | undefined;
      for (const r of term.matchFields ?? []) {
        if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
        const s = new Set(r.values ?? []);
        termNames = termNames ? new Set([...termNames].filter((n) => s.has(n))) : s;
      }
      if (!termNames) return { state };
      names = new Set([...(names ?? []), ...termNames]);
    }
    if (names && names.size === 0) return { state, reject: ErrReasonConflict };
    return names ? { state, nodeNames: names } : { state };
  },
  filter(_ctx, state, node) {
    if (state.added && !requiredNodeAffinityMatches(state.added, node.node)) return [ErrReasonEnforced];
    return requiredNodeAffinityMatches(state.required, node.node) ? undefined : [ErrReasonPod];
  },
};

interface WeightedTerm {
  weight: number;
  term: ParsedNodeSelectorTerm;
}

/** NewPreferredSchedulingTerms: zero-weight and unparsable terms are dropped. */
function preferredTerms(spec: NodeAffinitySpec | undefined): WeightedTerm[] | undefined {
  const list = spec?.preferredDuringSchedulingIgnoredDuringExecution;
  if (!list) return undefined;
  const out: WeightedTerm[] = [];
  for (const p of list) {
    if (p.weight === 0) continue;
    const term = parseNodeSelectorTerm(p.preference);
    if (term) out.push({ weight: p.weight, term });
  }
  return out;
}

export const nodeAffinityScore: ScorePlugin<WeightedTerm[]> = {
  name: 'NodeAffinity',
  preScore(ctx) {
    const own = preferredTerms(ctx.pod.pod.spec?.affinity?.nodeAffinity);
    const added = preferredTerms(ctx.profile.nodeAffinity.addedAffinity);
    if (!own && !added) return Skip;
    return [...(added ?? []), ...(own ?? [])];
  },
  score(_ctx, terms, node) {
    let sum = 0;
    for (const t of terms) if (nodeSelectorTermMatches(t.term, node.labels, node.name)) sum += t.weight;
    return sum;
  },
  normalize: (_ctx, _state, _nodes, scores) => defaultNormalizeScore(MaxNodeScore, false, scores),
};
