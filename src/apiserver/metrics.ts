// Prometheus metrics for /metrics: request counts and latencies by verb/resource, watch counts, store latency.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, group, version, resource and subresource.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: 'apiserver_longrunning_requests',
    help: 'Number of open watch requests by group, version and resource.',
    labelNames: ['verb', 'group', 'version', 'resource'] as const,
    registers: [this.registry],
  });
  readonly watchEvents = new Counter({
    name: 'apiserver_watch_events_total',
    help: 'Number of events sent in watch clients',
    labelNames: ['group', 'version', 'kind'] as const,
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: 'etcd_request_duration_seconds',
    help: 'Store request latency in seconds for each operation and object type.',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly cacheEvents = new Counter({
    name: 'apiserver_watch_cache_events_received_total',
    help: 'Events the watch cache received from the store.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  // Labelled children by a joined key: prom-client hashes the label object on every call otherwise, a cost paid per
  // request. The label sets are few (verbs × resources × codes), so the maps stay small.
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly latencyChildren = new Map<string, { observe(v: number): void }>();
  private readonly storeChildren = new Map<string, { startTimer(): () => unknown }>();

  /** Counts a finished request and records its latency. */
  observeRequest(
    l: { verb: string; group: string; version: string; resource: string; subresource: string },
    code: number,
    seconds: number,
  ): void {
    const key = `${l.verb}\0${l.group}\0${l.version}\0${l.resource}\0${l.subresource}`;
    let latency = this.latencyChildren.get(key);
    if (!latency) {
      const { verb, group, version, resource, subresource } = l;
      latency = this.latency.labels({ verb, group, version, resource, subresource });
      this.latencyChildren.set(key, latency);
    }
    latency.observe(seconds);
    const codeKey = `${key}\0${code}`;
    let count = this.requestChildren.get(codeKey);
    if (!count) {
      const { verb, group, version, resource, subresource } = l;
      count = this.requests.labels({ verb, group, version, resource, subresource, code: String(code) });
      this.requestChildren.set(codeKey, count);
    }
    count.inc();
  }

  /** Times a store call. */
  async timeStore<T>(operation: string, type: string, fn: () => Promise<T>): Promise<T> {
    const key = `${operation}\0${type}`;
    let child = this.storeChildren.get(key);
    if (!child) {
      child = this.storeLatency.labels({ operation, type });
      this.storeChildren.set(key, child);
    }
    const end = child.startTimer();
    try {
      return await fn();
    } finally {
      end();
    }
  }
}
