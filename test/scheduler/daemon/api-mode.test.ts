// `skiff bench scheduler --mode api` in miniature: the daemon binds every measured pod through a real API server in
// this process, the result has the shape the CLI prints, and preemption victims are confirmed like kwok's nodes.
import t from 'tap';
import { benchApiMode } from '../../../src/bench/scheduler/api-mode.js';

t.test('SchedulingBasic binds every measured pod through the API', async (t) => {
  const r = await benchApiMode('ts', { workload: 'SchedulingBasic', nodes: 8, initPods: 10, pods: 40, batch: 16 });
  t.match(r, { workload: 'SchedulingBasic', nodes: 8, pods: 40, engine: 'ts', mode: 'api', initPods: 10 });
  t.equal(r.scheduled, 40, 'every measured pod was seen bound by the watch');
  t.equal(r.unschedulable, 0);
  t.equal(r.bindErrors, 0);
  for (const k of ['podsPerSec', 'p50Ms', 'p99Ms', 'cpuSeconds', 'createdPerSec', 'peakRssMB'])
    t.type(r[k], 'number', k);
  t.ok((r.p99Ms as number) >= (r.p50Ms as number));
});

t.test('PreemptionBasic: high-priority pods preempt and are bound', async (t) => {
  // 4 nodes × 4 low-priority 900m pods fill every node; each 3000m pod needs most of a node back.
  const r = await benchApiMode('ts', { workload: 'PreemptionBasic', nodes: 4, initPods: 16, pods: 2, batch: 16 });
  t.equal(r.scheduled, 2);
  t.ok((r.preemptions as number) >= 2, 'the daemon preempted for each pod');
  t.ok((r.victimsTerminated as number) >= 6, 'at least three 900m victims per 3000m pod');
});
