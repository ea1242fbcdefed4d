// DefaultPreemption (PostFilter) over the Engine interface: on nodes where only resolvable filters failed, remove
// lower-priority pods, check the preemptor fits, reprieve victims from the most important down, then pick the node
// as upstream's pickOneNodeForPreemption (lowest highest-victim priority, lowest priority sum, fewest victims).
// PodDisruptionBudgets are not considered. The engine is restored before returning.
import { fitErrorMessage } from '../message.js';
import type { Engine, Explanation, Pod } from '../types.js';

/** Filter reasons whose status is UnschedulableAndUnresolvable upstream: removing pods cannot help. */
const unresolvable: RegExp[] = [
  /^node\(s\) were unschedulable$/,
  /^node\(s\) didn't match the requested node name$/,
  /^node\(s\) had untolerated taint /,
  /^node\(s\) didn't match Pod's node affinity\/selector$/,
  /^node\(s\) didn't match scheduler-enforced node affinity$/,
  /^node\(s\) didn't match pod topology spread constraints \(missing required label\)$/,
  /^node\(s\) didn't match pod affinity rules$/,
  /^node\(s\) didn't satisfy plugin\(s\) /,
  /^pod affinity terms conflict$/,
];

export const ErrNotHelpful = 'Preemption is not helpful for scheduling';
export const ErrNoVictims = 'No preemption victims found for incoming pod';

export interface PreemptionResult {
  /** The chosen node and the pods to evict, or undefined when preemption cannot help. */
  node?: string;
  victims: Pod[];
  /** The "preemption: …" message upstream appends to FailedScheduling when it fails. */
  message?: string;
}

function priority(p: Pod): number {
  return p.spec?.priority ?? 0;
}

function startTime(p: Pod): number {
  const t = p.status?.startTime;
  return t === undefined ? Number.MAX_SAFE_INTEGER : new Date(t).getTime();
}

function ns(p: Pod): string {
  return p.metadata?.namespace || 'default';
}

/** MoreImportantPod: higher priority, then the one that started earlier. */
function moreImportantFirst(a: Pod, b: Pod): number {
  return priority(b) - priority(a) || startTime(a) - startTime(b);
}

export async function preempt(
  engine: Engine,
  preemptor: Pod,
  why: Explanation,
  podsOnNode: (node: string) => Pod[],
  maxCandidates = 100,
): Promise<PreemptionResult> {
  if (preemptor.spec?.preemptionPolicy === 'Never')
    return { victims: [], message: 'preemption: not eligible due to preemptionPolicy=Never.' };
  const nodes = Object.keys(why.filtered).sort();
  const p = priority(preemptor);
  // PodEligibleToPreemptOthers: while victims on the nominated node are terminating, do not preempt again.
  const nominated = preemptor.status?.nominatedNodeName;
  if (nominated && !(why.filtered[nominated] ?? []).some((r) => unresolvable.some((re) => re.test(r))))
    if (podsOnNode(nominated).some((v) => priority(v) < p && v.metadata?.deletionTimestamp))
      return { victims: [], message: 'preemption: not eligible due to a terminating pod on the nominated node.' };
  const fits = async (node: string) =>
    (await engine.explain({ ...preemptor, spec: { ...preemptor.spec!, nodeName: node } })).feasible.includes(node);
  const perNode = new Map<string, string>();
  const candidates: { node: string; victims: Pod[] }[] = [];
  for (const node of nodes) {
    if (why.filtered[node]!.some((r) => unresolvable.some((re) => re.test(r)))) {
      perNode.set(node, ErrNotHelpful);
      continue;
    }
    perNode.set(node, ErrNoVictims);
    if (candidates.length >= maxCandidates) continue;
    const lower = podsOnNode(node)
      .filter((v) => priority(v) < p && !v.metadata?.deletionTimestamp)
      .sort(moreImportantFirst);
    if (lower.length === 0) continue;
    for (const v of lower) engine.removePod(ns(v), v.metadata!.name!);
    const victims: Pod[] = [];
    try {
      if (!(await fits(node))) continue;
      // Reprieve as many as possible, most important first.
      for (const v of lower) {
        engine.upsertPod(v);
        if (!(await fits(node))) {
          engine.removePod(ns(v), v.metadata!.name!);
          victims.push(v);
        }
      }
      candidates.push({ node, victims });
      perNode.delete(node);
    } finally {
      // Restore the cluster as it is until the victims are really gone.
      for (const v of lower) engine.upsertPod(v);
    }
  }
  if (candidates.length === 0) {
    const msg = fitErrorMessage(
      nodes.length,
      [...perNode.values()].map((r) => [r]),
    );
    return { victims: [], message: `preemption: ${msg}` };
  }
  const maxPrio = (c: { victims: Pod[] }) => Math.max(...c.victims.map(priority), Number.MIN_SAFE_INTEGER);
  const sumPrio = (c: { victims: Pod[] }) => c.victims.reduce((s, v) => s + priority(v), 0);
  candidates.sort(
    (a, b) =>
      maxPrio(a) - maxPrio(b) ||
      sumPrio(a) - sumPrio(b) ||
      a.victims.length - b.victims.length ||
      (a.node < b.node ? -1 : 1),
  );
  return { node: candidates[0]!.node, victims: candidates[0]!.victims };
}
