// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection: acquire when the lease is
// free or its holder stopped renewing for leaseDuration (judged by local observation time, not the holder's clock),
// renew every retryPeriod, and give up leadership when renewing fails for renewDeadline.
import { isStatusError } from '../api/status.js';
import type { Client, ResourceAddress } from './types.js';

const leases = (namespace: string): ResourceAddress => ({
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
  namespace,
});

export interface LeaderElectionOptions {
  client: Client;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** metav1.MicroTime text. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class LeaderElector {
  private observedRecord = '';
  private observedAt = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly o: LeaderElectionOptions) {
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? defaultSleep;
  }

  /** One attempt: true when this identity holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = this.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    let lease: Lease;
    try {
      lease = await client.get<Lease>(leases(namespace), name);
    } catch (err) {
      if (!isStatusError(err) || err.code !== 404) return false;
      try {
        await client.create(leases(namespace), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec,
        });
        this.observe(`${identity}@${spec.renewTime}`, now);
        return true;
      } catch {
        return false;
      }
    }
    const old = lease.spec ?? {};
    const record = `${old.holderIdentity ?? ''}@${old.renewTime ?? ''}`;
    if (record !== this.observedRecord) this.observe(record, now);
    const heldByOther = !!old.holderIdentity && old.holderIdentity !== identity;
    if (heldByOther && this.observedAt + this.o.leaseDurationMs > now) return false;
    const next = {
      ...spec,
      acquireTime: heldByOther || !old.acquireTime ? spec.acquireTime : old.acquireTime,
      leaseTransitions: (old.leaseTransitions ?? 0) + (old.holderIdentity !== identity ? 1 : 0),
    };
    try {
      // The resourceVersion makes this a compare-and-swap: a concurrent writer wins and we retry later.
      await client.update(leases(namespace), { ...lease, spec: next });
      this.observe(`${identity}@${next.renewTime}`, now);
      return true;
    } catch {
      return false;
    }
  }

  private observe(record: string, at: number): void {
    this.observedRecord = record;
    this.observedAt = at;
  }

  /**
   * Gives the lease up after a clean stop (client-go's ReleaseOnCancel, which kube-scheduler turns on): the holder is
   * cleared so a restarted or standby replica takes over at once instead of waiting out leaseDuration.
   */
  async release(): Promise<void> {
    const { client, namespace, name, identity } = this.o;
    try {
      const lease = await client.get<Lease>(leases(namespace), name);
      if (lease.spec?.holderIdentity !== identity) return;
      const now = microTime(this.now());
      await client.update(leases(namespace), {
        ...lease,
        spec: {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
        },
      });
    } catch {
      // Best effort, as upstream: the lease then simply expires.
    }
  }

  /** Blocks until leadership is acquired, leads until renewal fails or the signal aborts, then returns. */
  async run(): Promise<void> {
    const { signal } = this.o;
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) await this.sleep(this.o.retryPeriodMs, signal);
    if (signal.aborted) return;
    this.o.onStartedLeading();
    let lastRenew = this.now();
    while (!signal.aborted) {
      await this.sleep(this.o.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) lastRenew = this.now();
      else if (this.now() - lastRenew >= this.o.renewDeadlineMs) break;
    }
    this.o.onStoppedLeading();
  }
}
