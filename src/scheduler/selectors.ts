// Scheduler-side selector helpers: pod affinity terms, node selector terms and namespace labels, built on the
// shared label-selector core (src/api/selectors.ts) with upstream's nodeaffinity / AffinityTerm semantics.
import {
  matches,
  nothing,
  selectorFromObject,
  type Labels,
  type Requirement,
  type Selector,
} from '../api/selectors.js';
import type { LabelSelector, Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinityTerm } from './types.js';

/** Namespaces are not part of the engine's state; a namespace's labels are its automatic name label. */
export function namespaceLabels(namespace: string): Record<string, string> {
  return { 'kubernetes.io/metadata.name': namespace };
}

/** metav1.LabelSelectorAsSelector: undefined → nothing, {} → everything. */
export function labelSelector(sel: LabelSelector | undefined): Selector {
  return selectorFromObject(sel);
}

/** framework.AffinityTerm: a parsed PodAffinityTerm of some pod. */
export interface AffinityTerm {
  namespaces: Set<string>;
  selector: Selector;
  namespaceSelector: Selector;
  topologyKey: string;
}

/** framework.newAffinityTerm: no namespaces and no namespaceSelector means the owning pod's namespace. */
export function affinityTerm(ownerNamespace: string, term: PodAffinityTerm): AffinityTerm {
  const namespaces =
    (term.namespaces?.length ?? 0) === 0 && term.namespaceSelector === undefined
      ? new Set([ownerNamespace])
      : new Set(term.namespaces ?? []);
  return {
    namespaces,
    selector: labelSelector(term.labelSelector),
    namespaceSelector: labelSelector(term.namespaceSelector),
    topologyKey: term.topologyKey,
  };
}

/** AffinityTerm.Matches: the pod's namespace is selected and its labels match. */
export function termMatches(term: AffinityTerm, namespace: string, labels: Labels): boolean {
  if (term.namespaces.has(namespace) || matches(term.namespaceSelector, namespaceLabels(namespace)))
    return matches(term.selector, labels);
  return false;
}

// --- node selector terms (k8s.io/component-helpers/scheduling/corev1/nodeaffinity) ------------------------------

/** A parsed NodeSelectorTerm; undefined when it has parse errors (such a term never matches). */
export interface ParsedNodeSelectorTerm {
  labels: Selector;
  /** Requirements on metadata.name (In / NotIn with exactly one value). */
  names: { operator: 'In' | 'NotIn'; value: string }[];
  empty: boolean;
}

const int64Pattern = /^[+-]?\d+$/;

function labelRequirement(r: NodeSelectorRequirement): Requirement | undefined {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      return values.length > 0 ? { key: r.key, operator: r.operator, values: [...values] } : undefined;
    case 'Exists':
    case 'DoesNotExist':
      return values.length === 0 ? { key: r.key, operator: r.operator, values: [] } : undefined;
    case 'Gt':
    case 'Lt':
      return values.length === 1 && int64Pattern.test(values[0]!)
        ? { key: r.key, operator: r.operator, values: [String(BigInt(values[0]!))] }
        : undefined;
    default:
      return undefined;
  }
}

export function parseNodeSelectorTerm(term: NodeSelectorTerm): ParsedNodeSelectorTerm | undefined {
  const labels: Requirement[] = [];
  for (const r of term.matchExpressions ?? []) {
    const req = labelRequirement(r);
    if (!req) return undefined;
    labels.push(req);
  }
  const names: ParsedNodeSelectorTerm['names'] = [];
  for (const r of term.matchFields ?? []) {
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return undefined;
    if ((r.values ?? []).length !== 1) return undefined;
    names.push({ operator: r.operator, value: r.values![0]! });
  }
  const empty = (term.matchExpressions?.length ?? 0) === 0 && (term.matchFields?.length ?? 0) === 0;
  return { labels, names, empty };
}

/** nodeSelectorTerm.match: an empty term matches nothing. */
export function nodeSelectorTermMatches(term: ParsedNodeSelectorTerm, labels: Labels, nodeName: string): boolean {
  if (term.empty) return false;
  if (!matches(term.labels, labels)) return false;
  for (const f of term.names) if ((nodeName === f.value) !== (f.operator === 'In')) return false;
  return true;
}

/** nodeaffinity.RequiredNodeAffinity: spec.nodeSelector AND any of the required terms. */
export interface RequiredNodeAffinity {
  nodeSelector: Selector | undefined;
  /** undefined when the pod has no required node affinity; otherwise the parsed terms (invalid ones dropped). */
  terms: ParsedNodeSelectorTerm[] | undefined;
}

export function requiredNodeAffinity(pod: Pod): RequiredNodeAffinity {
  const sel = pod.spec?.nodeSelector;
  const nodeSelector =
    sel && Object.keys(sel).length > 0
      ? Object.entries(sel).map(([key, v]): Requirement => ({ key, operator: 'Equals', values: [v] }))
      : undefined;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required
    ? required.nodeSelectorTerms.map(parseNodeSelectorTerm).filter((t): t is ParsedNodeSelectorTerm => !!t)
    : undefined;
  return { nodeSelector, terms };
}

export function requiredNodeAffinityMatches(req: RequiredNodeAffinity, node: Node): boolean {
  const labels = node.metadata?.labels;
  if (req.nodeSelector && !matches(req.nodeSelector, labels)) return false;
  if (req.terms) {
    const name = node.metadata?.name ?? '';
    return req.terms.some((t) => nodeSelectorTermMatches(t, labels, name));
  }
  return true;
}

export { nothing };
