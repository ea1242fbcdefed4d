// Golden rows of upstream pkg/scheduler/framework/plugins/interpodaffinity/scoring_test.go (TestPreferredAffinity),
// without the namespaceSelector rows (they need namespace objects with custom labels, which the engine does not keep).
import t from 'tap';
import type { Affinity, Node, Pod } from '../../src/scheduler/types.js';
import { makePod, runScore } from './helpers.js';

const rgChina = { region: 'China' };
const rgIndia = { region: 'India' };
const az1 = { az: 'az1' };
const az2 = { az: 'az2' };
const rgChinaAz1 = { region: 'China', az: 'az1' };
const s1 = { security: 'S1' };
const s2 = { security: 'S2' };

const inTerm = (values: string[], topologyKey: string) => ({
  labelSelector: { matchExpressions: [{ key: 'security', operator: 'In', values }] },
  topologyKey,
});
const stayWithS1InRegion: Affinity = {
  podAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: inTerm(['S1'], 'region') }],
  },
};
const stayWithS2InRegion: Affinity = {
  podAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 6, podAffinityTerm: inTerm(['S2'], 'region') }],
  },
};
const affinity3: Affinity = {
  podAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      {
        weight: 8,
        podAffinityTerm: {
          labelSelector: {
            matchExpressions: [
              { key: 'security', operator: 'NotIn', values: ['S1'] },
              { key: 'security', operator: 'In', values: ['S2'] },
            ],
          },
          topologyKey: 'region',
        },
      },
      {
        weight: 2,
        podAffinityTerm: {
          labelSelector: {
            matchExpressions: [
              { key: 'security', operator: 'Exists' },
              { key: 'wrongkey', operator: 'DoesNotExist' },
            ],
          },
          topologyKey: 'region',
        },
      },
    ],
  },
};
const hardAffinity: Affinity = {
  podAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      inTerm(['S1', 'value2'], 'region'),
      {
        labelSelector: {
          matchExpressions: [
            { key: 'security', operator: 'Exists' },
            { key: 'wrongkey', operator: 'DoesNotExist' },
          ],
        },
        topologyKey: 'region',
      },
    ],
  },
};
const awayFromS1InAz: Affinity = {
  podAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: inTerm(['S1'], 'az') }],
  },
};
const awayFromS2InAz: Affinity = {
  podAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: inTerm(['S2'], 'az') }],
  },
};
const stayWithS1InRegionAwayFromS2InAz: Affinity = {
  podAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 8, podAffinityTerm: inTerm(['S1'], 'region') }],
  },
  podAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: inTerm(['S2'], 'az') }],
  },
};

const node = (name: string, labels: Record<string, string>): Node => ({ metadata: { name, labels } });
const pod = (labels?: Record<string, string>, affinity?: Affinity, nodeName?: string): Pod =>
  makePod({ node: nodeName, labels, spec: { containers: [], affinity } });
const on = (nodeName: string, labels?: Record<string, string>, affinity?: Affinity) => pod(labels, affinity, nodeName);

