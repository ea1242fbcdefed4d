// The reference engine end to end: filters and their reasons, the unschedulable message, explain(), sequential
// placement within a batch, seeded tie-breaking, and bad input.
import t from 'tap';
import { createScheduler } from '../../src/scheduler/embed.js';
import { fitErrorMessage } from '../../src/scheduler/message.js';
import type { Node, Pod } from '../../src/scheduler/types.js';
import { makePod } from './helpers.js';

function node(
  name: string,
  opts: {
    cpu?: string;
    memory?: string;
    pods?: string;
    labels?: Record<string, string>;
    taints?: Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
    unschedulable?: boolean;
  } = {},
): Node {
  const res = { cpu: opts.cpu ?? '4', memory: opts.memory ?? '32Gi', pods: opts.pods ?? '110' };
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { capacity: res, allocatable: res },
  };
}

function pod(
  name: string,
  requests: Record<string, string> = {},
  spec: Partial<NonNullable<Pod['spec']>> = {},
  labels?: Record<string, string>,
): Pod {
  return makePod({ name, labels, spec: { containers: [{ name: 'c', resources: { requests } }], ...spec } });
}

t.test('unschedulable message counts reasons per node, sorted as upstream', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  for (let i = 0; i < 5; i++) s.upsertNode(node(`n${i}`, { cpu: '1' }));
  const [r] = await s.schedule([pod('big', { cpu: '2' })]);
  t.same(r, { pod: 'default/big', reasons: ['0/5 nodes are available: 5 Insufficient cpu.'] });
  t.equal(
    fitErrorMessage(
      5000,
      Array.from({ length: 5000 }, () => ['Insufficient cpu']),
    ),
    '0/5000 nodes are available: 5000 Insufficient cpu.',
  );
  // Byte-wise sort of "<count> <reason>": "10 …" sorts before "2 …".
  t.equal(
    fitErrorMessage(12, [...Array.from({ length: 10 }, () => ['b']), ['a'], ['a']]),
    '0/12 nodes are available: 10 b, 2 a.',
  );
});

t.test('mixed reasons: taints, cordon, selector, resources, ports', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
  s.upsertNode(node('b', { unschedulable: true }));
  s.upsertNode(node('c', { labels: { disk: 'hdd' } }));
  s.upsertNode(node('d', { cpu: '1', memory: '1Gi', labels: { disk: 'ssd' } }));
  s.upsertNode(node('e', { labels: { disk: 'ssd' } }));
  s.upsertPod(
    makePod({
      name: 'web',
      node: 'e',
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 80 }] }] },
    }),
  );
  const p = pod(
    'p',
    { cpu: '2', memory: '2Gi' },
    {
      nodeSelector: { disk: 'ssd' },
      containers: [
        {
          name: 'c',
          ports: [{ containerPort: 8080, hostPort: 80 }],
          resources: { requests: { cpu: '2', memory: '2Gi' } },
        },
      ],
    },
  );
  const why = await s.explain(p);
  t.same(why.feasible, []);
  t.same(why.filtered, {
    a: ['node(s) had untolerated taint {dedicated: gpu}'],
    b: ['node(s) were unschedulable'],
    c: ["node(s) didn't match Pod's node affinity/selector"],
    d: ['Insufficient cpu', 'Insufficient memory'],
    e: ["node(s) didn't have free ports for the requested pod ports"],
  });
  t.same(why.reasons, [
    "0/5 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable.",
  ]);
  // A toleration for the taint makes node a feasible.
  const tolerant = {
    ...p,
    spec: { ...p.spec!, nodeSelector: undefined, tolerations: [{ key: 'dedicated', operator: 'Exists' }] },
  };
  const why2 = await s.explain(tolerant);
  t.ok(why2.feasible.includes('a'));
  t.notOk(why2.feasible.includes('b'));
});

