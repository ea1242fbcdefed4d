// `skiff bench scheduler --mode api`: the scheduler daemon against a real API server in this process (SQLite store
// in a temp dir, the in-process client): nodes, init pods and measured pods are created through the API, the daemon
// binds them through pods/binding, and a separate watch observes the bindings. Throughput as upstream
// scheduler_perf: measured pods bound per second, from the first observed binding to the last.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../apiserver/server.js';
import { createClient } from '../../client/create.js';
import type { Client, KubeObject, ResourceAddress } from '../../client/types.js';
import { defaultLeaderElection } from '../../scheduler/daemon/config.js';
import { runScheduler } from '../../scheduler/daemon/run.js';
import { resolveProfile } from '../../scheduler/profile.js';
import type { Pod } from '../../scheduler/types.js';
import { workloadNode, workloads, type PodGroup } from './workloads.js';
import type { SchedulerBenchResult } from '../scheduler.js';

export interface ApiModeOptions {
  workload: string;
  nodes?: number;
  initPods?: number;
  pods?: number;
  /** The daemon's batch size (pods per engine call). */
  batch: number;
  /** Creates in flight at once. */
  concurrency?: number;
  /** How the in-process clients reach the API server (default direct). */
  transport?: ApiTransport;
  progress?: (phase: string, done: number, total: number) => void;
}

/**
 * direct: the API server's REST dispatch called in process (no HTTP framing; what `skiff up` uses); inject:
 * fastify.inject (fake HTTP requests and responses through fastify); http: real HTTP over loopback.
 */
export type ApiTransport = 'direct' | 'inject' | 'http';

export const transportDescriptions: Record<ApiTransport, string> = {
  direct: 'in-process (REST handlers, no HTTP framing)',
  inject: 'in-process fastify.inject (fake HTTP requests through fastify)',
  http: 'HTTP over loopback (127.0.0.1, plain HTTP, keep-alive)',
};

/** The embedded bench's result shape, measured through the API server. */
export type ApiModeResult = SchedulerBenchResult & { mode: 'api' };

