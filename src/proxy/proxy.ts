// The proxy runner: Service/EndpointSlice events → tracker → data plane, one sync at a time (events arriving
// during a sync are coalesced into the next one), failed syncs retried as full rebuilds, latency metrics.
import { Histogram, Counter, type Registry } from 'prom-client';
import { ServiceTracker } from './tracker.js';
import { NftablesDataPlane } from './nftables/dataplane.js';
import { FakeBackend, NftCliBackend, type NftBackend } from './nftables/backend.js';
import { NetlinkBackend } from './nftables/netlink-backend.js';
import { IptablesDataPlane } from './iptables/dataplane.js';
import { ConntrackCleaner } from './conntrack.js';
import { TableBuilder } from './lb/tables.js';
import type { DataPlane, SyncReport } from './dataplane.js';
import type { EndpointSliceObject, ServiceObject, ServicePortState } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ProxyOptions {
  dataPlane: DataPlane;
  nodeName: string;
  /** Wait at least this long between syncs (kube-proxy's minSyncPeriod); default 0: sync as soon as idle. */
  minSyncIntervalMs?: number;
  /** Retry delay after a failed sync (it then rebuilds everything); default 1000 ms. */
  retryMs?: number;
  /** Where to register Prometheus metrics (sync duration, programming latency, failures). */
  registry?: Registry;
  /** Called after every sync attempt. */
  onSync?: (report: SyncReport | undefined, error?: Error) => void;
}

/** Recent samples for callers without Prometheus (benchmarks, tests). */
export interface ProxyStats {
  syncs: number;
  failures: number;
  /** Event-to-kernel latency of the last syncs, ms (most recent last, at most 10,000). */
  programmingMs: number[];
  lastSync?: SyncReport;
}

