// Test fixtures in the shape of upstream's st.MakeNode()/st.MakePod() wrappers, and a runner that calls one score
// plugin the way upstream's plugin unit tests do (PreScore, Score for every node, then NormalizeScore).
import { Skip, type CycleContext } from '../../src/scheduler/framework.js';
import { resolveProfile } from '../../src/scheduler/profile.js';
import { scorePlugins } from '../../src/scheduler/plugins/index.js';
import { PodInfo, Snapshot } from '../../src/scheduler/snapshot.js';
import type { Container, Node, Pod, Profile, ScorePluginName, Workload } from '../../src/scheduler/types.js';

let counter = 0;

/** st.MakeNode().Name(n).Capacity(c): capacity and allocatable as given, plus pods=32 like upstream's wrapper. */
export function makeNode(
  name: string,
  capacity: Record<string, string> = {},
  labels: Record<string, string> = {},
): Node {
  const res = { pods: '32', ...capacity };
  return { metadata: { name, labels }, status: { capacity: res, allocatable: res } };
}

/** st.MakePod().Req(r1).Req(r2)…: one container per request map; none when no maps are given. */
export function makePod(opts: {
  name?: string;
  namespace?: string;
  node?: string;
  reqs?: Record<string, string>[];
  labels?: Record<string, string>;
  spec?: Partial<NonNullable<Pod['spec']>>;
}): Pod {
  const containers: Container[] = (opts.reqs ?? []).map((r, i) => ({
    name: `c${i}`,
    resources: { requests: r },
  }));
  return {
    metadata: { name: opts.name ?? `pod-${++counter}`, namespace: opts.namespace ?? 'default', labels: opts.labels },
    spec: { containers, ...(opts.node ? { nodeName: opts.node } : {}), ...opts.spec },
  };
}

export function snapshotOf(nodes: Node[], pods: Pod[] = []): Snapshot {
  const s = new Snapshot();
  for (const n of nodes) s.upsertNode(n);
  for (const p of pods) s.upsertPod(new PodInfo(p));
  return s;
}

/** Runs one score plugin over every node (as upstream's unit tests do: no filtering). Skip gives undefined. */
export function runScore(
  plugin: ScorePluginName,
  pod: Pod,
  nodes: Node[],
  existing: Pod[] = [],
  profile: Partial<Profile> = {},
  normalize = true,
  failedNodes: Node[] = [],
  workloads: Workload[] = [],
): number[] | undefined {
  const snapshot = snapshotOf([...nodes, ...failedNodes], existing);
  for (const w of workloads) snapshot.workloads.set(`${w.kind}/${w.namespace}/${w.name}`, w);
  const ctx: CycleContext = { pod: new PodInfo(pod), snapshot, profile: resolveProfile(profile) };
  const p = scorePlugins[plugin];
  // Only `nodes` passed the filters; failedNodes exist in the cluster but are not scored (as upstream's tests).
  const infos = nodes.map((n) => snapshot.node(n.metadata!.name!)!);
  const state = p.preScore(ctx, infos);
  if (state === Skip) return undefined;
  const scores = infos.map((n) => p.score(ctx, state, n));
  if (normalize) p.normalize?.(ctx, state, infos, scores);
  return scores;
}
