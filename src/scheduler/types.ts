// The scheduler's contract shared by the TypeScript reference engine and the Wasm engine: object shapes it reads,
// the profile (as data), result types, and the Engine interface both engines implement.
//
// Object shapes are minimal structural subsets of the Kubernetes v1 API (field names and types as in
// @kubernetes/client-node 1.3), so V1Node / V1Pod objects are assignable without a runtime dependency on that package.

// --- Kubernetes object shapes (only the fields scheduling reads) ----------------------------------------------------

/** Quantities arrive as strings ("100m", "1Gi"); JSON numbers are accepted too. */
export type QuantityValue = string | number;
export type ResourceList = Record<string, QuantityValue>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  /** A pod being deleted still occupies its node (upstream counts terminating pods). */
  deletionTimestamp?: Date | string;
  /** The controller reference selects the ReplicaSet/StatefulSet/ReplicationController for default spreading. */
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface NodeSelector {
  nodeSelectorTerms: NodeSelectorTerm[];
}

export interface PreferredSchedulingTerm {
  weight: number;
  preference: NodeSelectorTerm;
}

export interface NodeAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector;
  preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTerm[];
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  namespaces?: string[];
  topologyKey: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}

export interface WeightedPodAffinityTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTerm[];
}

export interface Affinity {
  nodeAffinity?: NodeAffinity;
  podAffinity?: PodAffinity;
  podAntiAffinity?: PodAffinity;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector?: LabelSelector;
  minDomains?: number;
  nodeAffinityPolicy?: string;
  nodeTaintsPolicy?: string;
  matchLabelKeys?: string[];
}

export interface ContainerPort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  /** An init container with restartPolicy Always is a sidecar (counted like a regular container). */
  restartPolicy?: string;
}

export interface PodSpec {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  tolerations?: Toleration[];
  topologySpreadConstraints?: TopologySpreadConstraint[];
  containers: Container[];
  initContainers?: Container[];
  overhead?: ResourceList;
  schedulerName?: string;
  priority?: number;
  /** "Never" keeps the pod from preempting others (DefaultPreemption). */
  preemptionPolicy?: string;
  /** A gated pod is not scheduled until its gates are removed (SchedulingGates plugin). */
  schedulingGates?: { name: string }[];
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: PodSpec;
  status?: { phase?: string; nominatedNodeName?: string; startTime?: Date | string };
}

export interface Node {
  metadata?: ObjectMeta;
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: {
    allocatable?: ResourceList;
    capacity?: ResourceList;
    images?: { names?: string[]; sizeBytes?: number }[];
  };
}

/**
 * A Service, ReplicaSet, StatefulSet or ReplicationController as default spreading needs it (upstream
 * helper.DefaultSelector): its pod selector. A Service's or ReplicationController's map selector goes in matchLabels;
 * a Service without a selector is not given to the engine.
 */
export interface Workload {
  kind: 'Service' | 'ReplicaSet' | 'StatefulSet' | 'ReplicationController';
  namespace: string;
  name: string;
  selector: LabelSelector;
}

// --- Results ----------------------------------------------------------------------------------------------------------

/** One decision of Engine.schedule, in input order. */
export interface ScheduleResult {
  /** "namespace/name" */
  pod: string;
  /** The chosen node; absent when the pod is unschedulable. */
  node?: string;
  /** When unschedulable: one Kubernetes-style message, e.g. "0/5000 nodes are available: 5000 Insufficient cpu." */
  reasons?: string[];
}

/** Why a pod would go where it would go (the cluster is not changed). */
export interface Explanation {
  /** Nodes that passed every filter, in node-name order. */
  feasible: string[];
  /** Reasons of the first filter plugin that rejected each infeasible node (upstream stops at the first failure). */
  filtered: Record<string, string[]>;
  /** Each enabled score plugin's normalised score (0..100, before weights) per feasible node. */
  scores: Record<string, Record<string, number>>;
  /** Weighted sum of the plugin scores per feasible node. */
  total: Record<string, number>;
  /** The node schedule() would choose. */
  node?: string;
  /** The unschedulable message when no node is feasible. */
  reasons?: string[];
}

// --- Profile (data, like upstream default_plugins.go) -------------------------------------------------------------

export type FilterPluginName =
  | 'NodeUnschedulable'
  | 'NodeName'
  | 'TaintToleration'
  | 'NodeAffinity'
  | 'NodePorts'
  | 'NodeResourcesFit'
  | 'PodTopologySpread'
  | 'InterPodAffinity';

export type ScorePluginName =
  | 'TaintToleration'
  | 'NodeAffinity'
  | 'NodeResourcesFit'
  | 'PodTopologySpread'
  | 'InterPodAffinity'
  | 'NodeResourcesBalancedAllocation'
  | 'ImageLocality';