const core = (resource: string, namespace?: string): ResourceAddress => ({
  group: '',
  version: 'v1',
  resource,
  namespace,
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `make(i)` for i in [0, n) with at most `limit` in flight. */
async function pool(n: number, limit: number, make: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await make(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** The PriorityClass that stands for a bare spec.priority of a workload template. */
const priorityClassFor = (priority: number) => `bench-priority-${priority}`;

/** A workload pod as the API takes it: Priority admission rejects a bare spec.priority, so it names a class. */
function podObject(p: Pod): KubeObject {
  if (p.spec?.priority === undefined || p.spec.priority === null)
    return { apiVersion: 'v1', kind: 'Pod', ...p } as KubeObject;
  const { priority, ...spec } = p.spec;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    ...p,
    spec: { ...spec, priorityClassName: priorityClassFor(priority) },
  } as KubeObject;
}

/**
 * Watches pods and records when each one is first seen bound. Resolves `until(n)` once n pods of a name prefix
 * are bound; a bounded wait (no progress for `stallMs`) rejects instead of hanging.
 */
class BindingWatch {
  readonly boundAt = new Map<string, number>();
  private readonly abort = new AbortController();
  private waiters: { prefix: string; n: number; resolve: () => void }[] = [];
  private readonly counts = new Map<string, number>();
  private done: Promise<void>;
  /** Gracefully deleted pods whose termination this watch confirmed. */
  terminated = 0;

  constructor(client: Client, resourceVersion: string, prefixes: string[]) {
    for (const p of prefixes) this.counts.set(p, 0);
    this.done = (async () => {
      try {
        for await (const ev of client.watch<KubeObject & { spec?: { nodeName?: string } }>(core('pods'), {
          resourceVersion,
          signal: this.abort.signal,
          // It only reads names and nodeName: in process, take the server's objects rather than parse JSON.
          sharedObjects: true,
        })) {
          if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
          const name = ev.object.metadata?.name ?? '';
          if (ev.object.metadata?.deletionTimestamp && ev.object.spec?.nodeName) {
            // No node agents run here: like kwok's simulated nodes, confirm the termination of a pod deleted
            // gracefully (e.g. a preemption victim) so it goes away and frees its node.
            this.terminated++;
            const ns = ev.object.metadata.namespace ?? 'default';
            client.delete(core('pods', ns), name, { gracePeriodSeconds: 0 }).catch(() => {});
            continue;
          }
          if (!ev.object.spec?.nodeName || this.boundAt.has(name)) continue;
          this.boundAt.set(name, performance.now());
          for (const [prefix, c] of this.counts)
            if (name.startsWith(prefix)) {
              this.counts.set(prefix, c + 1);
              this.check();
            }
        }
      } catch (err) {
        if (!this.abort.signal.aborted) throw err;
      }
    })();
  }

  count(prefix: string): number {
    return this.counts.get(prefix) ?? 0;
  }

  private check(): void {
    const ready = this.waiters.filter((w) => this.count(w.prefix) >= w.n);
    this.waiters = this.waiters.filter((w) => this.count(w.prefix) < w.n);
    for (const w of ready) w.resolve();
  }

  async until(prefix: string, n: number, stallMs: number, progress?: (done: number) => void): Promise<void> {
    let last = -1;
    let lastChange = performance.now();
    const reached = new Promise<void>((resolve) => {
      this.waiters.push({ prefix, n, resolve });
      this.check();
    });
    for (;;) {
      const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), 200));
      if ((await Promise.race([reached, tick])) !== 'tick') return;
      const c = this.count(prefix);
      progress?.(c);
      if (c !== last) {
        last = c;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stallMs)
        throw new Error(`only ${c} of ${n} "${prefix}" pods bound; no progress for ${stallMs / 1000} s`);
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done.catch(() => {});
  }
}

/**
 * SKIFF_BENCH_CPU_PROFILE=FILE: a V8 CPU profile of the main thread over the measured phase only (`--cpu-prof`
 * would also cover setup and pod creation). Returns the function that stops it and writes FILE.
 */
async function startProfile(file: string | undefined): Promise<(() => Promise<void>) | undefined> {
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** Bindings observed within this long of the first one came with it (one store commit, one watch delivery). */
const SAME_COMMIT_MS = 2;

/**
 * Pods bound per second between the first and the last observed binding (sorted times, ms). The pods observed with
 * the first binding are its start, not throughput: the daemon binds a batch at a time and the store commits it at
 * once, so counting them would credit a whole batch to no time at all (with batches of 1,000 of 10,000 pods, +11%).
 */
export function bindThroughput(times: readonly number[]): number {
  if (times.length < 2) return 0;
  const first = times[0]!;
  const span = (times[times.length - 1]! - first) / 1000;
  const after = times.filter((t) => t > first + SAME_COMMIT_MS).length;
  return span > 0 ? after / span : 0;
}

/** Which group's pods share a name prefix: the part before the trailing number. */
function prefixOf(g: PodGroup): string {
  return (g.make(0).metadata?.name ?? '').replace(/\d+$/, '');
}

export async function benchApiMode(engine: 'wasm' | 'ts', o: ApiModeOptions): Promise<ApiModeResult> {
  const build = workloads[o.workload];
  if (!build) throw new Error(`unknown workload "${o.workload}"`);
  const w = build({ nodes: o.nodes, initPods: o.initPods, pods: o.pods });
  const concurrency = o.concurrency ?? 256;
  const progress = o.progress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-scheduler-'));
  const rssBefore = process.memoryUsage().rss;
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  const transport = o.transport ?? 'direct';
  const client =
    transport === 'http'
      ? createClient({ server: server.url, token: server.adminToken, userAgent: 'skiff-bench' })
      : createClient({ inject: server.fastify, token: server.adminToken, userAgent: 'skiff-bench', transport });
  let scheduler: ReturnType<typeof runScheduler> | undefined;
  let watch: BindingWatch | undefined;
  try {
    const namespaces = new Set<string>();
    for (const g of [...w.init, w.measure]) namespaces.add(g.make(0).metadata?.namespace ?? 'default');
    for (const ns of namespaces)
      if (ns !== 'default')
        await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const priorities = new Set<number>();
    for (const g of [...w.init, w.measure]) {
      const p = g.make(0).spec?.priority;
      if (typeof p === 'number') priorities.add(p);
    }
    for (const value of priorities)
      await client.create(
        { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' },
        {
          apiVersion: 'scheduling.k8s.io/v1',
          kind: 'PriorityClass',
          metadata: { name: priorityClassFor(value) },
          value,
        },
      );
    await pool(w.nodes, concurrency, async (i) => {
      await client.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', ...workloadNode(w.name, i) });
      if (i % 500 === 0) progress('nodes', i, w.nodes);
    });
    const rv = (await client.list(core('pods'), { limit: 1 })).metadata?.resourceVersion ?? '0';
    const groups = [...w.init, w.measure];
    watch = new BindingWatch(client, rv, groups.map(prefixOf));
    const startDaemon = () =>
      runScheduler({
        client,
        config: {
          profiles: [resolveProfile()],
          leaderElection: { ...defaultLeaderElection, leaderElect: false },
        },
        engine,
        seed: 1,
        batchSize: o.batch,
        log: (line) => process.stderr.write(`${line}\n`),
      });
    // Init pods: created and bound before measuring (upstream creates them in their own op, unmeasured).
    scheduler = startDaemon();
    for (const g of w.init) {
      const ns = g.make(0).metadata?.namespace ?? 'default';
      await pool(g.count, concurrency, (i) => client.create(core('pods', ns), podObject(g.make(i))).then(() => {}));
      await watch.until(prefixOf(g), g.count, 30_000, (d) => progress('init', d, g.count));
    }
    await scheduler.stop();
    scheduler = undefined;
    // The measured pods wait as a backlog while no scheduler runs, so what is measured is the scheduler's own
    // throughput through the API (informer list + watch, engine, pods/binding, events) rather than how fast this
    // process's API server accepts creates, which is reported separately (createdPerSec).
    const measure = w.measure;
    const ns = measure.make(0).metadata?.namespace ?? 'default';
    const prefix = prefixOf(measure);
    const c0 = performance.now();
    await pool(measure.count, concurrency, async (i) => {
      await client.create(core('pods', ns), podObject(measure.make(i)));
      if (i % 500 === 0) progress('create', i, measure.count);
    });
    const createdSeconds = (performance.now() - c0) / 1000;
    const profile = await startProfile(process.env.SKIFF_BENCH_CPU_PROFILE);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    scheduler = startDaemon();
    await watch.until(prefix, measure.count, 30_000, (d) => progress('measure', d, measure.count));
    const cpu = process.cpuUsage(cpu0);
    await profile?.();
    const wallSeconds = (performance.now() - t0) / 1000;
    const bindTimes: number[] = [];
    const latencies: number[] = [];
    for (const [name, at] of watch.boundAt) {
      if (!name.startsWith(prefix)) continue;
      bindTimes.push(at);
      // Every measured pod is pending when the scheduler starts: its latency is start → observed binding.
      latencies.push(at - t0);
    }
    bindTimes.sort((a, b) => a - b);
    latencies.sort((a, b) => a - b);
    const throughput = bindThroughput(bindTimes);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const stats = scheduler.daemon.stats;
    const result: ApiModeResult = {
      workload: w.name,
      nodes: w.nodes,
      pods: measure.count,
      engine,
      mode: 'api',
      podsPerSec: Math.round(throughput),
      p50Ms: Number(percentile(latencies, 50).toFixed(3)),
      p99Ms: Number(percentile(latencies, 99).toFixed(3)),
      scheduled: bindTimes.length,
      unschedulable: measure.count - bindTimes.length,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      addedRssMB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
      initPods: w.init.reduce((a, g) => a + g.count, 0),
      cpuSeconds: Number(cpuSeconds.toFixed(3)),
      podsPerCpuSec: Math.round(measure.count / Math.max(cpuSeconds, 1e-6)),
      createdPerSec: Math.round(measure.count / createdSeconds),
      // The stricter figure: from the daemon's start (informer list, engine start-up) to the last binding.
      podsPerSecFromStart: Math.round(bindTimes.length / ((bindTimes[bindTimes.length - 1]! - t0) / 1000)),
      wallSeconds: Number(wallSeconds.toFixed(3)),
      bindErrors: stats.bindErrors,
      preemptions: scheduler.daemon.stats.preemptions,
      victimsTerminated: watch.terminated,
      // Scheduled events: written in the background, dropped when the recorder's queue is full (as upstream).
      eventsWritten: scheduler.daemon.recorder.stats.written,
      eventsDropped: scheduler.daemon.recorder.stats.dropped,
      batch: o.batch,
      transport: transportDescriptions[transport],
    };
    return result;
  } finally {
    await watch?.close();
    await scheduler?.stop();
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