const rows: [string, Pod, Pod[], Node[], number[] | undefined][] = [
  [
    'all nodes are same priority as Affinity is nil',
    pod(s1),
    [],
    [node('node1', rgChina), node('node2', rgIndia), node('node3', az1)],
    undefined,
  ],
  [
    'Affinity: pod that matches topology key & pods in nodes will get high score',
    pod(s1, stayWithS1InRegion),
    [on('node1', s1), on('node2', s2), on('node3', s1)],
    [node('node1', rgChina), node('node2', rgIndia), node('node3', az1)],
    [100, 0, 0],
  ],
  [
    'All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score',
    pod(undefined, stayWithS1InRegion),
    [on('node1', s1)],
    [node('node1', rgChina), node('node2', rgChinaAz1), node('node3', rgIndia)],
    [100, 100, 0],
  ],
  [
    'Affinity: nodes in one region has more matching pods comparing to other region',
    pod(s1, stayWithS2InRegion),
    [on('node1', s2), on('node1', s2), on('node2', s2), on('node3', s2), on('node4', s2), on('node5', s2)],
    [
      node('node1', rgChina),
      node('node2', rgIndia),
      node('node3', rgChina),
      node('node4', rgChina),
      node('node5', rgIndia),
    ],
    [100, 0, 100, 100, 0],
  ],
  [
    'Affinity: different Label operators and values for pod affinity scheduling preference, including some match failures',
    pod(s1, affinity3),
    [on('node1', s1), on('node2', s2), on('node3', s1)],
    [node('node1', rgChina), node('node2', rgIndia), node('node3', az1)],
    [20, 100, 0],
  ],
  [
    'Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry',
    pod(s2),
    [on('node1', s1, stayWithS1InRegion), on('node2', s2, stayWithS2InRegion)],
    [node('node1', rgChina), node('node2', rgIndia), node('node3', az1)],
    [0, 100, 0],
  ],
  [
    'Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry',
    pod(s1),
    [on('node1', s1, hardAffinity), on('node2', s2, hardAffinity)],
    [node('node1', rgChina), node('node2', rgIndia), node('node3', az1)],
    [100, 100, 0],
  ],
  [
    'Anti Affinity: pod that does not match existing pods in node will get high score',
    pod(s1, awayFromS1InAz),
    [on('node1', s1), on('node2', s2)],
    [node('node1', az1), node('node2', rgChina)],
    [0, 100],
  ],
  [
    'Anti Affinity: pod that does not match topology key & match the pods in nodes will get higher score comparing to others',
    pod(s1, awayFromS1InAz),
    [on('node1', s1), on('node2', s1)],
    [node('node1', az1), node('node2', rgChina)],
    [0, 100],
  ],
  [
    'Anti Affinity: one node has more matching pods comparing to other node',
    pod(s1, awayFromS1InAz),
    [on('node1', s1), on('node1', s1), on('node2', s2)],
    [node('node1', az1), node('node2', rgIndia)],
    [0, 100],
  ],
  [
    'Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score',
    pod(s2),
    [on('node1', s1, awayFromS2InAz), on('node2', s2, awayFromS1InAz)],
    [node('node1', az1), node('node2', az2)],
    [0, 100],
  ],
  [
    'Affinity and Anti Affinity: considered only preferredDuringSchedulingIgnoredDuringExecution in both',
    pod(s1, stayWithS1InRegionAwayFromS2InAz),
    [on('node1', s1), on('node2', s1)],
    [node('node1', rgChina), node('node2', az1)],
    [100, 0],
  ],
  [
    'Affinity and Anti Affinity: the pod to schedule and existing pods have the same labels',
    pod(s1, stayWithS1InRegionAwayFromS2InAz),
    [
      on('node1', s1),
      on('node1', s1),
      on('node2', s1),
      on('node3', s1),
      on('node3', s1),
      on('node4', s1),
      on('node5', s1),
    ],
    [
      node('node1', rgChinaAz1),
      node('node2', rgIndia),
      node('node3', rgChina),
      node('node4', rgChina),
      node('node5', rgIndia),
    ],
    [100, 0, 100, 100, 0],
  ],
  [
    'Affinity and Anti Affinity and symmetry',
    pod(s1, stayWithS1InRegionAwayFromS2InAz),
    [
      on('node1', s1),
      on('node2', s2),
      on('node3', undefined, stayWithS1InRegionAwayFromS2InAz),
      on('node4', undefined, awayFromS1InAz),
    ],
    [node('node1', rgChina), node('node2', az1), node('node3', rgIndia), node('node4', az2)],
    [100, 0, 100, 0],
  ],
  [
    "Avoid panic when partial nodes in a topology don't have pods with affinity",
    pod(s1),
    [on('node1', s1), on('node2', undefined, stayWithS1InRegionAwayFromS2InAz)],
    [node('node1', rgChina), node('node2', rgChina)],
    [0, 0],
  ],
];

for (const [name, p, existing, nodes, want] of rows)
  t.test(name, async (t) => t.same(runScore('InterPodAffinity', p, nodes, existing), want));
