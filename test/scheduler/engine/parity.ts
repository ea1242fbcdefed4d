// Parity harness: generated clusters and pods go through the TypeScript reference engine and the Wasm engine, which
// must return identical schedule() and explain() results (placements, messages, every plugin score and total).
// parity-*.test.ts run shares of the 10,000 cases in parallel files.
import type { Test } from 'tap';
import { ReferenceEngine } from '../../../src/scheduler/reference.js';
import { createWasmEngine } from '../../../src/scheduler/engine/index.js';
import { defaultProfile, type Engine, type Pod, type Profile } from '../../../src/scheduler/types.js';
import { Gen, genNode, genPod, genWorkload } from './generate.js';

function profileFor(g: Gen): Profile {
  const p: Profile = structuredClone(defaultProfile);
  const v = g.int(0, 9);
  if (v === 1) p.nodeResourcesFit.scoringStrategy.type = 'MostAllocated';
  if (v === 2) {
    p.nodeResourcesFit.scoringStrategy = {
      type: 'RequestedToCapacityRatio',
      resources: [
        { name: 'cpu', weight: 2 },
        { name: 'memory', weight: 1 },
      ],
      requestedToCapacityRatio: {
        shape: [
          { utilization: 0, score: 0 },
          { utilization: 60, score: 7 },
          { utilization: 100, score: 10 },
        ],
      },
    };
  }
  if (v === 3) {
    p.nodeResourcesFit.scoringStrategy.resources.push({ name: 'example.com/gpu', weight: 3 });
    p.nodeResourcesBalancedAllocation.resources.push({ name: 'ephemeral-storage', weight: 1 });
    p.nodeResourcesFit.ignoredResources = ['example.com/gpu'];
  }
  if (v === 4) p.scores = p.scores.filter((s) => s.name !== 'ImageLocality' && s.name !== 'TaintToleration');
  if (v === 5) p.interPodAffinity.ignorePreferredTermsOfExistingPods = true;
  return p;
}

async function both(a: Engine, b: Engine, f: (e: Engine) => Promise<unknown> | unknown) {
  let ra: unknown;
  let rb: unknown;
  try {
    ra = await f(a);
  } catch (err) {
    ra = { error: (err as Error).message };
  }
  try {
    rb = await f(b);
  } catch (err) {
    rb = { error: (err as Error).message };
  }
  return [ra, rb];
}

/** Runs cases [first, first + count) and asserts they all agree. */
export async function runParity(t: Test, first: number, count: number): Promise<void> {
  const FIRST = Number(process.env.SKIFF_PARITY_FIRST ?? first);
  const CASES = Number(process.env.SKIFF_PARITY_CASES ?? count);
  let mismatches = 0;
  let decisions = 0;
  let scheduled = 0;
  for (let c = FIRST; c < FIRST + CASES && mismatches < 3; c++) {
    const g = new Gen(0x5eed0000 + c);
    const profile = profileFor(g);
    const seed = g.int(0, 0xffffffff);
    const ref = new ReferenceEngine({ profile, seed });
    const wasm = await createWasmEngine(profile, seed, { worker: false });
    const tiny = g.chance(0.3);
    const opt = { podDependent: g.pick([0, 0.1, 0.3]), tiny };
    const nodeNames: string[] = [];
    for (let i = g.int(0, 10); i > 0; i--) nodeNames.push(`n${g.int(0, 99)}`);
    const names = [...new Set(nodeNames)];
    const steps: string[] = [];
    const check = async (what: string, f: (e: Engine) => Promise<unknown> | unknown) => {
      steps.push(what);
      const [ra, rb] = await both(ref, wasm, f);
      if (JSON.stringify(ra) !== JSON.stringify(rb) && !sameJson(ra, rb)) {
        mismatches++;
        t.same(rb, ra, `case ${c}: ${steps.join(' → ')}`);
        return false;
      }
      return true;
    };
    for (const n of names) {
      const node = genNode(g, n, tiny);
      await check(`node ${n}`, (e) => e.upsertNode(node));
    }
    for (let i = g.int(0, 12); i > 0; i--) {
      const pod = genPod(g, `old-${i}`, names, opt);
      pod.spec!.nodeName = g.chance(0.9) && names.length > 0 ? g.pick(names) : 'gone';
      await check(`placed ${i}`, (e) => e.upsertPod(pod));
    }
    if (g.chance(0.2)) {
      const w = genWorkload(g);
      await check('workload', (e) => e.upsertWorkload(w));
    }
    const probe = genPod(g, 'probe', names, opt);
    if (!(await check('explain', (e) => e.explain(probe)))) continue;
    const batch: Pod[] = [];
    for (let i = g.int(1, 8); i > 0; i--) batch.push(genPod(g, `p-${i}`, names, opt));
    let ok = await check('schedule', async (e) => {
      const r = await e.schedule(batch);
      return r;
    });
    decisions += batch.length;
    if (!ok) continue;
    // Mutations, then another batch and explain.
    if (g.chance(0.5)) {
      const victim = `p-${g.int(1, 8)}`;
      await check('remove pod', (e) => e.removePod('default', victim));
    }
    if (g.chance(0.3) && names.length > 0) {
      const victim = g.pick(names);
      await check('remove node', (e) => e.removeNode(victim));
    }
    if (g.chance(0.3) && names.length > 0) {
      const n = genNode(g, g.pick(names), tiny);
      await check('update node', (e) => e.upsertNode(n));
    }
    const batch2: Pod[] = [];
    for (let i = g.int(1, 6); i > 0; i--) batch2.push(genPod(g, `q-${i}`, names, opt));
    ok = await check('schedule 2', async (e) => {
      const r = await e.schedule(batch2);
      scheduled += r.filter((x) => x.node).length;
      return r;
    });
    decisions += batch2.length;
    if (!ok) continue;
    const probe2 = genPod(g, 'probe2', names, opt);
    await check('explain 2', (e) => e.explain(probe2));
    await wasm.close();
  }
  t.equal(mismatches, 0, `${CASES} clusters, ${decisions} decisions (${scheduled} placed in second batches) agree`);
}

/** Key order in objects does not matter. */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x && typeof x === 'object')
    return Object.fromEntries(
      Object.keys(x)
        .sort()
        .map((k) => [k, sortKeys((x as Record<string, unknown>)[k])]),
    );
  return x;
}
