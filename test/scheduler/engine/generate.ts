// Seeded random clusters and pods for the engine parity test: labels, taints, resources (extended too), host ports,
// node affinity, tolerations, spread constraints, pod (anti-)affinity, workloads and pods already placed.
import type { Container, Node, Pod, Taint, Toleration, Workload } from '../../../src/scheduler/types.js';

/** mulberry32: a tiny seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }
  some<T>(xs: readonly T[], max: number): T[] {
    const n = this.int(0, max);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(this.pick(xs));
    return out;
  }
}

const zones = ['z1', 'z2', 'z3'];
const apps = ['a', 'b', 'c'];
const taintKeys = ['dedicated', 'gpu', 'spot'];
const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const images = ['nginx', 'nginx:1.25', 'redis:7', 'registry.k8s.io/pause:3.10'];

export function genNode(g: Gen, name: string, tiny: boolean): Node {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name };
  if (g.chance(0.85)) labels['topology.kubernetes.io/zone'] = g.pick(zones);
  if (g.chance(0.5)) labels.disk = g.pick(['ssd', 'hdd']);
  if (g.chance(0.5)) labels.tier = String(g.int(1, 5));
  const taints: Taint[] = [];
  for (let i = g.int(0, tiny ? 1 : 2); i > 0; i--)
    taints.push({ key: g.pick(taintKeys), value: g.pick(['', 'x', 'y']), effect: g.pick(effects) });
  const allocatable: Record<string, string> = {
    cpu: g.pick(tiny ? ['500m', '1'] : ['1', '2', '4', '1500m']),
    memory: g.pick(tiny ? ['512Mi', '1Gi'] : ['1Gi', '2Gi', '4Gi', '3000Mi']),
    pods: g.pick(['2', '4', '110']),
  };
  if (g.chance(0.3)) allocatable['ephemeral-storage'] = g.pick(['1Gi', '10Gi']);
  if (g.chance(0.3)) allocatable['example.com/gpu'] = String(g.int(0, 2));
  const node: Node = {
    metadata: { name, labels },
    spec: { taints, unschedulable: g.chance(0.08) },
    status: { allocatable, capacity: allocatable },
  };
  if (g.chance(0.3))
    node.status!.images = g
      .some(images, 2)
      .map((n) => ({ names: [n.includes(':') ? n : `${n}:latest`], sizeBytes: g.pick([10, 300, 900]) * 1024 * 1024 }));
  return node;
}

function genContainer(g: Gen, name: string, tiny: boolean): Container {
  const requests: Record<string, string> = {};
  if (g.chance(0.8)) requests.cpu = g.pick(tiny ? ['0', '100m', '300m'] : ['0', '100m', '250m', '1', '2']);
  if (g.chance(0.8)) requests.memory = g.pick(['0', '64Mi', '256Mi', '1Gi']);
  if (g.chance(0.1)) requests['ephemeral-storage'] = g.pick(['100Mi', '2Gi']);
  if (g.chance(0.1)) requests['example.com/gpu'] = '1';
  const c: Container = { name, image: g.pick(images), resources: { requests } };
  if (g.chance(0.1))
    c.ports = [{ containerPort: 80, hostPort: g.pick([8080, 9090]), protocol: g.pick(['TCP', 'UDP']) }];
  return c;
}

function selector(g: Gen) {
  return g.chance(0.8)
    ? { matchLabels: { app: g.pick(apps) } }
    : { matchExpressions: [{ key: 'app', operator: g.pick(['In', 'NotIn', 'Exists']), values: ['a', 'b'] }] };
}

function fixSelectorValues(sel: ReturnType<typeof selector>) {
  for (const e of (sel as { matchExpressions?: { operator: string; values?: string[] }[] }).matchExpressions ?? [])
    if (e.operator === 'Exists') delete e.values;
  return sel;
}

function nodeTerm(g: Gen, nodeNames: string[]) {
  const exprs = [];
  for (let i = g.int(1, 2); i > 0; i--) {
    const op = g.pick(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);
    const key = op === 'Gt' || op === 'Lt' ? 'tier' : g.pick(['disk', 'topology.kubernetes.io/zone', 'tier']);
    const values =
      op === 'Exists' || op === 'DoesNotExist'
        ? undefined
        : op === 'Gt' || op === 'Lt'
          ? [String(g.int(1, 4))]
          : g.some(['ssd', 'hdd', 'z1', 'z2', '3'], 2).concat(['ssd']);
    exprs.push(values ? { key, operator: op, values } : { key, operator: op });
  }
  const term: { matchExpressions?: unknown[]; matchFields?: unknown[] } = { matchExpressions: exprs };
  if (g.chance(0.1) && nodeNames.length > 0)
    term.matchFields = [{ key: 'metadata.name', operator: g.pick(['In', 'NotIn']), values: [g.pick(nodeNames)] }];
  return term;
}

function podTerm(g: Gen) {
  return {
    labelSelector: fixSelectorValues(selector(g)),
    topologyKey: g.pick(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']),
  };
}

export interface PodOptions {
  /** Probability of the pod-to-pod features (spread, pod affinity): low keeps most pods on the indexed path. */
  podDependent: number;
  tiny: boolean;
}

