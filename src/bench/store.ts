// `skiff bench store [--json] [--seconds N]`: the SQLite and etcd backends side by side — acknowledged writes/s with
// 1 and 64 writers, listing 10,000 keys, and watch delivery p99 with 100 watchers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEtcdStore } from '../store/etcd.js';
import { startEtcd } from '../store/etcd-process.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';

interface StoreFigures {
  writesPerSec1: number;
  writesPerSec64: number;
  list10kMs: number;
  watchP99Ms: number;
}

const LIST_KEYS = 10_000;
const WATCHERS = 100;
const WATCH_WRITES = 1000;
/** Measured lists: enough that one hit by a major GC or a burst of page faults barely moves the median. */
const LIST_RUNS = 15;
const LIST_WARMUP = 3;

/** A pod-shaped JSON value of about 1 KB, so figures reflect realistic object sizes. */
function podValue(i: number): string {
  return JSON.stringify({
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: `web-${i}`,
      namespace: 'default',
      uid: `6f1c${String(i).padStart(8, '0')}-9b1a-4c2d-8e3f-0123456789ab`,
      labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '5d8f7c9b6' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f7c9b6', controller: true }],
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'busybox:1.35',
          command: ['httpd', '-f', '-p', '8080'],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
        },
      ],
      nodeName: `node-${i % 50}`,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
    },
    status: { phase: 'Running', podIP: `10.244.${(i >> 8) & 255}.${i & 255}`, hostIP: '10.0.0.1' },
  });
}

/**
 * Acknowledged creates per second with `writers` concurrent writers over `ms`, and per CPU-second of this process
 * (the second figure shows the cost when the machine is shared and the wall-clock figure is mostly waiting).
 */
async function writesPerSec(
  store: Store,
  prefix: string,
  writers: number,
  ms: number,
): Promise<{ perSec: number; perCpuSec: number }> {
  let n = 0;
  const value = podValue(0);
  const c0 = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) await store.create(`${prefix}${n++}`, value);
    }),
  );
  const c = process.cpuUsage(c0);
  return { perSec: n / ((performance.now() - start) / 1000), perCpuSec: n / ((c.user + c.system) / 1e6) };
}

/** Median (and p90) wall and median CPU time of listing 10,000 keys (written first with 64 writers). */
async function list10k(store: Store, prefix: string): Promise<{ wallMs: number; wallP90Ms: number; cpuMs: number }> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < LIST_KEYS) {
        const i = next++;
        await store.create(`${prefix}${String(i).padStart(6, '0')}`, podValue(i));
      }
    }),
  );
  // Unmeasured runs warm SQLite's page cache and let V8 grow its young generation to the listing's size (the first
  // few 9 MB listings in a fresh heap spend most of their time in scavenges), as in a long-running server.
  for (let i = 0; i < LIST_WARMUP; i++) await store.list(prefix);
  const times: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < LIST_RUNS; run++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await store.list(prefix);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (result.items.length !== LIST_KEYS) throw new Error(`listed ${result.items.length} keys, wrote ${LIST_KEYS}`);
    // Spot-check content (outside the timing): a fast list of the wrong values would be no figure at all.
    const i = (run * 661) % LIST_KEYS;
    const kv = result.items[i]!;
    if (kv.key !== `${prefix}${String(i).padStart(6, '0')}` || kv.value !== podValue(i)) {
      throw new Error(`list item ${i} is ${kv.key} with a value other than the one written`);
    }
  }
  return { wallMs: percentile(times, 0.5), wallP90Ms: percentile(times, 0.9), cpuMs: percentile(cpu, 0.5) };
}

/**
 * p99 of write-issued-to-delivered time over every (event, watcher) pair: 100 watchers on one prefix, one writer
 * issuing writes back to back, so the figure is commit plus fan-out rather than queueing behind other writers.
 */
