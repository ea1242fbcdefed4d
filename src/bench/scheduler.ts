// `skiff bench scheduler`: upstream scheduler_perf workloads against the embedded scheduler (Wasm or TS engine),
// printing pods/s, latency percentiles and peak RSS; with --json the last line is one JSON object (also saved
// under bench-results/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createScheduler } from '../scheduler/embed.js';
import type { Engine, Pod } from '../scheduler/types.js';
import { benchApiMode, type ApiTransport } from './scheduler/api-mode.js';
import { workloadNode, workloads, type PodGroup } from './scheduler/workloads.js';

export interface SchedulerBenchResult {
  workload: string;
  nodes: number;
  pods: number;
  engine: 'wasm' | 'ts';
  mode: 'embedded' | 'api';
  podsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  scheduled: number;
  unschedulable: number;
  peakRssMB: number;
  [extra: string]: unknown;
}

const usage = `usage: skiff bench scheduler [--workload NAME] [--nodes N] [--init-pods N] [--pods N]
       [--engine wasm|ts] [--[no-]compare] [--batch N] [--mode embedded|api] [--transport direct|inject|http] [--json]
workloads: ${Object.keys(workloads).join(', ')}
Embedded runs also run the other engine on the same workload and report the speedup (--no-compare skips it).
--transport (api mode): how the clients reach the in-process API server; direct (default) skips HTTP framing.
`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

