// The scheduler_perf workloads skiff's benchmark reproduces (kubernetes test/integration/scheduler_perf/config/
// performance-config.yaml and its templates): node and pod templates, default sizes of the 5000Nodes variants.
import type { Node, Pod } from '../../scheduler/types.js';

export interface PodGroup {
  /** Builds pod i of the group. */
  make(i: number): Pod;
  count: number;
}

export interface Workload {
  name: string;
  nodes: number;
  /** Pods created (and scheduled) before measuring, in order. */
  init: PodGroup[];
  measure: PodGroup;
  /** What upstream's scheduler_perf would do that the embedded engine does not (printed with the result). */
  note?: string;
}

/** config/templates/node-default.yaml: 4 cpu, 32Gi, 110 pods; labelNodePrepareStrategy adds a zone label. */
function node(i: number, zones: string[] | undefined): Node {
  const name = `scheduler-perf-${String(i).padStart(5, '0')}`;
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name };
  if (zones) labels['topology.kubernetes.io/zone'] = zones[i % zones.length]!;
  const resources = { pods: '110', cpu: '4', memory: '32Gi' };
  return { metadata: { name, labels }, status: { capacity: resources, allocatable: resources } };
}

const pause = (cpu = '100m') => ({
  name: 'pause',
  image: 'registry.k8s.io/pause:3.10',
  ports: [{ containerPort: 80 }],
  resources: { requests: { cpu, memory: '500Mi' }, limits: { cpu, memory: '500Mi' } },
});

/** The pod templates, by upstream file name. */
const templates: Record<string, (ns: string, name: string) => Pod> = {
  'pod-default': (ns, name) => ({ metadata: { name, namespace: ns }, spec: { containers: [pause()] } }),
  'pod-with-node-affinity': (ns, name) => ({
    metadata: { name, namespace: ns },
    spec: {
      containers: [pause()],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone1', 'zone2'] }],
              },
            ],
          },
        },
      },
    },
  }),
  'pod-with-pod-anti-affinity': (ns, name) => ({
    metadata: { name, namespace: ns, labels: { color: 'green' } },
    spec: {
      containers: [pause()],
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { color: 'green' } },
              topologyKey: 'kubernetes.io/hostname',
              namespaces: ['sched-0', 'sched-1'],
            },
          ],
        },
      },
    },
  }),
  'pod-with-pod-affinity': (ns, name) => ({
    metadata: { name, namespace: ns, labels: { color: 'blue' } },
    spec: {
      containers: [pause()],
      affinity: {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { color: 'blue' } },
              topologyKey: 'topology.kubernetes.io/zone',
              namespaces: ['sched-0', 'sched-1'],
            },
          ],
        },
      },
    },
  }),
  'pod-with-preferred-pod-affinity': (ns, name) => ({
    metadata: { name, namespace: ns, labels: { color: 'red' } },
    spec: {
      containers: [pause()],
      affinity: {
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 1,
              podAffinityTerm: {
                labelSelector: { matchLabels: { color: 'red' } },
                topologyKey: 'kubernetes.io/hostname',
                namespaces: ['sched-0', 'sched-1'],
              },
            },
          ],
        },
      },
    },
  }),
  'pod-with-preferred-pod-anti-affinity': (ns, name) => ({
    metadata: { name, namespace: ns, labels: { color: 'yellow' } },
    spec: {
      containers: [pause()],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 1,
              podAffinityTerm: {
                labelSelector: { matchLabels: { color: 'yellow' } },
                topologyKey: 'kubernetes.io/hostname',
                namespaces: ['sched-0', 'sched-1'],
              },
            },
          ],
        },
      },
    },
  }),
  'pod-with-topology-spreading': (ns, name) => ({
    metadata: { name, namespace: ns, labels: { color: 'blue' } },
    spec: {
      containers: [pause()],
      topologySpreadConstraints: [
        {
          maxSkew: 5,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { color: 'blue' } },
        },
      ],
    },
  }),
  'pod-low-priority': (ns, name) => ({ metadata: { name, namespace: ns }, spec: { containers: [pause('900m')] } }),
  'pod-high-priority': (ns, name) => ({
    metadata: { name, namespace: ns },
    spec: { priority: 10, containers: [pause('3000m')] },
  }),
};

function group(template: string, ns: string, prefix: string, count: number): PodGroup {
  const t = templates[template]!;
  return { count, make: (i) => t(ns, `${prefix}-${i}`) };
}

