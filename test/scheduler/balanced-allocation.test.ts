// Golden rows of upstream pkg/scheduler/framework/plugins/noderesources/balanced_allocation_test.go
// (TestNodeResourcesBalancedAllocation, std-dev formula of v1.33–v1.35; the DRA rows are not applicable).
import t from 'tap';
import { makePod, runScore } from './helpers.js';
import type { Node, Pod } from '../../src/scheduler/types.js';

/** upstream makeNode(name, milliCPU, memory, scalar): allocatable in millicores and bytes. */
function node(name: string, milliCpu: number, memory: number, scalar: Record<string, string> = {}): Node {
  const res = { cpu: `${milliCpu}m`, memory: String(memory), pods: '110', ...scalar };
  return { metadata: { name }, status: { capacity: res, allocatable: res } };
}

const cpuOnly = (nodeName: string) =>
  makePod({
    node: nodeName,
    reqs: [
      { cpu: '1000m', memory: '0' },
      { cpu: '2000m', memory: '0' },
    ],
  });
const cpuAndMemory = (nodeName: string) =>
  makePod({
    node: nodeName,
    reqs: [
      { cpu: '1000m', memory: '2000' },
      { cpu: '2000m', memory: '3000' },
    ],
  });
const cpuAndMemoryAndGPU = () =>
  makePod({
    node: 'node1',
    reqs: [
      { cpu: '1000m', memory: '2000' },
      { cpu: '2000m', memory: '3000', 'nvidia.com/gpu': '3' },
    ],
  });
const gpu = { 'nvidia.com/gpu': '8' };
const withGpu = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
  { name: 'nvidia.com/gpu', weight: 1 },
];

const rows: {
  name: string;
  pod: Pod;
  nodes: Node[];
  pods: Pod[];
  want: number[] | undefined;
  resources?: typeof withGpu;
}[] = [
  {
    name: 'nothing scheduled, nothing requested, skip in PreScore',
    pod: makePod({}),
    nodes: [node('node1', 4000, 10000), node('node2', 4000, 10000)],
    pods: [],
    want: undefined,
  },
  {
    name: 'nothing scheduled, resources requested, differently sized nodes',
    pod: cpuAndMemory('node2'),
    nodes: [node('node1', 4000, 10000), node('node2', 6000, 10000)],
    pods: [],
    want: [87, 100],
  },
  {
    name: 'resources requested, pods scheduled with resources',
    pod: cpuAndMemory('node2'),
    nodes: [node('node1', 10000, 20000), node('node2', 10000, 20000)],
    pods: [cpuOnly('node1'), cpuAndMemory('node2')],
    want: [82, 95],
  },
  {
    name: 'resources requested, pods scheduled with resources, differently sized nodes',
    pod: cpuAndMemory('node2'),
    nodes: [node('node1', 10000, 20000), node('node2', 10000, 50000)],
    pods: [cpuOnly('node1'), cpuAndMemory('node2')],
    want: [82, 80],
  },
  {
    name: 'requested resources at node capacity',
    pod: cpuOnly('node1'),
    nodes: [node('node1', 6000, 10000), node('node2', 6000, 10000)],
    pods: [cpuOnly('node1'), cpuAndMemory('node2')],
    want: [50, 75],
  },
  {
    name: 'include scalar resource on a node for balanced resource allocation',
    pod: makePod({ reqs: [{ memory: '0', 'nvidia.com/gpu': '1' }] }),
    nodes: [node('node1', 3500, 40000, gpu), node('node2', 3500, 40000, gpu)],
    pods: [cpuAndMemory('node2'), cpuAndMemoryAndGPU()],
    want: [70, 65],
    resources: withGpu,
  },
  {
    name: 'node without the scalar resource should skip the scalar resource',
    pod: cpuAndMemory('node2'),
    nodes: [node('node1', 3500, 40000, gpu), node('node2', 3500, 40000)],
    pods: [],
    want: [63, 63],
    resources: withGpu,
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const profile = row.resources ? { nodeResourcesBalancedAllocation: { resources: row.resources } } : {};
    t.same(runScore('NodeResourcesBalancedAllocation', row.pod, row.nodes, row.pods, profile), row.want);
  });
}