export function genPod(g: Gen, name: string, nodeNames: string[], opt: PodOptions): Pod {
  const labels: Record<string, string> = {};
  if (g.chance(0.8)) labels.app = g.pick(apps);
  if (g.chance(0.3)) labels.team = g.pick(['x', 'y']);
  const containers = [];
  for (let i = g.int(0, 2); i > 0; i--) containers.push(genContainer(g, `c${i}`, opt.tiny));
  const pod: Pod = {
    metadata: { name, namespace: g.chance(0.85) ? 'default' : 'other', labels },
    spec: { containers },
  };
  const spec = pod.spec!;
  if (g.chance(0.15)) spec.initContainers = [genContainer(g, 'init', opt.tiny)];
  if (g.chance(0.05)) spec.initContainers = [{ ...genContainer(g, 'side', opt.tiny), restartPolicy: 'Always' }];
  if (g.chance(0.05)) spec.overhead = { cpu: '50m', memory: '16Mi' };
  if (g.chance(0.15)) spec.nodeSelector = { disk: g.pick(['ssd', 'hdd']) };
  if (g.chance(0.03) && nodeNames.length > 0) spec.nodeName = g.pick(nodeNames);
  const tolerations: Toleration[] = [];
  for (let i = g.int(0, 2); i > 0; i--) {
    const t: Toleration = { key: g.pick([...taintKeys, '']), operator: g.pick(['Exists', 'Equal']) };
    if (t.operator === 'Equal') t.value = g.pick(['', 'x']);
    if (g.chance(0.7)) t.effect = g.pick(effects);
    if (!t.key) t.operator = 'Exists';
    tolerations.push(t);
  }
  if (g.chance(0.05))
    tolerations.push({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' });
  if (tolerations.length > 0) spec.tolerations = tolerations;
  const affinity: NonNullable<typeof spec.affinity> = {};
  if (g.chance(0.2)) {
    affinity.nodeAffinity = {};
    if (g.chance(0.5))
      affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
        nodeSelectorTerms: g.some([0, 1], 2).map(() => nodeTerm(g, nodeNames)) as never,
      };
    if (g.chance(0.7))
      affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution = g
        .some([0, 1, 2], 2)
        .map(() => ({ weight: g.int(0, 100), preference: nodeTerm(g, nodeNames) as never }));
  }
  if (g.chance(opt.podDependent)) {
    const kind = g.pick(['podAffinity', 'podAntiAffinity'] as const);
    affinity[kind] = {};
    if (g.chance(0.5)) affinity[kind]!.requiredDuringSchedulingIgnoredDuringExecution = [podTerm(g)];
    if (g.chance(0.6))
      affinity[kind]!.preferredDuringSchedulingIgnoredDuringExecution = [
        { weight: g.int(1, 100), podAffinityTerm: podTerm(g) },
      ];
  }
  if (Object.keys(affinity).length > 0) spec.affinity = affinity;
  if (g.chance(opt.podDependent)) {
    spec.topologySpreadConstraints = g.some([0, 1], 2).map(() => {
      const c: NonNullable<typeof spec.topologySpreadConstraints>[number] = {
        maxSkew: g.int(1, 2),
        topologyKey: g.pick(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']),
        whenUnsatisfiable: g.pick(['DoNotSchedule', 'ScheduleAnyway']),
        labelSelector: fixSelectorValues(selector(g)),
      };
      if (g.chance(0.2)) c.minDomains = g.int(1, 4);
      if (g.chance(0.2)) c.nodeAffinityPolicy = g.pick(['Honor', 'Ignore']);
      if (g.chance(0.2)) c.nodeTaintsPolicy = g.pick(['Honor', 'Ignore']);
      if (g.chance(0.1)) c.matchLabelKeys = ['team'];
      return c;
    });
  }
  if (g.chance(0.05)) pod.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
  return pod;
}

export function genWorkload(g: Gen): Workload {
  return {
    kind: 'Service',
    namespace: 'default',
    name: `svc-${g.int(0, 3)}`,
    selector: { matchLabels: { app: g.pick(apps) } },
  };
}
