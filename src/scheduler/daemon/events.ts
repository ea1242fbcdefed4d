// The scheduler's event recorder: recording returns at once and one background writer sends the events, so events
// never delay scheduling or binding. As client-go's broadcaster (a queue of 1000, DropIfChannelFull, one sink
// writer), a full queue drops new events; repeats of (object, type, reason, message) bump count and lastTimestamp
// of the event already written instead of creating another (client-go's event correlator).
import { randomBytes } from 'node:crypto';
import type { Client, ResourceAddress } from '../../client/types.js';
import type { Pod } from '../types.js';

const events = (namespace: string): ResourceAddress => ({ group: '', version: 'v1', resource: 'events', namespace });

export interface EventRecorderOptions {
  client: Client;
  /** Events waiting to be written before new ones are dropped (client-go's maxQueuedEvents). */
  maxQueued?: number;
  now?: () => number;
  log?: (line: string) => void;
}

interface PendingEvent {
  pod: Pod & { metadata?: { uid?: string } };
  type: string;
  reason: string;
  message: string;
  component: string;
  time: string;
}

export class EventRecorder {
  private readonly queue: PendingEvent[] = [];
  private head = 0;
  private writing: Promise<void> | undefined;
  private closed = false;
  /** Recent events by (object, type, reason, message) → the written event's name and count. Bounded. */
  private readonly recent = new Map<string, { name: string; count: number }>();
  private readonly maxQueued: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  readonly stats = { written: 0, dropped: 0, failed: 0 };

  constructor(private readonly o: EventRecorderOptions) {
    this.maxQueued = o.maxQueued ?? 1000;
    this.now = o.now ?? Date.now;
    this.log = o.log ?? (() => {});
  }

  /** Queues one event about a pod; never waits and never throws. */
  record(pod: PendingEvent['pod'], type: string, reason: string, message: string, component: string): void {
    if (this.closed) return;
    if (this.queue.length - this.head >= this.maxQueued) {
      // Reported once per burst, not once per event.
      if (this.stats.dropped++ === 0 || this.stats.dropped % 1000 === 0)
        this.log(`scheduler: event queue full (${this.maxQueued}); ${this.stats.dropped} events dropped so far`);
      return;
    }
    const time = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.queue.push({ pod, type, reason, message, component, time });
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
  }

  /** Resolves once every queued event was written (or waited at most `ms`). */
  async flush(ms = 5000): Promise<void> {
    if (!this.writing) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.writing, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Writes what is queued (bounded by `ms`), then drops anything recorded later. */
  async close(ms = 2000): Promise<void> {
    await this.flush(ms);
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
  }

  private async drain(): Promise<void> {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head++]!;
      // Compact now and then so a long burst does not keep every written event alive.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      await this.write(e);
    }
    this.queue.length = 0;
    this.head = 0;
  }

  private async write(e: PendingEvent): Promise<void> {
    const ns = e.pod.metadata?.namespace || 'default';
    const name = e.pod.metadata!.name!;
    const key = `${ns}/${name}/${e.pod.metadata?.uid ?? ''}|${e.type}|${e.reason}|${e.message}`;
    const seen = this.recent.get(key);
    if (seen) {
      try {
        seen.count++;
        await this.o.client.patch(
          events(ns),
          seen.name,
          { count: seen.count, lastTimestamp: e.time },
          { type: 'merge' },
        );
        this.stats.written++;
        return;
      } catch {
        // The event expired or was deleted: record a new one.
        this.recent.delete(key);
      }
    }
    const eventName = `${name}.${randomBytes(8).toString('hex')}`;
    try {
      await this.o.client.create(events(ns), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: eventName, namespace: ns },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name, uid: e.pod.metadata?.uid },
        reason: e.reason,
        message: e.message,
        type: e.type,
        source: { component: e.component },
        reportingComponent: e.component,
        firstTimestamp: e.time,
        lastTimestamp: e.time,
        count: 1,
      });
      this.stats.written++;
      this.recent.set(key, { name: eventName, count: 1 });
      // Bounded: forget the oldest entries (Map keeps insertion order).
      while (this.recent.size > 4096) this.recent.delete(this.recent.keys().next().value!);
    } catch (err) {
      this.stats.failed++;
      this.log(`scheduler: recording ${e.reason} event for ${ns}/${name} failed: ${(err as Error).message}`);
    }
  }
}
