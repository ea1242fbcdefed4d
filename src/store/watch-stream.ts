// One watcher's delivery queue: batches events to its handlers in order, honours back-pressure, and ends the watch
// with Compacted when the queue outgrows its bound (a slow consumer must relist rather than see a gap).
import { StoreError, type Watch, type WatchEvent, type WatchHandlers } from './types.js';

/** Default bound on events queued for one watcher before it is cut off. */
export const DEFAULT_WATCH_BUFFER = 10_000;

export class WatchStream implements Watch {
  private queue: WatchEvent[] = [];
  private busy = false;
  private scheduled = false;
  private done = false;
  /** Set by close(): after it, not even a pending error is reported. */
  private closedByConsumer = false;
  /** Revision of the last event queued; later pushes at or below it are dropped so nothing is delivered twice. */
  lastRevision: number;

  constructor(
    private readonly handlers: WatchHandlers,
    afterRevision: number,
    private readonly maxBuffered = DEFAULT_WATCH_BUFFER,
    private readonly onClose: () => void = () => {},
  ) {
    this.lastRevision = afterRevision;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Queues events (already filtered to this watcher's keys, in revision order). */
  push(events: WatchEvent[]): void {
    if (this.done) return;
    // Drop what an earlier push already covered; several events of one revision (an etcd multi-key txn) arrive
    // together in one push and all pass.
    const floor = this.lastRevision;
    for (const e of events) {
      if (e.revision <= floor) continue;
      this.queue.push(e);
      this.lastRevision = e.revision;
    }
    // Only a consumer still busy with an earlier batch can fall behind; a large batch to an idle one is fine.
    if (this.busy && this.queue.length > this.maxBuffered) {
      this.fail(
        new StoreError(
          'Compacted',
          `watcher fell behind: more than ${this.maxBuffered} events waiting for delivery; relist and watch again`,
        ),
      );
      return;
    }
    this.schedule();
  }

  /** Marks everything up to `revision` as seen without events (e.g. writes outside this watcher's prefix). */
  advance(revision: number): void {
    if (revision > this.lastRevision) this.lastRevision = revision;
  }

  /** Ends the watch with a terminal error; queued events are dropped, since the consumer must start over anyway. */
  fail(err: StoreError): void {
    if (this.done) return;
    this.finish();
    // Asynchronously, so a store never calls back into a consumer from inside that consumer's own call.
    queueMicrotask(() => {
      if (!this.closedByConsumer) this.handlers.onError(err);
    });
  }

  close(): void {
    this.closedByConsumer = true;
    if (this.done) return;
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.queue = [];
    this.onClose();
  }

  private schedule(): void {
    if (this.scheduled || this.busy || this.queue.length === 0) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    if (this.done || this.busy || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let result: void | Promise<void>;
    try {
      result = this.handlers.onEvents(batch);
    } catch (err) {
      this.fail(new StoreError('Unavailable', `watch handler threw: ${(err as Error).message}`));
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      this.busy = true;
      (result as Promise<void>).then(
        () => {
          this.busy = false;
          this.schedule();
        },
        (err: unknown) => {
          this.busy = false;
          this.fail(new StoreError('Unavailable', `watch handler failed: ${(err as Error)?.message ?? String(err)}`));
        },
      );
    }
  }
}
