// Golden rows of upstream scoring unit tests: imagelocality/image_locality_test.go (TestImageLocalityPriority),
// tainttoleration/taint_toleration_test.go (TestTaintTolerationScore), nodeaffinity/node_affinity_test.go
// (TestNodeAffinityPriority) and noderesources/most_allocated_test.go / fit_test.go (MostAllocated row).
import t from 'tap';
import { normalizedImageName } from '../../src/scheduler/plugins/image-locality.js';
import type { Node, Taint, Toleration } from '../../src/scheduler/types.js';
import { makeNode, makePod, runScore } from './helpers.js';

const mb = 1024 * 1024;

t.test('ImageLocality (image_locality_test.go)', async (t) => {
  const imageNode = (name: string, images: [string[], number][]): Node => ({
    metadata: { name },
    status: { images: images.map(([names, size]) => ({ names, sizeBytes: size * mb })) },
  });
  const node403002000 = (n: string) =>
    imageNode(n, [
      [['gcr.io/40:latest', 'gcr.io/40:v1', 'gcr.io/40:v1'], 40],
      [['gcr.io/300:latest', 'gcr.io/300:v1'], 300],
      [['gcr.io/2000:latest'], 2000],
    ]);
  const node25010 = (n: string) =>
    imageNode(n, [
      [['gcr.io/250:latest'], 250],
      [['gcr.io/10:latest', 'gcr.io/10:v1'], 10],
    ]);
  const node60040900 = (n: string) =>
    imageNode(n, [
      [['gcr.io/600:latest'], 600],
      [['gcr.io/40:latest'], 40],
      [['gcr.io/900:latest'], 900],
    ]);
  const node300600900 = (n: string) =>
    imageNode(n, [
      [['gcr.io/300:latest'], 300],
      [['gcr.io/600:latest'], 600],
      [['gcr.io/900:latest'], 900],
    ]);
  const node400030 = (n: string) =>
    imageNode(n, [
      [['gcr.io/4000:latest'], 4000],
      [['gcr.io/30:latest'], 30],
    ]);
  const node203040 = (n: string) =>
    imageNode(n, [
      [['gcr.io/20:latest'], 20],
      [['gcr.io/30:latest'], 30],
      [['gcr.io/40:latest'], 40],
    ]);
  const pod = (images: string[], init: string[] = []) =>
    makePod({
      spec: {
        containers: images.map((image, i) => ({ name: `c${i}`, image })),
        initContainers: init.map((image, i) => ({ name: `i${i}`, image })),
      },
    });
  const rows: [string, ReturnType<typeof pod>, Node[], number[]][] = [
    [
      'two images spread on two nodes, prefer the larger image one',
      pod(['gcr.io/40', 'gcr.io/250']),
      [node403002000('node1'), node25010('node2')],
      [0, 5],
    ],
    [
      'two images on one node, prefer this node',
      pod(['gcr.io/40', 'gcr.io/300']),
      [node403002000('node1'), node25010('node2')],
      [7, 0],
    ],
    [
      'if exceed limit, use limit',
      pod(['gcr.io/10', 'gcr.io/4000']),
      [node400030('node1'), node25010('node2')],
      [100, 0],
    ],
    [
      'if exceed limit, use limit (with node which has no images present)',
      pod(['gcr.io/10', 'gcr.io/4000']),
      [node400030('node1'), node25010('node2'), imageNode('node3', [])],
      [66, 0, 0],
    ],
    [
      'pod with multiple large images, node2 is preferred',
      pod(['gcr.io/300', 'gcr.io/600', 'gcr.io/900']),
      [node60040900('node1'), node300600900('node2'), imageNode('node3', [])],
      [32, 36, 0],
    ],
    [
      'pod with multiple small images',
      pod(['gcr.io/30', 'gcr.io/40']),
      [node203040('node1'), node400030('node2')],
      [1, 0],
    ],
    [
      'include InitContainers: two images spread on two nodes, prefer the larger image one',
      pod(['gcr.io/30'], ['gcr.io/300']),
      [node403002000('node1'), node203040('node2')],
      [6, 0],
    ],
  ];
  for (const [name, p, nodes, want] of rows) t.same(runScore('ImageLocality', p, nodes), want, name);
  t.equal(normalizedImageName('root'), 'root:latest');
  t.equal(normalizedImageName('gcr.io:5000/root'), 'gcr.io:5000/root:latest');
  t.equal(normalizedImageName('root:tag'), 'root:tag');
});