class Progress {
  readonly #tty = process.stderr.isTTY === true;
  #last = 0;
  constructor(readonly label: string) {}
  update(done: number, total: number): void {
    if (!this.#tty) return;
    const now = Date.now();
    if (now - this.#last < 100 && done < total) return;
    this.#last = now;
    const width = 30;
    const filled = Math.round((done / Math.max(total, 1)) * width);
    process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done >= total) process.stderr.write('\n');
  }
}

/**
 * Schedules the groups' pods in batches, keeping two batches in flight: the engine flattens the next batch on this
 * thread while its worker decides the previous one (decisions stay in submission order).
 */
async function runGroups(s: Engine, groups: PodGroup[], batch: number, progress: Progress, latencies?: number[]) {
  const total = groups.reduce((a, g) => a + g.count, 0);
  let done = 0;
  let scheduled = 0;
  let unschedulable = 0;
  const inFlight: Promise<void>[] = [];
  const submit = (pods: Pod[]) => {
    const t0 = performance.now();
    return s.schedule(pods).then((results) => {
      const ms = performance.now() - t0;
      for (const r of results) {
        if (r.node) scheduled++;
        else unschedulable++;
        // Every pod of a batch waits for the whole batch: its latency is the batch's round trip.
        latencies?.push(ms);
      }
      done += pods.length;
      progress.update(done, total);
    });
  };
  for (const g of groups) {
    for (let start = 0; start < g.count; start += batch) {
      const pods: Pod[] = [];
      for (let i = start; i < Math.min(g.count, start + batch); i++) pods.push(g.make(i));
      inFlight.push(submit(pods));
      if (inFlight.length >= 2) await inFlight.shift();
    }
  }
  await Promise.all(inFlight);
  return { scheduled, unschedulable };
}

interface Options {
  workload: string;
  nodes?: number;
  initPods?: number;
  pods?: number;
  batch: number;
}

/** One measured run of a workload on one engine. */
export async function benchOnce(engine: 'wasm' | 'ts', o: Options): Promise<SchedulerBenchResult> {
  const build = workloads[o.workload];
  if (!build) throw new Error(`unknown workload "${o.workload}"`);
  const w = build({ nodes: o.nodes, initPods: o.initPods, pods: o.pods });
  const rssBefore = process.memoryUsage().rss;
  const s = await createScheduler({ engine, seed: 1 });
  try {
    for (let i = 0; i < w.nodes; i++) s.upsertNode(workloadNode(w.name, i));
    await runGroups(s, w.init, o.batch, new Progress(`${engine} init`));
    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { scheduled, unschedulable } = await runGroups(
      s,
      [w.measure],
      o.batch,
      new Progress(`${engine} measure`),
      latencies,
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // CPU seconds of every thread of the process (caller + worker): on a busy machine wall time mostly measures
    // waiting for a core, this measures the work.
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    latencies.sort((a, b) => a - b);
    const result: SchedulerBenchResult = {
      workload: w.name,
      nodes: w.nodes,
      pods: w.measure.count,
      engine,
      mode: 'embedded',
      podsPerSec: Math.round(w.measure.count / seconds),
      p50Ms: Number(percentile(latencies, 50).toFixed(3)),
      p99Ms: Number(percentile(latencies, 99).toFixed(3)),
      scheduled,
      unschedulable,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      // What this engine added: RSS after the run (nodes and every placed pod still held) minus RSS before it.
      addedRssMB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
      initPods: w.init.reduce((a, g) => a + g.count, 0),
      cpuSeconds: Number(cpuSeconds.toFixed(3)),
      podsPerCpuSec: Math.round(w.measure.count / Math.max(cpuSeconds, 1e-6)),
      batch: o.batch,
    };
    if (w.note) result.note = w.note;
    return result;
  } finally {
    await s.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        workload: { type: 'string', default: 'SchedulingBasic' },
        nodes: { type: 'string' },
        'init-pods': { type: 'string' },
        pods: { type: 'string' },
        engine: { type: 'string', default: 'wasm' },
        mode: { type: 'string', default: 'embedded' },
        transport: { type: 'string', default: 'direct' },
        batch: { type: 'string', default: '1000' },
        compare: { type: 'boolean' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowNegative: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(usage);
    return 0;
  }
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}`);
    return n;
  };
  let options: Options;
  try {
    if (!workloads[args.workload!]) throw new RangeError(`unknown workload "${args.workload}"`);
    if (args.engine !== 'wasm' && args.engine !== 'ts') throw new RangeError('--engine must be wasm or ts');
    if (args.mode !== 'embedded' && args.mode !== 'api') throw new RangeError('--mode must be embedded or api');
    if (!['direct', 'inject', 'http'].includes(args.transport!))
      throw new RangeError('--transport must be direct, inject or http');
    options = {
      workload: args.workload!,
      nodes: int('nodes', args.nodes, 1),
      initPods: int('init-pods', args['init-pods'], 0),
      pods: int('pods', args.pods, 1),
      batch: int('batch', args.batch, 1)!,
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  // Embedded runs measure the other engine in the same process by default, so the speedup is a same-run ratio.
  const compare = args.compare ?? args.mode === 'embedded';
  if (args.mode === 'api' && args.compare) {
    process.stderr.write(`--compare is for --mode embedded\n${usage}`);
    return 2;
  }
  const engine = args.engine as 'wasm' | 'ts';
  const bars = new Map<string, Progress>();
  const progress = (phase: string, done: number, total: number) => {
    if (!bars.has(phase)) bars.set(phase, new Progress(`api ${phase}`));
    bars.get(phase)!.update(done, total);
  };
  const result: SchedulerBenchResult =
    args.mode === 'api'
      ? await benchApiMode(engine, { ...options, progress, transport: args.transport as ApiTransport })
      : await benchOnce(engine, options);
  if (compare) {
    const other = await benchOnce(engine === 'wasm' ? 'ts' : 'wasm', options);
    const [wasm, ts] = engine === 'wasm' ? [result, other] : [other, result];
    result.compare = {
      engine: other.engine,
      podsPerSec: other.podsPerSec,
      podsPerCpuSec: other.podsPerCpuSec,
      p50Ms: other.p50Ms,
      p99Ms: other.p99Ms,
    };
    result.speedup = Number((wasm.podsPerSec / Math.max(ts.podsPerSec, 1)).toFixed(2));
    result.cpuSpeedup = Number(((wasm.podsPerCpuSec as number) / Math.max(ts.podsPerCpuSec as number, 1)).toFixed(2));
    result.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  }
  const lines = [
    `${result.workload}: ${result.nodes} nodes, ${result.initPods} init pods, ${result.pods} measured pods (${result.engine}, ${result.mode}, batches of ${result.batch})`,
    `  ${result.podsPerSec} pods/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (per-pod latency = its batch's round trip)`,
    `  ${result.podsPerCpuSec} pods per CPU-second (${result.cpuSeconds} s of CPU over all threads)`,
    `  scheduled ${result.scheduled}, unschedulable ${result.unschedulable}, peak RSS ${result.peakRssMB} MB (+${result.addedRssMB} MB for this run)`,
  ];
  if (result.compare) {
    const c = result.compare as { engine: string; podsPerSec: number };
    lines.push(
      `  ${c.engine}: ${c.podsPerSec} pods/s → wasm/ts speedup ${result.speedup}x (${result.cpuSpeedup}x per CPU-second)`,
    );
  }
  if (result.transport) lines.push(`  transport: ${result.transport}`);
  if (result.note) lines.push(`  note: ${result.note}`);
  process.stdout.write(lines.join('\n') + '\n');
  if (args.json) {
    mkdirSync('bench-results', { recursive: true });
    const file = `bench-results/scheduler-${result.workload}-${result.engine}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  return 0;
}