export interface Sizes {
  nodes?: number;
  initPods?: number;
  pods?: number;
}

/** name → builder from the flags (defaults: upstream's 5000Nodes parameters). */
export const workloads: Record<string, (s: Sizes) => Workload> = {
  SchedulingBasic: (s) => ({
    name: 'SchedulingBasic',
    nodes: s.nodes ?? 5000,
    init: [group('pod-default', 'default', 'init', s.initPods ?? 1000)],
    measure: group('pod-default', 'default', 'pod', s.pods ?? 1000),
  }),
  SchedulingNodeAffinity: (s) => ({
    name: 'SchedulingNodeAffinity',
    nodes: s.nodes ?? 5000,
    init: [group('pod-with-node-affinity', 'default', 'init', s.initPods ?? 5000)],
    measure: group('pod-with-node-affinity', 'default', 'pod', s.pods ?? 1000),
  }),
  SchedulingPodAntiAffinity: (s) => ({
    name: 'SchedulingPodAntiAffinity',
    nodes: s.nodes ?? 5000,
    init: [group('pod-with-pod-anti-affinity', 'sched-0', 'init', s.initPods ?? 1000)],
    measure: group('pod-with-pod-anti-affinity', 'sched-1', 'pod', s.pods ?? 1000),
  }),
  SchedulingPodAffinity: (s) => ({
    name: 'SchedulingPodAffinity',
    nodes: s.nodes ?? 5000,
    init: [group('pod-with-pod-affinity', 'sched-0', 'init', s.initPods ?? 5000)],
    measure: group('pod-with-pod-affinity', 'sched-1', 'pod', s.pods ?? 1000),
  }),
  SchedulingPreferredPodAffinity: (s) => ({
    name: 'SchedulingPreferredPodAffinity',
    nodes: s.nodes ?? 5000,
    init: [group('pod-with-preferred-pod-affinity', 'sched-0', 'init', s.initPods ?? 5000)],
    measure: group('pod-with-preferred-pod-affinity', 'sched-1', 'pod', s.pods ?? 1000),
  }),
  SchedulingPreferredPodAntiAffinity: (s) => ({
    name: 'SchedulingPreferredPodAntiAffinity',
    nodes: s.nodes ?? 5000,
    init: [group('pod-with-preferred-pod-anti-affinity', 'sched-0', 'init', s.initPods ?? 5000)],
    measure: group('pod-with-preferred-pod-anti-affinity', 'sched-1', 'pod', s.pods ?? 1000),
  }),
  TopologySpreading: (s) => ({
    name: 'TopologySpreading',
    nodes: s.nodes ?? 5000,
    init: [group('pod-default', 'default', 'init', s.initPods ?? 5000)],
    measure: group('pod-with-topology-spreading', 'default', 'pod', s.pods ?? 2000),
  }),
  PreemptionBasic: (s) => ({
    name: 'PreemptionBasic',
    nodes: s.nodes ?? 500,
    init: [group('pod-low-priority', 'default', 'init', s.initPods ?? 2000)],
    measure: group('pod-high-priority', 'default', 'pod', s.pods ?? 500),
    note: 'the embedded engine does not preempt (DefaultPreemption runs in the scheduler daemon): pods that need it stay unschedulable',
  }),
  MixedSchedulingBasePod: (s) => {
    const n = s.initPods ?? 2000;
    return {
      name: 'MixedSchedulingBasePod',
      nodes: s.nodes ?? 5000,
      init: [
        group('pod-default', 'sched-0', 'init-default', n),
        group('pod-with-pod-affinity', 'sched-0', 'init-affinity', n),
        group('pod-with-pod-anti-affinity', 'sched-0', 'init-anti', n),
        group('pod-with-preferred-pod-affinity', 'sched-0', 'init-pref', n),
        group('pod-with-preferred-pod-anti-affinity', 'sched-0', 'init-pref-anti', n),
      ],
      measure: group('pod-default', 'default', 'pod', s.pods ?? 1000),
    };
  },
};

/** Nodes of a workload: zone labels as upstream's labelNodePrepareStrategy for the workloads that use one. */
export function workloadNode(workload: string, i: number): Node {
  const zones: Record<string, string[]> = {
    SchedulingNodeAffinity: ['zone1'],
    SchedulingPodAffinity: ['zone1'],
    MixedSchedulingBasePod: ['zone1'],
    TopologySpreading: ['moon-1', 'moon-2', 'moon-3'],
  };
  return node(i, zones[workload]);
}
