// Golden rows of upstream pkg/scheduler/framework/plugins/noderesources/least_allocated_test.go
// (TestLeastAllocatedScoringStrategy): NodeResourcesFit with the LeastAllocated strategy.
import t from 'tap';
import { makeNode, makePod, runScore } from './helpers.js';

const defaultResources = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];
const extendedRes = 'abc.com/xyz';
const extendedResourceSet = [...defaultResources, { name: extendedRes, weight: 1 }];

function least(resources: { name: string; weight: number }[]) {
  return {
    nodeResourcesFit: {
      scoringStrategy: { type: 'LeastAllocated' as const, resources },
      ignoredResources: [],
      ignoredResourceGroups: [],
    },
  };
}

const twoContainers = [
  { cpu: '1000', memory: '2000' },
  { cpu: '2000', memory: '3000' },
];

const rows: {
  name: string;
  pod: { reqs?: Record<string, string>[] };
  nodes: [string, Record<string, string>][];
  existing?: [string, Record<string, string> | undefined][];
  want: number[];
  resources?: { name: string; weight: number }[];
}[] = [
  {
    name: 'nothing scheduled, nothing requested',
    pod: {},
    nodes: [
      ['node1', { cpu: '4000', memory: '10000' }],
      ['node2', { cpu: '4000', memory: '10000' }],
    ],
    want: [100, 100],
  },
  {
    name: 'nothing scheduled, resources requested, differently sized nodes',
    pod: { reqs: twoContainers },
    nodes: [
      ['node1', { cpu: '4000', memory: '10000' }],
      ['node2', { cpu: '6000', memory: '10000' }],
    ],
    want: [37, 50],
  },
  {
    name: 'no resources requested, pods scheduled',
    pod: {},
    nodes: [
      ['node1', { cpu: '4000', memory: '10000' }],
      ['node2', { cpu: '4000', memory: '10000' }],
    ],
    existing: [
      ['node1', undefined],
      ['node1', undefined],
      ['node2', undefined],
      ['node2', undefined],
    ],
    want: [100, 100],
  },
  {
    name: 'no resources requested, pods scheduled with resources',
    pod: {},
    nodes: [
      ['node1', { cpu: '10000', memory: '20000' }],
      ['node2', { cpu: '10000', memory: '20000' }],
    ],
    existing: [
      ['node1', { cpu: '3000', memory: '0' }],
      ['node1', { cpu: '3000', memory: '0' }],
      ['node2', { cpu: '3000', memory: '0' }],
      ['node2', { cpu: '3000', memory: '5000' }],
    ],
    want: [70, 57],
  },
  {
    name: 'resources requested, pods scheduled with resources',
    pod: { reqs: twoContainers },
    nodes: [
      ['node1', { cpu: '10000', memory: '20000' }],
      ['node2', { cpu: '10000', memory: '20000' }],
    ],
    existing: [
      ['node1', { cpu: '3000', memory: '0' }],
      ['node2', { cpu: '3000', memory: '5000' }],
    ],
    want: [57, 45],
  },
  {
    name: 'resources requested, pods scheduled with resources, differently sized nodes',
    pod: { reqs: twoContainers },
    nodes: [
      ['node1', { cpu: '10000', memory: '20000' }],
      ['node2', { cpu: '10000', memory: '50000' }],
    ],
    existing: [
      ['node1', { cpu: '3000', memory: '0' }],
      ['node2', { cpu: '3000', memory: '5000' }],
    ],
    want: [57, 60],
  },
  {
    name: 'requested resources exceed node capacity',
    pod: { reqs: [{ cpu: '3000', memory: '0' }] },
    nodes: [
      ['node1', { cpu: '4000', memory: '10000' }],
      ['node2', { cpu: '4000', memory: '10000' }],
    ],
    existing: [
      ['node1', { cpu: '3000', memory: '0' }],
      ['node2', { cpu: '3000', memory: '5000' }],
    ],
    want: [50, 25],
  },
  {
    name: 'zero node resources, pods scheduled with resources',
    pod: {},
    nodes: [
      ['node1', {}],
      ['node2', {}],
    ],
    existing: [
      ['node1', { cpu: '3000', memory: '0' }],
      ['node2', { cpu: '3000', memory: '5000' }],
    ],
    want: [0, 0],
  },
  {
    name: 'nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes',
    pod: { reqs: twoContainers },
    nodes: [
      ['node1', { cpu: '4000', memory: '10000' }],
      ['node2', { cpu: '6000', memory: '10000' }],
    ],
    want: [41, 50],
    resources: [
      { name: 'memory', weight: 2 },
      { name: 'cpu', weight: 1 },
    ],
  },
  {
    name: 'bypass extended resource if the pod does not request',
    pod: { reqs: twoContainers },
    nodes: [
      ['node1', { cpu: '6000', memory: '10000' }],
      ['node2', { cpu: '6000', memory: '10000', [extendedRes]: '4' }],
    ],
    want: [50, 50],
    resources: extendedResourceSet,
  },
  {
    name: 'honor extended resource if the pod requests',
    pod: { reqs: [{ cpu: '3000', memory: '5000', [extendedRes]: '2' }] },
    nodes: [
      ['node1', { cpu: '6000', memory: '10000', [extendedRes]: '4' }],
      ['node2', { cpu: '6000', memory: '10000', [extendedRes]: '10' }],
    ],
    want: [50, 60],
    resources: extendedResourceSet,
  },
  {
    name: "if the node doesn't have a resource",
    pod: { reqs: [{ cpu: '3000', memory: '4000' }] },
    nodes: [
      ['node1', { cpu: '6000', memory: '10000' }],
      ['node2', { cpu: '6000', memory: '10000', [extendedRes]: '4' }],
    ],
    want: [55, 55],
    resources: [
      { name: extendedRes, weight: 2 },
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ],
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const nodes = row.nodes.map(([n, c]) => makeNode(n, c));
    const existing = (row.existing ?? []).map(([node, r]) => makePod({ node, reqs: r ? [r] : [] }));
    const got = runScore(
      'NodeResourcesFit',
      makePod(row.pod),
      nodes,
      existing,
      least(row.resources ?? defaultResources),
    );
    t.same(got, row.want);
  });
}
