import t from 'tap';
import { classKey, flattenClass, flattenNode, podKey } from '../../../src/scheduler/engine/flatten.js';
import { fnv1a32 } from '../../../src/scheduler/tiebreak.js';
import type { Pod } from '../../../src/scheduler/types.js';

const pod = (over: Partial<Pod['spec']> = {}, meta: Pod['metadata'] = {}): Pod => ({
  metadata: { name: 'p', namespace: 'ns', labels: { app: 'a' }, ...meta },
  spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m' } } }], ...over },
});

t.test('nodes keep only what scheduling reads, with allocatable parsed to scheduler units', (t) => {
  const flat = flattenNode({
    metadata: { name: 'n1', labels: { zone: 'a' }, uid: 'x' } as never,
    spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] },
    status: {
      allocatable: { cpu: '1500m', memory: '1Gi', pods: '110', 'example.com/gpu': '2' },
      capacity: { cpu: '2' },
    },
  });
  t.same(flat.allocatable, [
    ['cpu', 1500],
    ['memory', 1024 ** 3],
    ['pods', 110],
    ['example.com/gpu', 2],
  ]);
  t.same(flat.node, {
    metadata: { name: 'n1', labels: { zone: 'a' } },
    spec: { taints: [{ key: 'k', effect: 'NoSchedule' }], unschedulable: false },
    status: { images: [] },
  });
  t.throws(() => flattenNode({ metadata: {} }), /node has no metadata.name/);
  t.throws(() => flattenNode({ metadata: { name: 'x' }, status: { allocatable: { cpu: 'lots' } } }), /quantities/);
  t.end();
});

t.test('pod keys default the namespace like the reference', (t) => {
  t.equal(podKey({ metadata: { name: 'a' } }), 'default/a');
  t.equal(podKey({ metadata: { name: 'a', namespace: 'x' } }), 'x/a');
  t.throws(() => podKey({ metadata: {} }), /pod has no metadata.name/);
  t.end();
});

t.test('pods of the same shape share a class; anything scheduling reads separates them', (t) => {
  const base = classKey(pod(), false);
  t.equal(classKey(pod({}, { name: 'other', uid: 'u2' } as never), false), base, 'name and uid do not matter');
  t.equal(
    classKey(
      pod({ containers: [{ name: 'renamed', image: 'nginx', resources: { requests: { cpu: '100m' } } }] }),
      false,
    ),
    base,
    'container names do not matter',
  );
  const different: [string, Pod][] = [
    ['namespace', pod({}, { namespace: 'other' })],
    ['labels', pod({}, { labels: { app: 'b' } })],
    ['requests', pod({ containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '200m' } } }] })],
    ['image', pod({ containers: [{ name: 'c', image: 'redis', resources: { requests: { cpu: '100m' } } }] })],
    ['tolerations', pod({ tolerations: [{ operator: 'Exists' }] })],
    ['nodeSelector', pod({ nodeSelector: { disk: 'ssd' } })],
    ['nodeName', pod({ nodeName: 'n1' })],
    ['affinity', pod({ affinity: { podAntiAffinity: {} } })],
    [
      'spread',
      pod({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'z', whenUnsatisfiable: 'DoNotSchedule' }] }),
    ],
    ['overhead', pod({ overhead: { cpu: '10m' } })],
    ['init containers', pod({ initContainers: [{ name: 'i', resources: { requests: { cpu: '1' } } }] })],
    ['terminating', pod({}, { deletionTimestamp: '2026-01-01T00:00:00Z' })],
    [
      'owner',
      pod(
        {},
        { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }] },
      ),
    ],
  ];
  for (const [what, p] of different) t.not(classKey(p, false), base, what);
  t.equal(classKey(pod({ nodeName: 'n1' }), true), classKey(pod({ nodeName: 'n2' }), true), 'placed pods ignore where');
  t.end();
});

t.test('a class is a nameless representative pod, validated like the reference', (t) => {
  const c = flattenClass(3, pod({ nodeName: 'n1' }), true);
  t.equal(c.id, 3);
  t.same(c.pod.metadata, { namespace: 'ns', labels: { app: 'a' } });
  t.equal(c.pod.spec!.nodeName, undefined, 'placement is not part of a placed class');
  t.equal(flattenClass(4, pod({ nodeName: 'n1' }), false).pod.spec!.nodeName, 'n1', 'a pod asking for a node keeps it');
  t.throws(
    () => flattenClass(5, pod({ containers: [{ name: 'c', resources: { requests: { cpu: 'x' } } }] }), false),
    /quantities/,
  );
  t.end();
});

