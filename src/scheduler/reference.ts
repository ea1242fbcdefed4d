// The TypeScript reference engine: runs the profile's plugins over a Snapshot exactly as kube-scheduler's
// scheduling cycle does (PreFilter → Filter, stopping at a node's first failing plugin → PreScore → Score →
// NormalizeScore → weighted sum → seeded tie-break). It is the readable spec the Wasm engine must match.
import { Skip, type CycleContext } from './framework.js';
import { ErrNoNodesAvailable, fitErrorMessage } from './message.js';
import { filterPlugins, scorePlugins } from './plugins/index.js';
import { NodeInfo, PodInfo, Snapshot } from './snapshot.js';
import { beats, podTieSalt, tieKey } from './tiebreak.js';
import type { Engine, EngineOptions, Explanation, Node, Pod, Profile, ScheduleResult, Workload } from './types.js';

/** One pod's evaluation in flat arrays (explain() turns it into an Explanation; schedule() needs only node). */
export interface Evaluation {
  /** Feasible nodes in name order. */
  feasible: NodeInfo[];
  /** Infeasible nodes and their reasons, in name order. */
  filtered: [string, string[]][];
  /** Per score plugin (profile order): normalised scores aligned with feasible. */
  scores: number[][];
  total: number[];
  node?: string;
  reasons?: string[];
}

/** One pod's full evaluation against the current snapshot. */
export function evaluate(snapshot: Snapshot, profile: Profile, seed: number, pod: PodInfo): Evaluation {
  const nodes = snapshot.nodes();
  const out: Evaluation = { feasible: [], filtered: [], scores: [], total: [] };
  if (nodes.length === 0) return { ...out, reasons: [ErrNoNodesAvailable] };
  const ctx: CycleContext = { pod, snapshot, profile };

  // PreFilter: plugins may reject the pod outright or narrow the nodes worth filtering.
  const states: unknown[] = [];
  let allowed: Set<string> | undefined;
  const narrowedBy: string[] = [];
  for (const name of profile.filters) {
    const res = filterPlugins[name].preFilter(ctx);
    if (res.reject !== undefined) {
      out.filtered = nodes.map((n) => [n.name, [res.reject!]]);
      return { ...out, reasons: [fitErrorMessage(nodes.length, [], undefined, res.reject)] };
    }
    if (res.nodeNames) {
      allowed = allowed ? new Set([...allowed].filter((n) => res.nodeNames!.has(n))) : new Set(res.nodeNames);
      narrowedBy.push(name);
    }
    states.push(res.state);
  }

  // Filter: a node's reasons are those of the first plugin that rejects it.
  const filters = profile.filters.map((name) => filterPlugins[name]);
  const feasible = out.feasible;
  const absentReason = `node(s) didn't satisfy plugin(s) [${[...narrowedBy].sort().join(' ')}]`;
  let absent = 0;
  const evaluated: string[][] = [];
  for (const node of nodes) {
    if (allowed && !allowed.has(node.name)) {
      out.filtered.push([node.name, [absentReason]]);
      absent++;
      continue;
    }
    let reasons: string[] | undefined;
    for (let i = 0; i < filters.length && !reasons; i++) reasons = filters[i]!.filter(ctx, states[i], node);
    if (reasons) {
      out.filtered.push([node.name, reasons]);
      evaluated.push(reasons);
    } else feasible.push(node);
  }
  if (feasible.length === 0)
    return { ...out, reasons: [fitErrorMessage(nodes.length, evaluated, { count: absent, reason: absentReason })] };

  // Score: each plugin's normalised scores, then the weighted sum.
  const total = new Array<number>(feasible.length).fill(0);
  for (const { name, weight } of profile.scores) {
    const plugin = scorePlugins[name];
    const state = plugin.preScore(ctx, feasible);
    let scores: number[];
    if (state === Skip) scores = new Array<number>(feasible.length).fill(0);
    else {
      scores = new Array<number>(feasible.length);
      for (let i = 0; i < feasible.length; i++) scores[i] = plugin.score(ctx, state, feasible[i]!);
      plugin.normalize?.(ctx, state, feasible, scores);
    }
    for (let i = 0; i < feasible.length; i++) total[i] += scores[i]! * weight;
    out.scores.push(scores);
  }
  out.total = total;

  // Select: highest total; ties broken by the seeded hash (tiebreak.ts).
  const salt = podTieSalt(seed >>> 0, pod.hash);
  let best = 0;
  let bestKey = tieKey(salt, feasible[0]!.hash);
  for (let i = 1; i < feasible.length; i++) {
    const key = tieKey(salt, feasible[i]!.hash);
    if (beats(total[i]!, key, feasible[i]!.name, total[best]!, bestKey, feasible[best]!.name)) {
      best = i;
      bestKey = key;
    }
  }
  out.node = feasible[best]!.name;
  return out;
}

/** The public Explanation of an evaluation. */
export function toExplanation(profile: Profile, e: Evaluation): Explanation {
  const out: Explanation = {
    feasible: e.feasible.map((n) => n.name),
    filtered: Object.fromEntries(e.filtered),
    scores: {},
    total: {},
  };
  profile.scores.forEach(({ name }, p) => {
    out.scores[name] = Object.fromEntries(e.feasible.map((n, i) => [n.name, e.scores[p]?.[i] ?? 0]));
  });
  e.feasible.forEach((n, i) => (out.total[n.name] = e.total[i]!));
  if (e.node !== undefined) out.node = e.node;
  if (e.reasons) out.reasons = e.reasons;
  return out;
}

/** The reference engine: a Snapshot plus evaluate(); synchronous work behind the async Engine interface. */
export class ReferenceEngine implements Engine {
  readonly snapshot = new Snapshot();
  private readonly profile: Profile;
  private readonly seed: number;
  private closed = false;

  constructor(options: EngineOptions) {
    this.profile = options.profile;
    this.seed = options.seed >>> 0;
  }

  private open(): void {
    if (this.closed) throw new Error('scheduler is closed');
  }

  upsertNode(node: Node): void {
    this.open();
    this.snapshot.upsertNode(node);
  }

  removeNode(name: string): void {
    this.open();
    this.snapshot.removeNode(name);
  }

  upsertPod(pod: Pod): void {
    this.open();
    this.snapshot.upsertPod(new PodInfo(pod));
  }

  removePod(namespace: string, name: string): void {
    this.open();
    this.snapshot.removePod(`${namespace || 'default'}/${name}`);
  }

  upsertWorkload(workload: Workload): void {
    this.open();
    this.snapshot.workloads.set(`${workload.kind}/${workload.namespace}/${workload.name}`, workload);
  }

  removeWorkload(kind: Workload['kind'], namespace: string, name: string): void {
    this.open();
    this.snapshot.workloads.delete(`${kind}/${namespace}/${name}`);
  }

  async schedule(pods: Pod[]): Promise<ScheduleResult[]> {
    this.open();
    // Parse every pod first so a bad one rejects the batch before anything is placed.
    const infos = pods.map((p) => new PodInfo(p));
    const results: ScheduleResult[] = [];
    for (const info of infos) {
      const e = evaluate(this.snapshot, this.profile, this.seed, info);
      if (e.node !== undefined) {
        this.snapshot.upsertPod(info.placedOn(e.node));
        results.push({ pod: info.key, node: e.node });
      } else results.push({ pod: info.key, reasons: e.reasons ?? [] });
    }
    return results;
  }

  async explain(pod: Pod): Promise<Explanation> {
    this.open();
    return toExplanation(this.profile, evaluate(this.snapshot, this.profile, this.seed, new PodInfo(pod)));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