t.test('TaintToleration (taint_toleration_test.go)', async (t) => {
  const node = (name: string, taints: Taint[]): Node => ({ metadata: { name }, spec: { taints } });
  const pns = (key: string, value: string): Taint => ({ key, value, effect: 'PreferNoSchedule' });
  const ns = (key: string, value: string): Taint => ({ key, value, effect: 'NoSchedule' });
  const tol = (key: string, value: string, effect: string): Toleration => ({ key, operator: 'Equal', value, effect });
  const pod = (tolerations: Toleration[]) => makePod({ spec: { containers: [], tolerations } });
  const rows: [string, Toleration[], Node[], number[]][] = [
    [
      'node with taints tolerated by the pod, gets a higher score than those node with intolerable taints',
      [tol('foo', 'bar', 'PreferNoSchedule')],
      [node('nodeA', [pns('foo', 'bar')]), node('nodeB', [pns('foo', 'blah')])],
      [100, 0],
    ],
    [
      'the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has',
      [tol('cpu-type', 'arm64', 'PreferNoSchedule'), tol('disk-type', 'ssd', 'PreferNoSchedule')],
      [
        node('nodeA', []),
        node('nodeB', [pns('cpu-type', 'arm64')]),
        node('nodeC', [pns('cpu-type', 'arm64'), pns('disk-type', 'ssd')]),
      ],
      [100, 100, 100],
    ],
    [
      'the more intolerable taints a node has, the lower score it gets.',
      [tol('foo', 'bar', 'PreferNoSchedule')],
      [
        node('nodeA', []),
        node('nodeB', [pns('cpu-type', 'arm64')]),
        node('nodeC', [pns('cpu-type', 'arm64'), pns('disk-type', 'ssd')]),
      ],
      [100, 50, 0],
    ],
    [
      'only taints and tolerations that have effect PreferNoSchedule are checked by prioritizer function',
      [tol('cpu-type', 'arm64', 'NoSchedule'), tol('disk-type', 'ssd', 'NoSchedule')],
      [
        node('nodeA', []),
        node('nodeB', [ns('cpu-type', 'arm64')]),
        node('nodeC', [pns('cpu-type', 'arm64'), pns('disk-type', 'ssd')]),
      ],
      [100, 100, 0],
    ],
    [
      'Default behaviour No taints and tolerations, lands on node with no taints',
      [],
      [node('nodeA', []), node('nodeB', [pns('cpu-type', 'arm64')])],
      [100, 0],
    ],
  ];
  for (const [name, tolerations, nodes, want] of rows)
    t.same(runScore('TaintToleration', pod(tolerations), nodes), want, name);
  // Reverse normalisation from the reference notes: raw [0, 1, 3] → [100, 67, 0].
  const nodes = [
    node('a', []),
    node('b', [pns('k1', 'v')]),
    node('c', [pns('k1', 'v'), pns('k2', 'v'), pns('k3', 'v')]),
  ];
  t.same(runScore('TaintToleration', pod([]), nodes), [100, 67, 0]);
});

t.test('NodeAffinity preferred (node_affinity_test.go)', async (t) => {
  const label1 = { foo: 'bar' };
  const label2 = { key: 'value' };
  const label3 = { az: 'az1' };
  const label5 = { foo: 'bar', key: 'value', az: 'az1' };
  const term = (reqs: [string, string][]) => ({
    matchExpressions: reqs.map(([key, v]) => ({ key, operator: 'In', values: [v] })),
  });
  const affinity1 = {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 2, preference: term([['foo', 'bar']]) }],
  };
  const affinity2 = {
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 2, preference: term([['foo', 'bar']]) },
      { weight: 4, preference: term([['key', 'value']]) },
      {
        weight: 5,
        preference: term([
          ['foo', 'bar'],
          ['key', 'value'],
          ['az', 'az1'],
        ]),
      },
    ],
  };
  const node = (name: string, labels: Record<string, string>): Node => ({ metadata: { name, labels } });
  const pod = (nodeAffinity?: object) =>
    makePod({ spec: { containers: [], affinity: nodeAffinity ? { nodeAffinity } : undefined } });
  t.same(
    runScore('NodeAffinity', pod(), [node('node1', label1), node('node2', label2), node('node3', label3)]),
    undefined,
    'all nodes are same priority as NodeAffinity is nil (PreScore skips)',
  );
  t.same(
    runScore('NodeAffinity', pod(affinity1), [node('node1', label1), node('node2', label2), node('node3', label3)]),
    [100, 0, 0],
    'only node1 matches the preferred scheduling requirements of pod',
  );
  t.same(
    runScore('NodeAffinity', pod(affinity2), [node('node1', label1), node('node5', label5), node('node2', label2)]),
    [18, 100, 36],
    'all nodes matches the preferred scheduling requirements of pod but with different priorities',
  );
  t.same(
    runScore('NodeAffinity', pod(), [node('node1', label1), node('node2', label2)], [], {
      nodeAffinity: { addedAffinity: affinity1 },
    }),
    [100, 0],
    'added affinity',
  );
});

t.test('MostAllocated (most_allocated_test.go / fit_test.go)', async (t) => {
  const profile = {
    nodeResourcesFit: {
      scoringStrategy: {
        type: 'MostAllocated' as const,
        resources: [
          { name: 'cpu', weight: 1 },
          { name: 'memory', weight: 1 },
        ],
      },
      ignoredResources: [],
      ignoredResourceGroups: [],
    },
  };
  const nodes = [
    makeNode('node1', { cpu: '4000', memory: '10000' }),
    makeNode('node2', { cpu: '6000', memory: '10000' }),
  ];
  const existing = [
    makePod({ node: 'node1', reqs: [{ cpu: '2000', memory: '4000' }] }),
    makePod({ node: 'node2', reqs: [{ cpu: '1000', memory: '2000' }] }),
  ];
  t.same(
    runScore('NodeResourcesFit', makePod({ reqs: [{ cpu: '1000', memory: '2000' }] }), nodes, existing, profile),
    [67, 36],
  );
  // Worked by hand from most_allocated.go (not an upstream row): cpu 75 + mem 50 → 62; cpu 50 + mem 50 → 50.
  const two = makePod({
    reqs: [
      { cpu: '1000', memory: '2000' },
      { cpu: '2000', memory: '3000' },
    ],
  });
  t.same(runScore('NodeResourcesFit', two, nodes, [], profile), [62, 50]);
});