t.test('fnv1a32 (ASCII hashed from the characters) equals FNV-1a over the UTF-8 bytes, and chains', (t) => {
  const bytewise = (k: string) => {
    let h = 0x811c9dc5;
    for (const b of Buffer.from(k, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
    return h >>> 0;
  };
  for (const k of ['', 'default/p', 'ns/pod-123', 'ü/é', 'x/\u{1f600}', 'ab\u{1f600}cd', 'a'.repeat(300)]) {
    t.equal(fnv1a32(k), bytewise(k), k);
    t.equal(fnv1a32(k.slice(2), fnv1a32(k.slice(0, 2))), fnv1a32(k), `${k} in two pieces`);
  }
  // FNV-1a 32-bit test vectors (Fowler/Noll/Vo reference).
  t.equal(fnv1a32('a'), 0xe40c292c);
  t.equal(fnv1a32('foobar'), 0xbf9cf968);
  t.end();
});

t.test('podKeyHash is the hash of the pod key, without building the key', async (t) => {
  const { podKeyHash } = await import('../../../src/scheduler/engine/flatten.js');
  const pods: Pod[] = [
    { metadata: { name: 'p' } },
    { metadata: { name: 'pod-123', namespace: 'ns' } },
    { metadata: { name: 'é', namespace: 'ü' } },
    { metadata: { name: 'x', namespace: 'ns-\u{1f600}' } },
    { metadata: { name: 'a'.repeat(300), namespace: '' } },
  ];
  for (const p of pods) t.equal(podKeyHash(p), fnv1a32(podKey(p)), podKey(p));
  t.throws(() => podKeyHash({ metadata: {} }), /pod has no metadata.name/);
  t.end();
});

t.test('sameClass: field-by-field class equality without building keys', async (t) => {
  const { sameClass, jsonEqual } = await import('../../../src/scheduler/engine/flatten.js');
  const a = pod({}, { name: 'a', labels: { app: 'a', tier: 'x' } });
  t.ok(sameClass(a, pod({}, { name: 'b', labels: { tier: 'x', app: 'a' } }), false), 'label order does not matter');
  t.ok(sameClass(a, pod({ nodeName: undefined }, { name: 'c', labels: { app: 'a', tier: 'x' } }), false));
  t.notOk(sameClass(a, pod({}, { name: 'b', labels: { app: 'a' } }), false), 'a missing label separates');
  t.notOk(sameClass(a, pod({}, { name: 'b', labels: { app: 'a', tier: 'y' } }), false), 'a label value separates');
  t.notOk(sameClass(a, pod({ nodeName: 'n1' }, { name: 'b', labels: { app: 'a', tier: 'x' } }), false));
  t.ok(sameClass(a, pod({ nodeName: 'n1' }, { name: 'b', labels: { app: 'a', tier: 'x' } }), true), 'placed');
  t.notOk(sameClass(a, pod({}, { name: 'b', namespace: 'other', labels: { app: 'a', tier: 'x' } }), false));
  const req = (cpu: string): Partial<Pod['spec']> => ({
    containers: [{ name: 'x', image: 'nginx', resources: { requests: { cpu } } }],
  });
  t.ok(sameClass(pod(req('100m')), pod(req('100m')), false), 'container names do not matter');
  t.notOk(sameClass(pod(req('100m')), pod(req('200m')), false), 'requests separate');
  // Wherever sameClass says yes, the keys would group the pods too (up to key order).
  t.ok(jsonEqual({ a: 1, b: undefined }, { a: 1 }), 'undefined properties are skipped, as stringify does');
  t.ok(jsonEqual([1, undefined], [1, null]), 'undefined in arrays is null, as stringify writes it');
  t.notOk(jsonEqual({ a: 1 }, { a: '1' }));
  t.notOk(jsonEqual({ a: NaN }, { a: NaN }), 'non-finite numbers fall back to the key');
  t.notOk(jsonEqual([1, 2], [2, 1]), 'array order matters');
  t.notOk(jsonEqual({ a: [] }, { a: {} }));
  t.end();
});
