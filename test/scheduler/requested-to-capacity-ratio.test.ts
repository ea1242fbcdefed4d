// Golden rows of upstream pkg/scheduler/framework/plugins/noderesources/requested_to_capacity_ratio_test.go
// (TestRequestedToCapacityRatioScoringStrategy, TestBrokenLinearFunction, TestResourceBinPackingSingleExtended).
import t from 'tap';
import { brokenLinear } from '../../src/scheduler/plugins/node-resources-fit.js';
import type { Node } from '../../src/scheduler/types.js';
import { makeNode, makePod, runScore } from './helpers.js';

function rtcr(resources: { name: string; weight: number }[], shape: { utilization: number; score: number }[]) {
  return {
    nodeResourcesFit: {
      scoringStrategy: { type: 'RequestedToCapacityRatio' as const, resources, requestedToCapacityRatio: { shape } },
      ignoredResources: [],
      ignoredResourceGroups: [],
    },
  };
}

const defaultResources = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];
const leastShape = [
  { utilization: 0, score: 10 },
  { utilization: 100, score: 0 },
];

t.test('TestRequestedToCapacityRatioScoringStrategy', async (t) => {
  const profile = rtcr(defaultResources, leastShape);
  const same = [
    makeNode('node1', { cpu: '4000', memory: '10000' }),
    makeNode('node2', { cpu: '4000', memory: '10000' }),
  ];
  const sized = [
    makeNode('node1', { cpu: '4000', memory: '10000' }),
    makeNode('node2', { cpu: '6000', memory: '10000' }),
  ];
  const empties = [makePod({ node: 'node1' }), makePod({ node: 'node1' })];
  t.same(
    runScore('NodeResourcesFit', makePod({}), same, empties, profile),
    [100, 100],
    'nothing scheduled, nothing requested',
  );
  const two = makePod({
    reqs: [
      { cpu: '1000', memory: '2000' },
      { cpu: '2000', memory: '3000' },
    ],
  });
  t.same(
    runScore('NodeResourcesFit', two, sized, empties, profile),
    [38, 50],
    'resources requested, differently sized nodes',
  );
  const loaded = [
    makePod({ node: 'node1', reqs: [{ cpu: '3000', memory: '5000' }] }),
    makePod({ node: 'node2', reqs: [{ cpu: '3000', memory: '5000' }] }),
  ];
  t.same(
    runScore('NodeResourcesFit', makePod({}), sized, loaded, profile),
    [38, 50],
    'no resources requested, pods scheduled',
  );
});

t.test('TestBrokenLinearFunction', async (t) => {
  const cases: [{ utilization: number; score: number }[], [number, number][]][] = [
    [
      [
        { utilization: 10, score: 1 },
        { utilization: 90, score: 9 },
      ],
      [
        [-10, 1],
        [0, 1],
        [9, 1],
        [10, 1],
        [15, 1],
        [19, 1],
        [20, 2],
        [89, 8],
        [90, 9],
        [99, 9],
        [100, 9],
        [110, 9],
      ],
    ],
    [
      [
        { utilization: 0, score: 2 },
        { utilization: 40, score: 10 },
        { utilization: 100, score: 0 },
      ],
      [
        [-10, 2],
        [0, 2],
        [20, 6],
        [30, 8],
        [40, 10],
        [70, 5],
        [100, 0],
        [110, 0],
      ],
    ],
  ];
  for (const [shape, points] of cases) for (const [p, want] of points) t.equal(brokenLinear(shape, p), want, `p=${p}`);
});

t.test('TestResourceBinPackingSingleExtended', async (t) => {
  const node = (name: string, foo: string): Node => {
    const res = { cpu: '4000m', memory: String(10000 * 1024 * 1024), pods: '110', 'intel.com/foo': foo };
    return { metadata: { name }, status: { capacity: res, allocatable: res } };
  };
  const nodes = [node('node1', '8'), node('node2', '4')];
  const profile = rtcr(
    [{ name: 'intel.com/foo', weight: 1 }],
    [
      { utilization: 0, score: 0 },
      { utilization: 100, score: 1 },
    ],
  );
  t.same(runScore('NodeResourcesFit', makePod({}), nodes, [], profile), [0, 0], 'nothing requested');
  const two = makePod({ reqs: [{ 'intel.com/foo': '2' }] });
  t.same(
    runScore('NodeResourcesFit', two, nodes, [makePod({})], profile),
    [2, 5],
    'pods scheduled with less resources',
  );
  t.same(
    runScore('NodeResourcesFit', two, nodes, [makePod({ node: 'node2', reqs: [{ 'intel.com/foo': '2' }] })], profile),
    [2, 10],
    'on node with existing pod running',
  );
  const four = makePod({ reqs: [{ 'intel.com/foo': '4' }] });
  t.same(
    runScore('NodeResourcesFit', four, nodes, [makePod({})], profile),
    [5, 10],
    'pods scheduled with more resources',
  );
});
