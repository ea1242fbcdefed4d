// The Wasm engine through its piscina worker (the default mode), against the reference, and through createScheduler.
import t from 'tap';
import { createWasmEngine } from '../../../src/scheduler/engine/index.js';
import { createScheduler } from '../../../src/scheduler/embed.js';
import { ReferenceEngine } from '../../../src/scheduler/reference.js';
import { defaultProfile, type Pod } from '../../../src/scheduler/types.js';
import { Gen, genNode, genPod } from './fixtures/generate.js';

t.test('decisions made in the worker equal the reference, batch after batch', async (t) => {
  const ref = new ReferenceEngine({ profile: defaultProfile, seed: 42 });
  const wasm = await createWasmEngine(defaultProfile, 42);
  t.teardown(() => wasm.close());
  const g = new Gen(1234);
  const names = Array.from({ length: 40 }, (_, i) => `node-${i}`);
  for (const n of names) {
    const node = genNode(g, n, false);
    ref.upsertNode(node);
    wasm.upsertNode(node);
  }
  let placed = 0;
  for (let round = 0; round < 5; round++) {
    const batch: Pod[] = [];
    for (let i = 0; i < 60; i++) batch.push(genPod(g, `r${round}-${i}`, names, { podDependent: 0.2, tiny: false }));
    const [a, b] = [await ref.schedule(batch), await wasm.schedule(batch)];
    t.same(b, a, `round ${round}`);
    placed += a.filter((r) => r.node).length;
    const victim = names[round]!;
    ref.removeNode(victim);
    wasm.removeNode(victim);
    ref.removePod('default', `r${round}-0`);
    wasm.removePod('default', `r${round}-0`);
    const probe = genPod(g, `probe-${round}`, names, { podDependent: 0.2, tiny: false });
    t.same(await wasm.explain(probe), await ref.explain(probe), `explain after round ${round}`);
  }
  t.ok(placed > 100, `${placed} pods placed`);
});

t.test('bad input rejects the whole batch before anything is placed', async (t) => {
  const wasm = await createWasmEngine(defaultProfile, 1);
  t.teardown(() => wasm.close());
  wasm.upsertNode({ metadata: { name: 'n' }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } } });
  const good: Pod = {
    metadata: { name: 'ok' },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu: '600m' } } }] },
  };
  await t.rejects(wasm.schedule([good, { metadata: {}, spec: { containers: [] } }]), /pod has no metadata.name/);
  const [r] = await wasm.schedule([good]);
  t.same(r, { pod: 'default/ok', node: 'n' }, 'the rejected batch left no placement behind');
  const [again] = await wasm.schedule([{ ...good, metadata: { name: 'ok2' } }]);
  t.same(again, { pod: 'default/ok2', reasons: ['0/1 nodes are available: 1 Insufficient cpu.'] });
});

t.test('createScheduler picks the Wasm engine when built, and close() ends it', async (t) => {
  const s = await createScheduler({ engine: 'wasm', seed: 5 });
  t.equal(s.engine, 'wasm');
  s.upsertNode({ metadata: { name: 'n' }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } } });
  t.same(await s.schedule([{ metadata: { name: 'p' }, spec: { containers: [] } }]), [{ pod: 'default/p', node: 'n' }]);
  await s.close();
  t.throws(() => s.upsertNode({ metadata: { name: 'm' } }), /closed/);
});
