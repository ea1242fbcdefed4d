// Watch fan-out: watchers that send identical bytes share a group; each group gathers its events for a few
// milliseconds and then writes one HTTP chunk, framed once, to every member's socket. In-process watchers that
// take decoded events (the direct transport) get the cached objects themselves instead of bytes.
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { WatchEvent } from '../client/types.js';
import type { Obj } from './types.js';

const CRLF = Buffer.from('\r\n', 'latin1');

export type SharedEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Fixed pieces of a watch line around an object's JSON. */
export const linePrefix: Record<SharedEventType, Buffer> = {
  ADDED: Buffer.from('{"type":"ADDED","object":'),
  MODIFIED: Buffer.from('{"type":"MODIFIED","object":'),
  DELETED: Buffer.from('{"type":"DELETED","object":'),
};
export const lineSuffix = Buffer.from('}\n');

/** An object a watch event carries, in both forms (a watch cache entry is one): its JSON bytes and the decoded object. */
export interface EventObject {
  readonly bytes: Buffer;
  /** Shared by every watcher that takes decoded events: never mutated. */
  readonly obj: Obj;
}

/** An object that is not in the cache (a copy made for one group): encoded only if a member wants bytes. */
export function looseObject(obj: Obj): EventObject {
  let bytes: Buffer | undefined;
  return {
    obj,
    get bytes() {
      return (bytes ??= Buffer.from(JSON.stringify(obj), 'utf8'));
    },
  };
}

/**
 * A response that can take decoded events (the direct transport's): `writeEvents` hands them over by reference,
 * and `writableLength` counts them at EVENT_WEIGHT bytes each.
 */
export interface EventResponse {
  readonly takesEvents: true;
  writeEvents(events: WatchEvent<Obj>[]): void;
}

/**
 * What a decoded event counts for against a watcher's buffer limit. It holds a reference, not a copy, so this
 * only bounds how far behind a consumer may fall (32 MiB / 1 KiB = 32,768 events) before it must relist.
 */
export const EVENT_WEIGHT = 1024;

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
  /** The response takes decoded events (see EventResponse). */
  readonly takesEvents: boolean;
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
    this.takesEvents = (res as Partial<EventResponse>).takesEvents === true;
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

  /** Hands decoded events to a response that takes them (takesEvents). */
  writeEvents(events: WatchEvent<Obj>[]): void {
    if (!this.open || events.length === 0) return;
    (this.res as unknown as EventResponse).writeEvents(events);
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

/** What a group gathered: encoded lines, or an event whose object has both forms. */
type Piece =
  | { readonly parts: readonly Buffer[]; readonly bytes: number }
  | { readonly type: SharedEventType; readonly object: EventObject };

/**
 * A set of sinks that receive the same events, and the events gathered for them since the last flush. They are
 * encoded (once, for all) only when a member takes bytes.
 */
export class FanoutGroup {
  private readonly members = new Set<WatchSink>();
  private pieces: Piece[] = [];
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
      this.pieces = [];
      this.events = 0;
      this.onEmpty();
      this.hooks.close();
    }
  }

  /** Queues `events` lines (already encoded in `parts`, `bytes` long) for every member. */
  push(parts: readonly Buffer[], bytes: number, events: number): void {
    if (!bytes || this.members.size === 0) return;
    this.pieces.push({ parts, bytes });
    this.events += events;
    this.fanout.markDirty(this);
  }

  /** Queues one event for every member: its line is encoded at the flush, and only if a member takes bytes. */
  pushEvent(type: SharedEventType, object: EventObject): void {
    if (this.members.size === 0) return;
    this.pieces.push({ type, object });
    this.events++;
    this.fanout.markDirty(this);
  }

  /** Ends every member's watch (the event source restarted; clients must relist). */
  reset(reason: string): void {
    for (const m of [...this.members]) m.end(reason);
  }

  /** Writes what was gathered to every member now (also before a member writes something of its own). */
  flush(): void {
    if (this.pieces.length === 0) return;
    const pieces = this.pieces;
    const events = this.events;
    this.pieces = [];
    this.events = 0;
    let framed: Buffer | undefined;
    let head = 0;
    let decoded: WatchEvent<Obj>[] | null | undefined;
    let sent = 0;
    for (const m of [...this.members]) {
      if (!m.open) continue;
      sent += events;
      if (m.takesEvents && (decoded ??= decodedEvents(pieces))) {
        m.writeEvents(decoded);
        continue;
      }
      if (!framed) {
        const [parts, bytes] = encodedPieces(pieces);
        framed = frameChunk(parts, bytes);
        head = framed.length - bytes - 2;
      }
      m.writeFramed(framed, head);
    }
    this.hooks.onSent(sent);
  }
}

/** The gathered events as decoded events, or null when some were gathered only as bytes. */
function decodedEvents(pieces: readonly Piece[]): WatchEvent<Obj>[] | null {
  const out: WatchEvent<Obj>[] = [];
  for (const p of pieces) {
    if (!('type' in p)) return null;
    out.push({ type: p.type, object: p.object.obj });
  }
  return out;
}

/** The gathered events as the parts of one chunk, and its length. */
function encodedPieces(pieces: readonly Piece[]): [Buffer[], number] {
  const parts: Buffer[] = [];
  let bytes = 0;
  for (const p of pieces) {
    if ('type' in p) {
      const pre = linePrefix[p.type];
      const body = p.object.bytes;
      parts.push(pre, body, lineSuffix);
      bytes += pre.length + body.length + lineSuffix.length;
    } else {
      for (const b of p.parts) parts.push(b);
      bytes += p.bytes;
    }
  }
  return [parts, bytes];
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
