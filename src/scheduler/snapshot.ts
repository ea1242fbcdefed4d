// The reference engine's cluster state: NodeInfo (a node with its placed pods and summed requests), PodInfo (a pod
// parsed once: requests, host ports, affinity terms) and the Snapshot holding both (upstream framework.NodeInfo,
// framework.PodInfo and the scheduler cache).
import { fnv1a32 } from './tiebreak.js';
import { affinityTerm, type AffinityTerm } from './selectors.js';
import { emptyResource, nodeAllocatable, podRequests, podResource, type Resource } from './resources.js';
import type { Node, Pod, Taint, Workload } from './types.js';

export interface WeightedAffinityTerm {
  weight: number;
  term: AffinityTerm;
}

/** A host port a container binds (HostPortInfo entry): ip "0.0.0.0" when unset, protocol "TCP" when unset. */
export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export class PodInfo {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly nodeName: string | undefined;
  readonly terminating: boolean;
  /** Requests without defaults (filter, node Requested). */
  readonly request: Resource;
  /** cpu/memory requests with the 100m/200Mi defaults (node NonZeroRequested, scoring). */
  readonly nonZeroCpu: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: HostPort[];
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: WeightedAffinityTerm[];
  readonly hash: number;

  constructor(readonly pod: Pod) {
    const meta = pod.metadata ?? {};
    if (!meta.name) throw new Error('pod has no metadata.name');
    this.namespace = meta.namespace || 'default';
    this.name = meta.name;
    this.key = `${this.namespace}/${this.name}`;
    this.labels = meta.labels ?? {};
    this.nodeName = pod.spec?.nodeName || undefined;
    this.terminating = meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null;
    this.request = podResource(pod);
    const nonZero = podRequests(pod, true);
    this.nonZeroCpu = nonZero.get('cpu') ?? 0;
    this.nonZeroMemory = nonZero.get('memory') ?? 0;
    this.hostPorts = [];
    for (const c of pod.spec?.containers ?? [])
      for (const p of c.ports ?? [])
        if ((p.hostPort ?? 0) > 0)
          this.hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort! });
    const affinity = pod.spec?.affinity;
    const ns = this.namespace;
    this.requiredAffinityTerms = (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map(
      (t) => affinityTerm(ns, t),
    );
    this.requiredAntiAffinityTerms = (
      affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
    ).map((t) => affinityTerm(ns, t));
    const weighted = (list: { weight: number; podAffinityTerm: Parameters<typeof affinityTerm>[1] }[] | undefined) =>
      (list ?? []).map((w) => ({ weight: w.weight, term: affinityTerm(ns, w.podAffinityTerm) }));
    this.preferredAffinityTerms = weighted(affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = weighted(
      affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
    );
    this.hash = fnv1a32(this.key);
  }

  /** PodInfo with affinity (upstream NodeInfo.PodsWithAffinity): any affinity or anti-affinity term. */
  get hasAffinity(): boolean {
    const a = this.pod.spec?.affinity;
    return !!(a?.podAffinity || a?.podAntiAffinity);
  }

  /** A copy of this pod placed on a node (a scheduled pod). */
  placedOn(nodeName: string): PodInfo {
    return new PodInfo({ ...this.pod, spec: { ...this.pod.spec!, nodeName } });
  }
}

export class NodeInfo {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly taints: Taint[];
  readonly unschedulable: boolean;
  readonly allocatable: Resource;
  /** Image name → size in bytes (every name of every image in status.images). */
  readonly images: Map<string, number>;
  readonly hash: number;
  readonly pods = new Map<string, PodInfo>();
  requested: Resource = emptyResource();
  nonZeroCpu = 0;
  nonZeroMemory = 0;
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;

  constructor(readonly node: Node) {
    const name = node.metadata?.name;
    if (!name) throw new Error('node has no metadata.name');
    this.name = name;
    this.labels = node.metadata?.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = nodeAllocatable(node);
    this.images = new Map();
    for (const image of node.status?.images ?? [])
      for (const n of image.names ?? []) this.images.set(n, image.sizeBytes ?? 0);
    this.hash = fnv1a32(name);
  }