export class Proxy {
  readonly tracker: ServiceTracker;
  readonly dataPlane: DataPlane;
  readonly stats: ProxyStats = { syncs: 0, failures: 0, programmingMs: [] };
  readonly #options: ProxyOptions;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #lastSyncEnd = 0;
  #needsRetry = false;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly #metrics?: { duration: Histogram; programming: Histogram; failures: Counter };

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.dataPlane = options.dataPlane;
    this.tracker = new ServiceTracker({ nodeName: options.nodeName });
    if (options.registry) {
      const registers = [options.registry];
      this.#metrics = {
        duration: new Histogram({
          name: 'skiff_proxy_sync_duration_seconds',
          help: 'Time to apply one sync to the kernel',
          buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
          registers,
        }),
        programming: new Histogram({
          name: 'skiff_proxy_network_programming_duration_seconds',
          help: 'Time from a Service/EndpointSlice event to the kernel having the change',
          buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
          registers,
        }),
        failures: new Counter({ name: 'skiff_proxy_sync_failures_total', help: 'Failed syncs', registers }),
      };
    }
  }

  onService(type: EventType, svc: ServiceObject): void {
    if (type === 'DELETED') this.tracker.deleteService(svc);
    else this.tracker.upsertService(svc);
    this.schedule();
  }

  onEndpointSlice(type: EventType, slice: EndpointSliceObject): void {
    if (type === 'DELETED') this.tracker.deleteSlice(slice);
    else this.tracker.upsertSlice(slice);
    this.schedule();
  }

  /** Asks for a sync; several requests before it starts become one. */
  schedule(delayMs = 0): void {
    if (this.#closed || this.#timer || this.#running) return;
    const wait = Math.max(delayMs, this.#lastSyncEnd + (this.#options.minSyncIntervalMs ?? 0) - performance.now());
    const run = () => {
      this.#timer = undefined;
      void this.#run();
    };
    this.#timer = wait > 0 ? setTimeout(run, wait) : (setImmediate(run) as unknown as NodeJS.Timeout);
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#closed && (this.tracker.pending || this.#needsRetry)) {
        const changes = this.tracker.takeChanges();
        const retry = this.#needsRetry;
        this.#needsRetry = false;
        try {
          const report = await this.dataPlane.sync(changes.ports);
          const done = performance.now();
          this.stats.syncs++;
          this.stats.lastSync = report;
          if (changes.ports.size > 0 || !retry) {
            const latency = done - changes.since;
            this.stats.programmingMs.push(latency);
            if (this.stats.programmingMs.length > 10_000) this.stats.programmingMs.shift();
            this.#metrics?.programming.observe(latency / 1000);
          }
          this.#metrics?.duration.observe(report.ms / 1000);
          this.#options.onSync?.(report);
        } catch (err) {
          // The data plane keeps the wanted state and rebuilds everything on its next sync.
          this.stats.failures++;
          this.#metrics?.failures.inc();
          this.#needsRetry = true;
          this.#options.onSync?.(undefined, err as Error);
          this.#lastSyncEnd = performance.now();
          this.#running = false;
          this.schedule(this.#options.retryMs ?? 1000);
          return;
        }
        this.#lastSyncEnd = performance.now();
        if ((this.#options.minSyncIntervalMs ?? 0) > 0 && this.tracker.pending) break;
      }
    } finally {
      this.#running = false;
    }
    if (this.tracker.pending && !this.#closed) this.schedule();
    else if (!this.#needsRetry) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once every event so far is in the kernel (or the proxy is closed). */
  flush(): Promise<void> {
    if (this.#closed || (!this.tracker.pending && !this.#running && !this.#timer && !this.#needsRetry)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Forces a full rebuild on the next sync (e.g. a periodic resync). */
  resync(): void {
    this.tracker.markAllDirty();
    this.schedule();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const resolve of this.#idle.splice(0)) resolve();
    await this.dataPlane.close();
  }
}

export type BackendKind = 'netlink' | 'nft' | 'iptables' | 'fake';

export interface CreateProxyOptions {
  /** Default 'netlink' (elements over netlink, static parts through nft -f). */
  backend?: BackendKind;
  nodeName: string;
  /** Addresses NodePorts answer on. */
  nodeIPs: string[];
  clusterCIDRs?: string[];
  /** Program a namespace other than the process's own (nft and iptables backends only: a netlink socket cannot). */
  netns?: string;
  /** Run the `conntrack` binary to clear stale UDP flows (default true except for the fake backend). */
  conntrack?: boolean;
  minSyncIntervalMs?: number;
  registry?: Registry;
  onSync?: ProxyOptions['onSync'];
  /** Slot table builder (share one between proxies in one process). */
  tables?: TableBuilder;
}

/** A proxy with its data plane; feed it with onService/onEndpointSlice (e.g. from informers). */
export function createProxy(options: CreateProxyOptions): Proxy {
  const backend = options.backend ?? 'netlink';
  if (options.netns && backend === 'netlink') {
    throw new Error('the netlink backend programs the namespace of its process: run it under `ip netns exec`');
  }
  const cmd = options.netns ? { netns: options.netns } : {};
  const common = {
    nodeIPs: options.nodeIPs,
    ...(options.clusterCIDRs ? { clusterCIDRs: options.clusterCIDRs } : {}),
  };
  let dataPlane: DataPlane;
  if (backend === 'iptables') {
    dataPlane = new IptablesDataPlane({ ...common, ...cmd });
  } else {
    const nft: NftBackend =
      backend === 'fake' ? new FakeBackend() : backend === 'nft' ? new NftCliBackend(cmd) : new NetlinkBackend();
    const useConntrack = options.conntrack ?? backend !== 'fake';
    dataPlane = new NftablesDataPlane({
      backend: nft,
      ...common,
      ...(options.tables ? { tables: options.tables } : {}),
      ...(useConntrack ? { conntrack: new ConntrackCleaner(cmd) } : {}),
    });
  }
  return new Proxy({
    dataPlane,
    nodeName: options.nodeName,
    ...(options.minSyncIntervalMs !== undefined ? { minSyncIntervalMs: options.minSyncIntervalMs } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.onSync ? { onSync: options.onSync } : {}),
  });
}

/** Applies desired states directly (no tracker): for tests and tools that compute states themselves. */
export async function applyDesiredState(
  dataPlane: DataPlane,
  states: Iterable<ServicePortState | [string, ServicePortState | null]>,
): Promise<SyncReport> {
  const changes = new Map<string, ServicePortState | null>();
  for (const s of states) {
    if (Array.isArray(s)) changes.set(s[0], s[1]);
    else changes.set(s.key, s);
  }
  return dataPlane.sync(changes);
}
