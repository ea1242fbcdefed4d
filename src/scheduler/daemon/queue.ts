// The scheduling queue: activeQ (PrioritySort: higher priority, then earlier arrival), backoffQ (1s doubling to
// 10s per failed attempt) and the unschedulable set, which cluster events move back (upstream
// pkg/scheduler/backend/queue/scheduling_queue.go, simplified: every cluster event re-queues every unschedulable pod).
import type { Pod } from '../types.js';

export interface QueuedPod {
  key: string;
  pod: Pod;
  /** Scheduling attempts so far (backoff doubles with each). */
  attempts: number;
  /** When the pod first entered the queue (tie-break of equal priorities). */
  timestamp: number;
  /** When it may leave the backoff queue. */
  backoffUntil: number;
  /** When it was marked unschedulable. */
  unschedulableSince: number;
  /** The queue's move-request counter when the pod was popped. */
  poppedAtMove: number;
}

export interface QueueOptions {
  now?: () => number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** podMaxInUnschedulablePodsDuration: unschedulable pods are retried at least this often. */
  maxUnschedulableMs?: number;
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace || 'default'}/${pod.metadata?.name}`;
}

function priorityOf(p: QueuedPod): number {
  return p.pod.spec?.priority ?? 0;
}

/** True when a should be popped before b. */
function before(a: QueuedPod, b: QueuedPod): boolean {
  const pa = priorityOf(a);
  const pb = priorityOf(b);
  return pa !== pb ? pa > pb : a.timestamp < b.timestamp;
}

export class SchedulingQueue {
  private readonly now: () => number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly heap: QueuedPod[] = [];
  private readonly active = new Map<string, QueuedPod>();
  private readonly backoff = new Map<string, QueuedPod>();
  private readonly unschedulable = new Map<string, QueuedPod>();
  /** Popped and not yet done (being scheduled or bound). */
  private readonly inFlight = new Map<string, QueuedPod>();
  private readonly waiters: (() => void)[] = [];
  /** Counts cluster events that moved parked pods (upstream moveRequestCycle). */
  private moves = 0;

  constructor(opts: QueueOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = opts.maxUnschedulableMs ?? 5 * 60_000;
  }

  get lengths(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return {
      active: this.active.size,
      backoff: this.backoff.size,
      unschedulable: this.unschedulable.size,
      inFlight: this.inFlight.size,
    };
  }

  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  /**
   * A pending pod was added or changed: it goes (back) to activeQ unless it is backing off. With
   * requeueParked false (a status-only update, e.g. our own PodScheduled condition) a parked pod stays parked.
   */
  add(pod: Pod, requeueParked = true): void {
    const key = podKey(pod);
    const existing =
      this.active.get(key) ?? this.backoff.get(key) ?? this.unschedulable.get(key) ?? this.inFlight.get(key);
    if (existing) {
      existing.pod = pod;
      if (requeueParked && this.unschedulable.has(key)) {
        // An update may make it schedulable (upstream: only spec/label changes; skiff: every update).
        this.unschedulable.delete(key);
        this.requeue(existing);
      }
      return;
    }
    const qp: QueuedPod = {
      key,
      pod,
      attempts: 0,
      timestamp: this.now(),
      backoffUntil: 0,
      unschedulableSince: 0,
      poppedAtMove: 0,
    };
    this.pushActive(qp);
  }

  delete(key: string): void {
    if (this.active.delete(key)) {
      const i = this.heap.findIndex((q) => q.key === key);
      if (i >= 0) this.removeAt(i);
    }
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
  }

  /** Pops up to max pods in queue order (after moving due backoff/unschedulable pods). */
  popBatch(max: number): QueuedPod[] {
    this.flush();
    const out: QueuedPod[] = [];
    while (out.length < max && this.heap.length > 0) {
      const qp = this.removeAt(0);
      this.active.delete(qp.key);
      qp.attempts++;
      qp.poppedAtMove = this.moves;
      this.inFlight.set(qp.key, qp);
      out.push(qp);
    }
    return out;
  }

  /** Scheduled and bound (or gone): forget it. */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /** No node fits: park it until a cluster event (or maxUnschedulableMs). */
  markUnschedulable(qp: QueuedPod): void {
    if (this.inFlight.get(qp.key) !== qp) return;
    this.inFlight.delete(qp.key);
    qp.unschedulableSince = this.now();
    // An event during its attempt may already have made it fit: retry after backoff instead of parking it.
    if (qp.poppedAtMove !== this.moves) this.requeue(qp);
    else this.unschedulable.set(qp.key, qp);
  }

  /** An error (e.g. binding failed): retry after its backoff. */
  markFailed(qp: QueuedPod): void {
    if (this.inFlight.get(qp.key) !== qp) return;
    this.inFlight.delete(qp.key);
    qp.backoffUntil = this.now() + this.backoffDuration(qp.attempts);
    this.backoff.set(qp.key, qp);
  }

  /** A node or pod event that may make parked pods fit: move them to activeQ, or backoffQ while backing off. */
  moveAllUnschedulable(): void {
    this.moves++;
    for (const qp of [...this.unschedulable.values()]) {
      this.unschedulable.delete(qp.key);
      this.requeue(qp);
    }
  }

  /** Moves backoff pods whose time has come, and long-parked unschedulable pods, to activeQ. */
  flush(): void {
    const now = this.now();
    for (const qp of [...this.backoff.values()])
      if (qp.backoffUntil <= now) {
        this.backoff.delete(qp.key);
        this.pushActive(qp);
      }
    for (const qp of [...this.unschedulable.values()])
      if (now - qp.unschedulableSince >= this.maxUnschedulableMs) {
        this.unschedulable.delete(qp.key);
        this.requeue(qp);
      }
  }

  /** The soonest time a backoff pod becomes ready (for the daemon's timer), or undefined. */
  nextBackoffAt(): number | undefined {
    let min: number | undefined;
    for (const qp of this.backoff.values()) if (min === undefined || qp.backoffUntil < min) min = qp.backoffUntil;
    return min;
  }

  /** Resolves when activeQ has something (or immediately if it has). */
  waitForWork(): Promise<void> {
    if (this.heap.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes every waiter (used on shutdown and by timers). */
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** calculateBackoffDuration: initial × 2^(attempts−1), capped. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts && d < this.maxBackoffMs; i++) d *= 2;
    return Math.min(d, this.maxBackoffMs);
  }

  private requeue(qp: QueuedPod): void {
    const until = qp.attempts > 0 ? qp.unschedulableSince + this.backoffDuration(qp.attempts) : 0;
    if (until > this.now()) {
      qp.backoffUntil = until;
      this.backoff.set(qp.key, qp);
    } else this.pushActive(qp);
  }

  private pushActive(qp: QueuedPod): void {
    this.active.set(qp.key, qp);
    this.heap.push(qp);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[i]!, this.heap[parent]!)) break;
      swap(this.heap, i, parent);
      i = parent;
    }
    this.wake();
  }

  private removeAt(i: number): QueuedPod {
    const h = this.heap;
    const out = h[i]!;
    const last = h.pop()!;
    if (i < h.length) {
      h[i] = last;
      // Restore heap order both ways from i.
      let j = i;
      while (j > 0 && before(h[j]!, h[(j - 1) >> 1]!)) {
        const p = (j - 1) >> 1;
        swap(h, j, p);
        j = p;
      }
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let m = j;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === j) break;
        swap(h, j, m);
        j = m;
      }
    }
    return out;
  }
}

/** Swaps two heap slots (a destructuring swap allocated an array per step in the daemon's profile). */
function swap(h: QueuedPod[], a: number, b: number): void {
  const t = h[a]!;
  h[a] = h[b]!;
  h[b] = t;
}
