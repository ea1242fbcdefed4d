// The Wasm kernels against their TypeScript twins: the SIMD tie-break against its scalar twin and tiebreak.ts, and
// the resource scores (all three strategies, BalancedAllocation) at extreme magnitudes against the reference plugins.
import t from 'tap';
import { loadWasm } from '../../../src/wasm/loader.js';
import type { SchedulerKernels } from '../../../src/scheduler/engine/layout.js';
import { createWasmEngine } from '../../../src/scheduler/engine/index.js';
import { ReferenceEngine } from '../../../src/scheduler/reference.js';
import { beats, fnv1a32, podTieSalt, tieKey } from '../../../src/scheduler/tiebreak.js';
import { defaultProfile, type Node, type Pod, type Profile } from '../../../src/scheduler/types.js';
import { prng } from './fixtures/generate.js';

interface TieKernels extends SchedulerKernels {
  bestOfBitset(bits: number, words: number, salt: number): number;
  bestOfBitsetScalar(bits: number, words: number, salt: number): number;
  bestOfList(nodes: number, hashes: number, len: number, salt: number): number;
}

/** The scheduler kernels with a page of scratch memory from `base` (16-byte aligned) for `cap` nodes' arrays. */
function scratch() {
  const w = loadWasm<TieKernels>('scheduler');
  const base = Math.ceil(w.exports.heapBase() / 16) * 16;
  w.memory.grow(1);
  return { w, k: w.exports, base, cap: 1024 };
}

t.test('the SIMD tie-break picks what tiebreak.ts picks, at every density', (t) => {
  const { w, k, base, cap } = scratch();
  const hash = base;
  const rank = hash + cap * 4;
  const bits = rank + cap * 4;
  const r = prng(7);
  const names = Array.from({ length: cap }, (_, i) => `node-${Math.floor(r() * 1e9)}-${i}`);
  const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
  const v = w.views;
  names.forEach((n, i) => (v.u32[hash / 4 + i] = fnv1a32(n)));
  // A few duplicate hashes so equal keys (name order decides) happen.
  for (let i = 0; i < 8; i++) v.u32[hash / 4 + 2 * i + 1] = v.u32[hash / 4 + 2 * i]!;
  order.forEach((slot, i) => (v.i32[rank / 4 + slot] = i));
  k.setTable(cap, 0, 0, 0, hash, rank, 0);
  let checked = 0;
  for (const density of [0, 0.01, 0.1, 0.5, 0.9, 1]) {
    for (let round = 0; round < 40; round++) {
      const members: number[] = [];
      for (let i = 0; i < cap / 32; i++) v.u32[bits / 4 + i] = 0;
      for (let i = 0; i < cap; i++)
        if (r() < density || (round === 0 && i < 16)) {
          v.u32[bits / 4 + (i >> 5)] |= 1 << (i & 31);
          members.push(i);
        }
      const salt = podTieSalt(round * 7919, fnv1a32(`pod-${round}`));
      let best = -1;
      let bestKey = 0;
      for (const i of members) {
        const key = tieKey(salt, v.u32[hash / 4 + i]!);
        if (best < 0 || beats(0, key, names[i]!, 0, bestKey, names[best]!)) {
          best = i;
          bestKey = key;
        }
      }
      t.equal(k.bestOfBitset(bits, cap / 32, salt), best, `simd, density ${density} round ${round}`);
      t.equal(k.bestOfBitsetScalar(bits, cap / 32, salt), best, `scalar, density ${density} round ${round}`);
      checked++;
    }
  }
  t.ok(checked > 0);
  t.end();
});

t.test('the top-list tie-break (sixteen keys per step) picks what tiebreak.ts picks, at every length', (t) => {
  const { w, k, base, cap } = scratch();
  const nodes = base;
  const hashes = nodes + cap * 4;
  const v = w.views;
  const r = prng(11);
  let checked = 0;
  for (const len of [0, 1, 2, 3, 4, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100, 255, 256, 1000, 1024]) {
    for (let round = 0; round < 20; round++) {
      // Distinct hashes (the list's contract), slots in any order.
      const used = new Set<number>();
      const list: { slot: number; hash: number }[] = [];
      while (list.length < len) {
        const hash = Math.floor(r() * 2 ** 32) >>> 0;
        if (used.has(hash)) continue;
        used.add(hash);
        list.push({ slot: Math.floor(r() * 1e6), hash });
      }
      const salt = podTieSalt(round * 31, fnv1a32(`pod-${len}-${round}`));
      // Round 1 puts a key-0 node (hash === salt: fmix32(0) is 0) somewhere: it can never win, and alone it gives -1.
      if (round === 1 && len > 0 && !used.has(salt)) list[Math.floor(r() * len)]!.hash = salt;
      list.forEach((e, i) => {
        v.i32[nodes / 4 + i] = e.slot;
        v.u32[hashes / 4 + i] = e.hash;
      });
      let best = -1;
      let bestKey = 0;
      for (const e of list) {
        const key = tieKey(salt, e.hash);
        if (key > bestKey) {
          best = e.slot;
          bestKey = key;
        }
      }
      t.equal(k.bestOfList(nodes, hashes, len, salt), best, `length ${len} round ${round}`);
      checked++;
    }
  }
  // The kernel's tie salt (scheduleRun derives it per pod) is tiebreak.ts's podTieSalt.
  for (let i = 0; i < 200; i++) {
    const seed = i === 0 ? 0 : i === 1 ? 0xffffffff : Math.floor(r() * 2 ** 32);
    const hash = i === 2 ? 0 : Math.floor(r() * 2 ** 32);
    t.equal(k.tieSalt(seed, hash) >>> 0, podTieSalt(seed, hash), `tieSalt ${seed} ${hash}`);
  }
  // A lone key-0 node: -1 (the caller then takes the exact walk).
  v.u32[hashes / 4] = 12345;
  v.i32[nodes / 4] = 7;
  t.equal(k.bestOfList(nodes, hashes, 1, 12345), -1);
  t.ok(checked > 0);
  t.end();
});

