// Watch fan-out: watchers that send identical bytes share a group; each group gathers its events for a few
// milliseconds and then writes one HTTP chunk, framed once, to every member's socket.
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';

const CRLF = Buffer.from('\r\n', 'latin1');

/** `payload` as one HTTP/1.1 chunk (hex length, CRLF, data, CRLF) in a single buffer. */
export function frameChunk(parts: readonly Buffer[], bytes: number): Buffer {
  const head = Buffer.from(`${bytes.toString(16)}\r\n`, 'latin1');
  return Buffer.concat([head, ...parts, CRLF], head.length + bytes + 2);
}

/**
 * One watch response. Once its headers are out, chunks go straight to the socket when the socket belongs to this
 * response and it is chunk-encoded: http's own write path would split every chunk into four socket writes, and TLS
 * then copies them into one buffer per response, which is most of the fan-out's cost at 100 watchers.
 */
export class WatchSink {
  private readonly raw: Socket | undefined;
  constructor(
    private readonly res: ServerResponse,
    private readonly maxBuffered: number,
    /** Ends the watch (the client left too many bytes unread, or the cache restarted: `reason` then). */
    readonly end: (reason?: string) => void,
  ) {
    const s = res.socket;
    const own = s instanceof Socket && (s as Socket & { _httpMessage?: unknown })._httpMessage === res;
    const chunked = (res as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding === true;
    // A response whose write was replaced (fastify.inject's, a compressor) must keep getting every byte through it.
    const plainWrite = res.write === ServerResponse.prototype.write;
    this.raw = own && chunked && plainWrite && res.headersSent ? s : undefined;
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** Writes a chunk made by frameChunk; `head` is the length of its framing prefix (for the fallback path). */
  writeFramed(framed: Buffer, head: number): void {
    if (!this.open) return;
    if (this.raw) this.raw.write(framed);
    else this.res.write(framed.subarray(head, framed.length - 2));
    if (this.res.writableLength > this.maxBuffered) this.end();
  }

  writeParts(parts: readonly Buffer[], bytes: number): void {
    if (!bytes) return;
    const framed = frameChunk(parts, bytes);
    this.writeFramed(framed, framed.length - bytes - 2);
  }

  writeText(text: string): void {
    if (!text) return;
    const b = Buffer.from(text, 'utf8');
    this.writeParts([b], b.length);
  }
}

/** What the owner of a group provides: its event source and metrics. */
export interface GroupHooks {
  /** Called after each flush with the number of event lines written (summed over members), for metrics. */
  onSent(events: number): void;
  /** Called once the last member left (unsubscribe from the cache). */
  close(): void;
}

/** A set of sinks that receive the same bytes, and the bytes gathered for them since the last flush. */
export class FanoutGroup {
  private readonly members = new Set<WatchSink>();
  private parts: Buffer[] = [];
  private bytes = 0;
  private events = 0;
  private hooks: GroupHooks = { onSent: () => {}, close: () => {} };

  constructor(
    private readonly fanout: WatchFanout,
    private readonly onEmpty: () => void,
  ) {}

  /** Attaches the owner's hooks (separate from construction: the owner's subscription needs the group first). */
  attach(hooks: GroupHooks): void {
    this.hooks = hooks;
  }

  get size(): number {
    return this.members.size;
  }

  /**
   * Adds a member. Bytes gathered before it joined belong to events it will get from its own replay, so they go
   * out to the earlier members first.
   */
  join(sink: WatchSink): void {
    this.flush();
    this.members.add(sink);
  }

  leave(sink: WatchSink): void {
    if (!this.members.delete(sink)) return;
    if (this.members.size === 0) {
      this.parts = [];
      this.bytes = 0;
      this.events = 0;
      this.onEmpty();
      this.hooks.close();
    }
  }

  /** Queues `events` lines (already encoded in `parts`, `bytes` long) for every member. */
  push(parts: readonly Buffer[], bytes: number, events: number): void {
    if (!bytes || this.members.size === 0) return;
    for (const p of parts) this.parts.push(p);
    this.bytes += bytes;
    this.events += events;
    this.fanout.markDirty(this);
  }

  /** Ends every member's watch (the event source restarted; clients must relist). */
  reset(reason: string): void {
    for (const m of [...this.members]) m.end(reason);
  }

  /** Writes what was gathered to every member now (also before a member writes something of its own). */
  flush(): void {
    if (!this.bytes) return;
    const framed = frameChunk(this.parts, this.bytes);
    const head = framed.length - this.bytes - 2;
    const events = this.events;
    this.parts = [];
    this.bytes = 0;
    this.events = 0;
    let sent = 0;
    for (const m of [...this.members]) {
      if (!m.open) continue;
      m.writeFramed(framed, head);
      sent += events;
    }
    this.hooks.onSent(sent);
  }
}

/**
 * Schedules group flushes. After a quiet spell, a flush follows as soon as the current task has run; while
 * events keep coming, flushes happen at most once per `intervalMs`, so a burst becomes a few large writes per
 * watcher instead of one small write per store commit.
 */
export class WatchFanout {
  private readonly dirty = new Set<FanoutGroup>();
  private readonly groups = new Map<string, FanoutGroup>();
  private scheduled = false;
  private lastFlush = -Infinity;

  constructor(readonly intervalMs = 5) {}

  /** The group for `key`; `open` attaches the event source when the group is new. */
  group(key: string, open: (g: FanoutGroup) => GroupHooks): FanoutGroup {
    let g = this.groups.get(key);
    if (!g) {
      const created: FanoutGroup = new FanoutGroup(this, () => {
        this.groups.delete(key);
        this.dirty.delete(created);
      });
      this.groups.set(key, (g = created));
      created.attach(open(created));
    }
    return g;
  }

  /** A group of one, not shared (watchers with selectors or conversions send bytes of their own). */
  solo(open: (g: FanoutGroup) => GroupHooks): FanoutGroup {
    const g: FanoutGroup = new FanoutGroup(this, () => this.dirty.delete(g));
    g.attach(open(g));
    return g;
  }

  markDirty(g: FanoutGroup): void {
    this.dirty.add(g);
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.lastFlush + this.intervalMs - performance.now();
    // Quiet until now: send once the current task is done (all its events gathered), as early as a direct write.
    if (wait <= 0) queueMicrotask(this.run);
    // Unref'd: a pending flush alone must not keep a process alive (the server's sockets do that).
    else setTimeout(this.run, wait).unref();
  }

  private readonly run = (): void => {
    this.scheduled = false;
    this.lastFlush = performance.now();
    const groups = [...this.dirty];
    this.dirty.clear();
    for (const g of groups) g.flush();
  };

  get groupCount(): number {
    return this.groups.size;
  }
}