t.test('required node affinity: operators and matchFields', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('n1', { labels: { zone: 'z1', gen: '3' } }));
  s.upsertNode(node('n2', { labels: { zone: 'z2', gen: '5' } }));
  s.upsertNode(node('n3', { labels: { zone: 'z3' } }));
  const affinity = (terms: object[]) => ({
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
  });
  const feasible = async (terms: object[]) => (await s.explain(pod('p', {}, { affinity: affinity(terms) }))).feasible;
  t.same(await feasible([{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }]), ['n2']);
  t.same(await feasible([{ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] }]), ['n1']);
  t.same(await feasible([{ matchExpressions: [{ key: 'gen', operator: 'DoesNotExist' }] }]), ['n3']);
  t.same(await feasible([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }]), ['n2', 'n3']);
  // Terms are ORed; expressions inside a term are ANDed.
  t.same(
    await feasible([
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] },
      {
        matchExpressions: [
          { key: 'zone', operator: 'Exists' },
          { key: 'gen', operator: 'In', values: ['5'] },
        ],
      },
    ]),
    ['n1', 'n2'],
  );
  // matchFields on metadata.name narrows the nodes in PreFilter; the rest are reported as not satisfying the plugin.
  const why = await s.explain(
    pod('p', {}, { affinity: affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }]) }),
  );
  t.same(why.feasible, ['n3']);
  t.same(why.filtered.n1, ["node(s) didn't satisfy plugin(s) [NodeAffinity]"]);
  const none = await s.explain(
    pod(
      'p',
      { cpu: '100' },
      { affinity: affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }]) },
    ),
  );
  t.same(none.reasons, [
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
  ]);
});

t.test('pod topology spread: DoNotSchedule with maxSkew and minDomains', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  for (const [n, z] of [
    ['a1', 'z1'],
    ['a2', 'z1'],
    ['b1', 'z2'],
    ['c1', 'z3'],
  ])
    s.upsertNode(node(n!, { labels: { zone: z! } }));
  s.upsertNode(node('nolabel'));
  const constraint = (extra: object = {}) => ({
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { app: 'web' } },
        ...extra,
      },
    ],
  });
  s.upsertPod(makePod({ name: 'w1', node: 'a1', labels: { app: 'web' } }));
  s.upsertPod(makePod({ name: 'w2', node: 'b1', labels: { app: 'web' } }));
  const why = await s.explain(pod('new', {}, constraint(), { app: 'web' }));
  t.same(why.feasible, ['c1'], 'only the empty zone keeps skew within 1');
  t.same(why.filtered.nolabel, ["node(s) didn't match pod topology spread constraints (missing required label)"]);
  t.same(why.filtered.a1, ["node(s) didn't match pod topology spread constraints"]);
  // minDomains above the number of domains treats the global minimum as 0: z3 (0 pods) still fits, z1 (1 pod) not.
  const why2 = await s.explain(pod('new', {}, constraint({ minDomains: 5 }), { app: 'web' }));
  t.same(why2.feasible, ['c1']);
  const results = await s.schedule([
    pod('n1', {}, constraint(), { app: 'web' }),
    pod('n2', {}, constraint(), { app: 'web' }),
  ]);
  t.equal(results[0]!.node, 'c1', 'first goes to the empty zone');
  t.ok(['a1', 'a2', 'b1', 'c1'].includes(results[1]!.node!), 'then every zone has one and any zone fits');
});

t.test('inter-pod affinity and anti-affinity, including existing pods', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  for (const [n, z] of [
    ['a', 'z1'],
    ['b', 'z2'],
    ['c', 'z3'],
  ])
    s.upsertNode(node(n!, { labels: { zone: z! } }));
  const term = (labels: Record<string, string>, key = 'zone') => ({
    labelSelector: { matchLabels: labels },
    topologyKey: key,
  });
  s.upsertPod(makePod({ name: 'db', node: 'a', labels: { app: 'db' } }));
  s.upsertPod(
    makePod({
      name: 'loner',
      node: 'b',
      labels: { app: 'loner' },
      spec: {
        containers: [],
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } },
      },
    }),
  );
  const affinity = await s.explain(
    pod(
      'w',
      {},
      { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } } },
      { app: 'web' },
    ),
  );
  t.same(affinity.feasible, ['a']);
  t.same(affinity.filtered.b, ["node(s) didn't match pod affinity rules"]);
  const anti = await s.explain(
    pod(
      'w',
      {},
      { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } } },
      { app: 'web' },
    ),
  );
  t.same(anti.feasible, ['c']);
  t.same(anti.filtered.a, ["node(s) didn't match pod anti-affinity rules"]);
  t.same(anti.filtered.b, ["node(s) didn't satisfy existing pods anti-affinity rules"]);
  // The first pod of a self-affine group may go anywhere with the topology key.
  const first = await s.explain(
    pod(
      'g',
      {},
      { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ grp: 'x' })] } } },
      { grp: 'x' },
    ),
  );
  t.same(first.feasible, ['a', 'b', 'c']);
});

