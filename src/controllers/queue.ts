// WorkQueue: the controllers' de-duplicating work queue with per-key exponential retry, like client-go's workqueue.
//
// A key is queued at most once; a key added again while a worker holds it is processed once more after that worker
// finishes (never by two workers at the same time). Failed keys come back after 5 ms · 2^failures, capped at
// 1000 s (client-go DefaultControllerRateLimiter's per-item limiter); forget() resets the count.

export interface WorkQueueOptions {
  /** First retry delay (default 5 ms, client-go's ItemExponentialFailureRateLimiter base). */
  baseDelayMs?: number;
  /** Largest retry delay (default 1000 s, as upstream). */
  maxDelayMs?: number;
}

export class WorkQueue<K = string> {
  private readonly order: K[] = [];
  private readonly queued = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly dirty = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly timers = new Map<K, { timer: NodeJS.Timeout; due: number }>();
  private readonly waiters: ((k: K | undefined) => void)[] = [];
  private closed = false;
  private readonly base: number;
  private readonly max: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.base = opts.baseDelayMs ?? 5;
    this.max = opts.maxDelayMs ?? 1_000_000;
  }

  get length(): number {
    return this.order.length;
  }

  get shuttingDown(): boolean {
    return this.closed;
  }

  add(key: K): void {
    if (this.closed) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queued.add(key);
    this.order.push(key);
  }

  /** Adds the key after `ms`; of several pending delayed adds for one key, the earliest wins. */
  addAfter(key: K, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) return this.add(key);
    const due = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.timers.set(key, { timer, due });
  }

  /** Adds the key after its next backoff delay. */
  addRateLimited(key: K): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.max, this.base * 2 ** Math.min(n, 40)));
  }

  /** Clears the key's failure count (call after a successful pass). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key; undefined once the queue is shut down. Call done(key) when finished with it. */
  get(): Promise<K | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const key = this.order.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

/** What a sync handler asks for: nothing (done, forget failures), a retry with backoff, or a check again later. */
export type SyncResult = void | { requeue: 'rateLimited' } | { requeueAfterMs: number };

/**
 * Runs `workers` loops that take keys from the queue and hand them to `sync`. A thrown error is logged and the key
 * is retried with backoff. Resolves when the queue is shut down and every worker has finished its current key.
 */
export async function runWorkers<K>(
  queue: WorkQueue<K>,
  workers: number,
  sync: (key: K) => Promise<SyncResult>,
  onError: (key: K, e: unknown) => void,
): Promise<void> {
  const loop = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const r = await sync(key);
        if (r && 'requeue' in r) queue.addRateLimited(key);
        else if (r && 'requeueAfterMs' in r) {
          queue.forget(key);
          queue.addAfter(key, r.requeueAfterMs);
        } else queue.forget(key);
      } catch (e) {
        if (!queue.shuttingDown) {
          onError(key, e);
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
}
