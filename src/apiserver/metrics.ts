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

  /** Counts a finished request and records its latency. */
  observeRequest(
    l: { verb: string; group: string; version: string; resource: string; subresource: string },
    code: number,
    seconds: number,
  ): void {
    this.requests.inc({
      verb: l.verb,
      group: l.group,
      version: l.version,
      resource: l.resource,
      subresource: l.subresource,
      code: String(code),
    });
    this.latency.observe(l, seconds);
  }

  /** Times a store call. */
  async timeStore<T>(operation: string, type: string, fn: () => Promise<T>): Promise<T> {
    const end = this.storeLatency.startTimer({ operation, type });
    try {
      return await fn();
    } finally {
      end();
    }
  }
}