function node(name: string, cpu: number, memory: number, extra: Record<string, string> = {}): Node {
  const allocatable = { cpu: `${cpu}m`, memory: String(memory), pods: '1000', ...extra };
  return { metadata: { name, labels: {} }, status: { allocatable } };
}

function pod(name: string, cpu: number | undefined, memory: number | undefined, placedOn?: string): Pod {
  const requests: Record<string, string> = {};
  if (cpu !== undefined) requests.cpu = `${cpu}m`;
  if (memory !== undefined) requests.memory = String(memory);
  return {
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', resources: { requests } }], nodeName: placedOn },
  };
}

t.test('resource scores agree with the reference at extreme magnitudes and quotient boundaries', async (t) => {
  const r = prng(99);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const strategies: Profile['nodeResourcesFit']['scoringStrategy'][] = [
    {
      type: 'LeastAllocated',
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
    },
    {
      type: 'MostAllocated',
      resources: [
        { name: 'cpu', weight: 3 },
        { name: 'memory', weight: 2 },
      ],
    },
    {
      type: 'RequestedToCapacityRatio',
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 5 },
      ],
      requestedToCapacityRatio: {
        shape: [
          { utilization: 0, score: 10 },
          { utilization: 33, score: 2 },
          { utilization: 100, score: 0 },
        ],
      },
    },
  ];
  let mismatches = 0;
  for (let c = 0; c < 300 && mismatches < 3; c++) {
    const profile: Profile = structuredClone(defaultProfile);
    profile.nodeResourcesFit.scoringStrategy = structuredClone(strategies[c % 3]!);
    const ref = new ReferenceEngine({ profile, seed: c });
    const wasm = await createWasmEngine(profile, c, { worker: false });
    // Capacities from a few millicores to 2^45 bytes; requests that land exactly on, just under and over
    // the integer-division boundaries.
    for (let i = 0; i < 4; i++) {
      const cpu = pick([1, 3, 7, 1000, 999_999, 4_000_000]);
      const mem = pick([1, 3, 1023, 2 ** 30, 2 ** 45, 2 ** 45 - 1]);
      const n = node(`n${i}`, cpu, mem);
      ref.upsertNode(n);
      wasm.upsertNode(n);
      for (let j = 0; j < 3; j++) {
        const p = pod(
          `old-${i}-${j}`,
          pick([0, 1, Math.floor(cpu / 3), cpu - 1, undefined]),
          pick([0, 1, Math.floor(mem / 7), mem, undefined]),
          `n${i}`,
        );
        ref.upsertPod(p);
        wasm.upsertPod(p);
      }
    }
    const probe = pod('probe', pick([0, 1, 2, 333, undefined]), pick([0, 1, 2 ** 20, 2 ** 44, undefined]));
    const [a, b] = [await ref.explain(probe), await wasm.explain(probe)];
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      mismatches++;
      t.same(b, a, `case ${c}`);
    }
    await wasm.close();
  }
  t.equal(mismatches, 0);
});

t.test('nodes whose names share a hash tie on every key; both engines let name order decide', async (t) => {
  // fnv1a32('n3pvu') === fnv1a32('ne3ea'): the SIMD tie-breaks assume distinct keys and must fall back to the
  // exact walk while such nodes are present (also after one leaves and comes back).
  t.equal(fnv1a32('n3pvu'), fnv1a32('ne3ea'));
  const names = ['ne3ea', 'a1', 'n3pvu', 'b2', 'c3'];
  const spread = (name: string): Pod => ({
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: {
      containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
      topologySpreadConstraints: [
        {
          maxSkew: 50,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: 'web' } },
        },
      ],
    },
  });
  const plain = (name: string): Pod => ({
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
  });
  for (const make of [spread, plain]) {
    const ref = new ReferenceEngine({ profile: defaultProfile, seed: 5 });
    const wasm = await createWasmEngine(defaultProfile, 5, { worker: false });
    for (const n of names) {
      const nd: Node = {
        metadata: { name: n, labels: { 'kubernetes.io/hostname': n } },
        status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
      };
      ref.upsertNode(nd);
      wasm.upsertNode(nd);
    }
    let tiedPairWon = 0;
    for (let i = 0; i < 300; i++) {
      const p = make(`p-${i}`);
      const [a, b] = [await ref.schedule([p]), await wasm.schedule([p])];
      t.same(b, a, `${make.name} pod ${i}`);
      if (a[0]!.node === 'n3pvu') tiedPairWon++;
      if (i <= 150) t.not(a[0]!.node, 'ne3ea', 'the later name of the tied pair never wins while both are there');
      ref.removePod('default', `p-${i}`);
      wasm.removePod('default', `p-${i}`);
      if (i === 150) {
        ref.removeNode('n3pvu');
        wasm.removeNode('n3pvu');
      }
    }
    t.ok(tiedPairWon > 0, 'the tied pair was chosen some of the time');
    await wasm.close();
  }
});
