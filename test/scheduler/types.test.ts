// Checks that @kubernetes/client-node objects fit the scheduler's structural types and the default profile's weights.
import t from 'tap';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { defaultProfile, type Node, type Pod } from '../../src/scheduler/types.js';

t.test('client-node V1Pod and V1Node are assignable (compile-time check)', async (t) => {
  const asPod = (p: V1Pod): Pod => p;
  const asNode = (n: V1Node): Node => n;
  const pod = asPod({ metadata: { name: 'a', namespace: 'default' }, spec: { containers: [{ name: 'c' }] } });
  const node = asNode({ metadata: { name: 'n1' } });
  t.equal(pod.metadata?.name, 'a');
  t.equal(node.metadata?.name, 'n1');
});

t.test('default profile weights follow upstream default_plugins.go', async (t) => {
  const weights = Object.fromEntries(defaultProfile.scores.map((s) => [s.name, s.weight]));
  t.same(weights, {
    TaintToleration: 3,
    NodeAffinity: 2,
    NodeResourcesFit: 1,
    PodTopologySpread: 2,
    InterPodAffinity: 2,
    NodeResourcesBalancedAllocation: 1,
    ImageLocality: 1,
  });
});