export interface ResourceWeight {
  name: string;
  weight: number;
}

/** A point of the RequestedToCapacityRatio shape: utilization 0..100 → score 0..10 (as the v1 config API). */
export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';

export interface Profile {
  schedulerName: string;
  /** Filter plugins in the order they run; a node's reasons come from the first one that rejects it. */
  filters: FilterPluginName[];
  /** Score plugins with their weights (upstream default_plugins.go). */
  scores: { name: ScorePluginName; weight: number }[];
  nodeResourcesFit: {
    scoringStrategy: {
      type: ScoringStrategyType;
      resources: ResourceWeight[];
      /** Only for RequestedToCapacityRatio. */
      requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
    };
    /** Resources NodeResourcesFit's filter ignores (NodeResourcesFitArgs.ignoredResources). */
    ignoredResources: string[];
    /** Resource groups (prefix before "/") the filter ignores (NodeResourcesFitArgs.ignoredResourceGroups). */
    ignoredResourceGroups: string[];
  };
  nodeResourcesBalancedAllocation: { resources: ResourceWeight[] };
  podTopologySpread: {
    /** 'System' uses systemDefaultConstraints; 'List' uses defaultConstraints. */
    defaultingType: 'System' | 'List';
    defaultConstraints: TopologySpreadConstraint[];
  };
  interPodAffinity: { hardPodAffinityWeight: number; ignorePreferredTermsOfExistingPods: boolean };
  nodeAffinity: { addedAffinity?: NodeAffinity };
}

/**
 * The system default spread constraints used when a pod has none and defaultingType is 'System'
 * (upstream podtopologyspread/plugin.go systemDefaultConstraints): ScheduleAnyway, skew 3 per host, 5 per zone.
 */
export const systemDefaultConstraints: readonly TopologySpreadConstraint[] = Object.freeze([
  { topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
]);

/**
 * kube-scheduler's default profile (pkg/scheduler/apis/config/v1/default_plugins.go and default args in
 * pkg/scheduler/apis/config/v1/defaults.go): weights TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1,
 * PodTopologySpread 2, InterPodAffinity 2, NodeResourcesBalancedAllocation 1, ImageLocality 1.
 */
export const defaultProfile: Profile = Object.freeze({
  schedulerName: 'default-scheduler',
  filters: [
    'NodeUnschedulable',
    'NodeName',
    'TaintToleration',
    'NodeAffinity',
    'NodePorts',
    'NodeResourcesFit',
    'PodTopologySpread',
    'InterPodAffinity',
  ],
  scores: [
    { name: 'TaintToleration', weight: 3 },
    { name: 'NodeAffinity', weight: 2 },
    { name: 'NodeResourcesFit', weight: 1 },
    { name: 'PodTopologySpread', weight: 2 },
    { name: 'InterPodAffinity', weight: 2 },
    { name: 'NodeResourcesBalancedAllocation', weight: 1 },
    { name: 'ImageLocality', weight: 1 },
  ],
  nodeResourcesFit: {
    scoringStrategy: {
      type: 'LeastAllocated',
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
    },
    ignoredResources: [],
    ignoredResourceGroups: [],
  },
  nodeResourcesBalancedAllocation: {
    resources: [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ],
  },
  podTopologySpread: { defaultingType: 'System', defaultConstraints: [] },
  interPodAffinity: { hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false },
  nodeAffinity: {},
} satisfies Profile) as Profile;

// --- Engine -----------------------------------------------------------------------------------------------------------

/**
 * What both engines implement. Mutations apply in call order and are visible to the next schedule/explain.
 * schedule() decides pods one after another: each decision sees the previous ones, and a scheduled pod counts as
 * placed on its node afterwards (as if upsertPod had been called with spec.nodeName set).
 */
export interface Engine {
  upsertNode(node: Node): void;
  removeNode(name: string): void;
  /** A pod with spec.nodeName is placed on that node; one without is remembered only as not placed. */
  upsertPod(pod: Pod): void;
  removePod(namespace: string, name: string): void;
  /** Services and controllers: only used to build the selector of the system default spread constraints. */
  upsertWorkload(workload: Workload): void;
  removeWorkload(kind: Workload['kind'], namespace: string, name: string): void;
  schedule(pods: Pod[]): Promise<ScheduleResult[]>;
  explain(pod: Pod): Promise<Explanation>;
  close(): Promise<void>;
}

/** Options shared by both engines' constructors. */
export interface EngineOptions {
  profile: Profile;
  /** Seed of the tie-break among nodes with the same total score (see tiebreak.ts). */
  seed: number;
}
