// Golden rows of upstream pkg/scheduler/framework/plugins/podtopologyspread/scoring_test.go
// (TestPodTopologySpreadScore): PreScore over all nodes, Score and NormalizeScore over the candidates.
import t from 'tap';
import type { Node } from '../../src/scheduler/types.js';
import { makePod, runScore } from './helpers.js';

const host = 'kubernetes.io/hostname';
const foo = { matchExpressions: [{ key: 'foo', operator: 'Exists' }] };

function n(name: string, labels: Record<string, string> = { [host]: name }): Node {
  return { metadata: { name, labels } };
}
function zoned(name: string, zone: string): Node {
  return n(name, { zone, [host]: name });
}

/** Existing pods labelled foo="" spread as counts per node. */
function spread(counts: Record<string, number>) {
  return Object.entries(counts).flatMap(([node, c]) =>
    Array.from({ length: c }, (_, i) => makePod({ name: `p-${node}-${i}`, node, labels: { foo: '' } })),
  );
}

function incoming(constraints: { maxSkew: number; key: string; selector?: object }[]) {
  return makePod({
    name: 'p',
    labels: { foo: '' },
    spec: {
      containers: [],
      topologySpreadConstraints: constraints.map((c) => ({
        maxSkew: c.maxSkew,
        topologyKey: c.key,
        whenUnsatisfiable: 'ScheduleAnyway',
        ...(c.selector ? { labelSelector: c.selector } : {}),
      })),
    },
  });
}

/** selector null = no labelSelector (matches nothing). */
const onHost = (maxSkew = 1, selector: object | null = foo) =>
  incoming([{ maxSkew, key: host, selector: selector ?? undefined }]);
const abcd = [n('node-a'), n('node-b'), n('node-c'), n('node-d')];

t.test('TestPodTopologySpreadScore rows', async (t) => {
  t.same(
    runScore('PodTopologySpread', onHost(), [n('node-a'), n('node-b')]),
    [100, 100],
    'one constraint on node, no existing pods',
  );
  t.same(
    runScore('PodTopologySpread', onHost(), [n('node-a')], spread({ 'node-a': 2, 'node-b': 1 }), {}, true, [
      n('node-b'),
    ]),
    [100],
    'one constraint on node, only one node is candidate',
  );
  t.same(
    runScore('PodTopologySpread', onHost(), [n('node-a'), n('node-b')], spread({ 'node-a': 1, 'node-b': 1 })),
    [100, 100],
    'one constraint on node, all nodes have the same number of matching pods',
  );
  const s2103 = spread({ 'node-a': 2, 'node-b': 1, 'node-d': 3 });
  t.same(
    runScore('PodTopologySpread', onHost(), abcd, s2103),
    [20, 60, 100, 0],
    'one constraint on node, all 4 nodes are candidates',
  );
  t.same(
    runScore('PodTopologySpread', onHost(1, null), abcd, s2103),
    [100, 100, 100, 100],
    'one constraint on node, null selector',
  );
  t.same(runScore('PodTopologySpread', onHost(2), abcd, s2103), [33, 66, 100, 16], 'maxSkew=2');
  const s4321 = spread({ 'node-a': 4, 'node-b': 3, 'node-c': 2, 'node-d': 1 });
  t.same(runScore('PodTopologySpread', onHost(3), abcd, s4321), [44, 66, 77, 100], 'maxSkew=3');
  t.same(
    runScore(
      'PodTopologySpread',
      makePod({ name: 'p', labels: { foo: '' } }),
      abcd,
      s4321,
      {},
      true,
      [],
      [{ kind: 'Service', namespace: 'default', name: 'svc', selector: { matchLabels: { foo: '' } } }],
    ),
    [44, 66, 77, 100],
    "system defaulting, nodes don't have zone, pods match service",
  );
  const s4213 = spread({ 'node-a': 4, 'node-b': 2, 'node-x': 1, 'node-y': 3 });
  t.same(
    runScore('PodTopologySpread', onHost(), [n('node-a'), n('node-b'), n('node-x')], s4213, {}, true, [n('node-y')]),
    [33, 83, 100],
    'one constraint on node, 3 out of 4 nodes are candidates',
  );
  t.same(
    runScore('PodTopologySpread', onHost(), [n('node-a'), n('node-b', { n: 'node-b' }), n('node-x')], s4213, {}, true, [
      n('node-y'),
    ]),
    [16, 0, 100],
    "one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key",
  );
  t.same(
    runScore(
      'PodTopologySpread',
      incoming([{ maxSkew: 1, key: 'zone', selector: foo }]),
      [zoned('node-a', 'zone1'), zoned('node-b', 'zone1'), zoned('node-x', 'zone2')],
      s4213,
      {},
      true,
      [zoned('node-y', 'zone2')],
    ),
    [75, 75, 100],
    'one constraint on zone, 3 out of 4 nodes are candidates',
  );
});