async function watchP99(store: Store, prefix: string): Promise<number> {
  const issued = new Map<string, number>();
  const latencies: number[] = [];
  let delivered = 0;
  let failure: Error | undefined;
  const from = await store.currentRevision();
  const watches = Array.from({ length: WATCHERS }, () =>
    store.watch(prefix, from, {
      onEvents(events) {
        const now = performance.now();
        for (const e of events) latencies.push(now - issued.get(e.kv.key)!);
        delivered += events.length;
      },
      onError(err) {
        failure = err;
      },
    }),
  );
  // etcd acknowledges watch creation asynchronously; give the streams a moment to be established.
  await new Promise((r) => setTimeout(r, store.backend === 'etcd' ? 500 : 10));
  for (let i = 0; i < WATCH_WRITES; i++) {
    const key = `${prefix}${i}`;
    issued.set(key, performance.now());
    await store.create(key, podValue(i));
  }
  const deadline = Date.now() + 30_000;
  while (delivered < WATCH_WRITES * WATCHERS && !failure && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const w of watches) w.close();
  if (failure) throw failure;
  if (delivered < WATCH_WRITES * WATCHERS) {
    throw new Error(`watchers got ${delivered} of ${WATCH_WRITES * WATCHERS} events within 30 s`);
  }
  return percentile(latencies, 0.99);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function measure(store: Store, seconds: number, say: (line: string) => void): Promise<StoreFigures> {
  const ms = seconds * 1000;
  const w1 = await writesPerSec(store, '/bench/w1/', 1, ms);
  const writesPerSec1 = w1.perSec;
  say(
    `  writes/s, 1 writer:    ${writesPerSec1.toFixed(0)} (${w1.perCpuSec.toFixed(0)} per CPU-second of this process)`,
  );
  const w64 = await writesPerSec(store, '/bench/w64/', 64, ms);
  const writesPerSec64 = w64.perSec;
  say(
    `  writes/s, 64 writers:  ${writesPerSec64.toFixed(0)} (${w64.perCpuSec.toFixed(0)} per CPU-second of this process)`,
  );
  const list = await list10k(store, '/bench/list/');
  const list10kMs = list.wallMs;
  say(
    `  list 10,000 keys:      ${list10kMs.toFixed(1)} ms (median of ${LIST_RUNS} after ${LIST_WARMUP} warm-up runs, p90 ` +
      `${list.wallP90Ms.toFixed(1)} ms; ${list.cpuMs.toFixed(1)} ms CPU in ` +
      `this process; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs)`,
  );
  const watchP99Ms = await watchP99(store, '/bench/watch/');
  say(
    `  watch p99, ${WATCHERS} watchers: ${watchP99Ms.toFixed(2)} ms (write issued -> delivered, ${WATCH_WRITES} writes)`,
  );
  const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    writesPerSec1: round(writesPerSec1, 0),
    writesPerSec64: round(writesPerSec64, 0),
    list10kMs: round(list10kMs, 2),
    watchP99Ms: round(watchP99Ms, 3),
  };
}

export async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const secondsFlag = argv.indexOf('--seconds');
  const seconds = secondsFlag >= 0 ? Number(argv[secondsFlag + 1]) : 3;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    process.stderr.write('usage: skiff bench store [--json] [--seconds N]\n');
    return 2;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`store benchmark: ${os.cpus().length} CPUs, ~${podValue(0).length}-byte values, ${seconds} s per write phase`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-store-'));
  const results: Record<'sqlite' | 'etcd', StoreFigures> = {} as never;
  try {
    say('sqlite (WAL, synchronous=NORMAL — the default, group commit):');
    const sqlite = await openSqliteStore({ dataDir, compactIntervalMs: 0 });
    try {
      results.sqlite = await measure(sqlite, seconds, say);
    } finally {
      await sqlite.close();
    }
    // For comparison only (not in the JSON): the power-loss-safe mode, which fsyncs once per group commit.
    const fullDir = path.join(dataDir, 'full');
    const full = await openSqliteStore({ dataDir: fullDir, compactIntervalMs: 0, synchronous: 'full' });
    try {
      const w64 = await writesPerSec(full, '/bench/w64/', 64, seconds * 1000);
      say(`  (synchronous=FULL, fsync per group commit: ${w64.perSec.toFixed(0)} writes/s with 64 writers)`);
    } finally {
      await full.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const etcd = await startEtcd();
  try {
    say(`etcd ${etcd.endpoint} (single member, own temp data dir):`);
    const store = await openEtcdStore({ endpoints: [etcd.endpoint], compactIntervalMs: 0 });
    try {
      results.etcd = await measure(store, seconds, say);
    } finally {
      await store.close();
    }
  } finally {
    await etcd.stop();
  }

  const line = JSON.stringify(results);
  fs.mkdirSync('bench-results', { recursive: true });
  fs.writeFileSync(path.join('bench-results', 'store.json'), `${line}\n`);
  if (json) say(line);
  return 0;
}