t.test('schedule is sequential: each decision sees the previous placements', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('only', { cpu: '1' }));
  const res = await s.schedule([pod('p1', { cpu: '600m' }), pod('p2', { cpu: '600m' })]);
  t.equal(res[0]!.node, 'only');
  t.same(res[1], { pod: 'default/p2', reasons: ['0/1 nodes are available: 1 Insufficient cpu.'] });
  s.removePod('default', 'p1');
  const again = await s.schedule([pod('p2', { cpu: '600m' })]);
  t.equal(again[0]!.node, 'only', 'removing the placed pod frees its resources');
  const none = await createScheduler({ engine: 'ts' });
  t.same(await none.schedule([pod('x')]), [{ pod: 'default/x', reasons: ['no nodes available to schedule pods'] }]);
});

t.test('explain: per-plugin scores and weighted totals', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('small', { cpu: '2', memory: '4Gi' }));
  s.upsertNode(node('large', { cpu: '8', memory: '16Gi' }));
  const why = await s.explain(pod('p', { cpu: '1', memory: '2Gi' }));
  t.same(why.feasible, ['large', 'small']);
  // LeastAllocated: small (1000/2000 → 50, 2Gi/4Gi → 50) = 50; large (7/8 → 87, 14/16 → 87) = 87.
  t.same(why.scores.NodeResourcesFit, { large: 87, small: 50 });
  t.same(why.scores.NodeResourcesBalancedAllocation, { large: 100, small: 100 });
  t.same(why.scores.TaintToleration, { large: 100, small: 100 });
  for (const n of why.feasible) {
    const expect =
      3 * why.scores.TaintToleration![n]! +
      2 * why.scores.NodeAffinity![n]! +
      why.scores.NodeResourcesFit![n]! +
      2 * why.scores.PodTopologySpread![n]! +
      2 * why.scores.InterPodAffinity![n]! +
      why.scores.NodeResourcesBalancedAllocation![n]! +
      why.scores.ImageLocality![n]!;
    t.equal(why.total[n], expect, `total of ${n} is the weighted sum`);
  }
  t.equal(why.node, 'large');
});

t.test('ties are broken by the seed, reproducibly', async (t) => {
  const place = async (seed: number) => {
    const s = await createScheduler({ engine: 'ts', seed });
    for (let i = 0; i < 20; i++) s.upsertNode(node(`n${String(i).padStart(2, '0')}`));
    return (await s.schedule(Array.from({ length: 10 }, (_, i) => pod(`p${i}`)))).map((r) => r.node);
  };
  const a = await place(1);
  t.same(await place(1), a, 'same seed, same placements');
  const others = await Promise.all([2, 3, 4, 5].map(place));
  t.ok(
    others.some((o) => JSON.stringify(o) !== JSON.stringify(a)),
    'other seeds choose differently among equals',
  );
  t.equal(new Set(a).size, 10, 'equal nodes are spread by the hash, not always the first name');
});

t.test('bad input is rejected without changing state', async (t) => {
  const s = await createScheduler({ engine: 'ts' });
  s.upsertNode(node('n', { cpu: '1' }));
  t.throws(() => s.upsertNode({ metadata: {} }), /metadata.name/);
  t.throws(() => s.upsertPod(pod('bad', { cpu: 'lots' })), /quantities must match/);
  await t.rejects(s.schedule([pod('ok', { cpu: '500m' }), pod('bad', { memory: '1Xi' })]), /quantities must match/);
  const [r] = await s.schedule([pod('ok2', { cpu: '1' })]);
  t.equal(r!.node, 'n', 'the rejected batch placed nothing');
  await t.rejects(
    createScheduler({ engine: 'ts', profile: { scores: [{ name: 'NodeAffinity', weight: 0 }] } }),
    /weight/,
  );
  await t.rejects(createScheduler({ engine: 'ts', seed: -1 }), /seed/);
  await s.close();
  t.throws(() => s.upsertNode(node('x')), /closed/);
});
