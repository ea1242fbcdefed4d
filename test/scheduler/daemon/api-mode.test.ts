// `skiff bench scheduler --mode api` in miniature: the daemon binds every measured pod through a real API server in
// this process, the result has the shape the CLI prints, and preemption victims are confirmed like kwok's nodes.
import t from 'tap';
import { benchApiMode, bindThroughput } from '../../../src/bench/scheduler/api-mode.js';

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

t.test(
  'bindThroughput: pods bound after the first commit, over the time from the first to the last binding',
  async (t) => {
    // Three commits of 1,000 bindings, 100 ms apart (each observed over ~1 ms): 2,000 pods in 0.2 s.
    const times = [0, 100, 200].flatMap((at) => Array.from({ length: 1000 }, (_, i) => at + i / 1000));
    t.equal(Math.round(bindThroughput(times)), Math.round(2000 / ((200 + 0.999) / 1000)));
    t.equal(bindThroughput([5]), 0, 'one binding is no rate');
    t.equal(bindThroughput([1, 1.5]), 0, 'two bindings of one commit are no rate either');
    t.equal(bindThroughput([0, 1000]), 1, 'one pod after the first in one second');
  },
);