  addPod(p: PodInfo): void {
    this.pods.set(p.key, p);
    this.account(p, 1);
  }

  removePod(key: string): void {
    const p = this.pods.get(key);
    if (!p) return;
    this.pods.delete(key);
    this.account(p, -1);
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    const r = this.requested;
    r.milliCpu += sign * p.request.milliCpu;
    r.memory += sign * p.request.memory;
    r.ephemeralStorage += sign * p.request.ephemeralStorage;
    for (const [k, v] of p.request.scalar) r.scalar.set(k, (r.scalar.get(k) ?? 0) + sign * v);
    this.nonZeroCpu += sign * p.nonZeroCpu;
    this.nonZeroMemory += sign * p.nonZeroMemory;
    if (p.hasAffinity) this.podsWithAffinity += sign;
    if (p.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity += sign;
  }

  /** HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every address; otherwise the same address or 0.0.0.0. */
  portConflicts(want: HostPort): boolean {
    for (const p of this.pods.values())
      for (const used of p.hostPorts) {
        if (used.port !== want.port || used.protocol !== want.protocol) continue;
        if (want.ip === '0.0.0.0' || used.ip === '0.0.0.0' || used.ip === want.ip) return true;
      }
    return false;
  }
}

/** The cluster as the scheduler sees it: nodes, placed pods (also on nodes not yet known), workloads. */
export class Snapshot {
  private readonly nodeMap = new Map<string, NodeInfo>();
  private sorted: NodeInfo[] | undefined;
  /** Every pod the engine knows, by "ns/name". */
  readonly pods = new Map<string, PodInfo>();
  /** Node name → keys of the pods placed there (kept even while the node is unknown). */
  private readonly podsByNode = new Map<string, Set<string>>();
  /** Image name → number of nodes that have it (ImageStateSummary.NumNodes). */
  readonly imageNodes = new Map<string, number>();
  /** Services, ReplicaSets, StatefulSets, ReplicationControllers: the source of default spreading selectors. */
  readonly workloads = new Map<string, Workload>();

  get size(): number {
    return this.nodeMap.size;
  }

  node(name: string): NodeInfo | undefined {
    return this.nodeMap.get(name);
  }

  /** All nodes in name order (the order filters run and explain lists them in). */
  nodes(): NodeInfo[] {
    this.sorted ??= [...this.nodeMap.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.sorted;
  }

  upsertNode(node: Node): void {
    const info = new NodeInfo(node);
    const old = this.nodeMap.get(info.name);
    if (old) this.forgetImages(old);
    for (const n of info.images.keys()) this.imageNodes.set(n, (this.imageNodes.get(n) ?? 0) + 1);
    for (const key of this.podsByNode.get(info.name) ?? []) info.addPod(this.pods.get(key)!);
    this.nodeMap.set(info.name, info);
    this.sorted = undefined;
  }

  removeNode(name: string): void {
    const old = this.nodeMap.get(name);
    if (!old) return;
    this.forgetImages(old);
    this.nodeMap.delete(name);
    this.sorted = undefined;
  }

  private forgetImages(info: NodeInfo): void {
    for (const n of info.images.keys()) {
      const c = (this.imageNodes.get(n) ?? 1) - 1;
      if (c <= 0) this.imageNodes.delete(n);
      else this.imageNodes.set(n, c);
    }
  }

  upsertPod(p: PodInfo): void {
    this.removePod(p.key);
    this.pods.set(p.key, p);
    if (!p.nodeName) return;
    let keys = this.podsByNode.get(p.nodeName);
    if (!keys) this.podsByNode.set(p.nodeName, (keys = new Set()));
    keys.add(p.key);
    this.nodeMap.get(p.nodeName)?.addPod(p);
  }

  removePod(key: string): void {
    const old = this.pods.get(key);
    if (!old) return;
    this.pods.delete(key);
    if (!old.nodeName) return;
    const keys = this.podsByNode.get(old.nodeName);
    keys?.delete(key);
    if (keys?.size === 0) this.podsByNode.delete(old.nodeName);
    this.nodeMap.get(old.nodeName)?.removePod(key);
  }
}
