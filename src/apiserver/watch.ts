// API watches: chunked JSON lines from the watch cache, with selector transitions (leaving → DELETED, entering →
// ADDED), bookmarks, timeouts, Table rows for kubectl, and 410 Expired as an ERROR event when history is gone.
import type { ServerResponse } from 'node:http';
import { expired, tooLargeResourceVersion, type Status } from '../api/status.js';
import { entryMatches, parseSelectors } from './rest.js';
import { boolParam, intParam, rvParam, wantsTable, type Query } from './request.js';
import { buildTable } from './tables.js';
import { apiVersionOf, type Obj, type ResourceDef } from './types.js';
import { CacheEntry, type CacheEvent, type WatchCache } from './watchcache.js';
import type { ApiMetrics } from './metrics.js';
import {
  linePrefix,
  lineSuffix,
  looseObject,
  WatchFanout,
  WatchSink,
  type EventObject,
  type FanoutGroup,
} from './watchfanout.js';

export interface WatchDeps {
  cache: WatchCache;
  metrics: ApiMetrics;
  /** How often to send BOOKMARK events to clients that allow them. */
  bookmarkIntervalMs?: number;
}

/** One fan-out per watch cache (the server builds WatchDeps per request). */
const fanouts = new WeakMap<WatchCache, WatchFanout>();

/** The fan-out of `cache`, made on first use. */
export function fanoutOf(cache: WatchCache): WatchFanout {
  let f = fanouts.get(cache);
  if (!f) fanouts.set(cache, (f = new WatchFanout()));
  return f;
}

/** Bytes a slow client may leave unread before we drop it (it reconnects with its last resourceVersion). */
const MAX_BUFFERED = 32 * 1024 * 1024;

function objectWithRv(e: CacheEntry, rv: number): Obj {
  const o = structuredClone(e.obj);
  o.metadata.resourceVersion = String(rv);
  return o;
}

/**
 * Serves one watch on `res` (headers not yet sent). Resolves when the watch ends (timeout, client gone, error).
 * Throws a StatusError before anything is written when the request itself is bad.
 */
export async function serveWatch(
  deps: WatchDeps,
  def: ResourceDef,
  namespace: string,
  q: Query,
  accept: string | undefined,
  res: ServerResponse,
): Promise<void> {
  const cache = deps.cache;
  const sel = parseSelectors(def, q);
  const rv = rvParam(q);
  const bookmarks = boolParam(q, 'allowWatchBookmarks');
  const sendInitial = q.has('sendInitialEvents') ? boolParam(q, 'sendInitialEvents') : rv === undefined || rv === 0;
  const timeoutSeconds = intParam(q, 'timeoutSeconds');
  const asTable = wantsTable(accept);
  const ns = def.namespaced ? namespace || undefined : undefined;
  // Upstream's default: a random time between the min request timeout (1800 s) and twice that.
  const timeoutMs =
    (timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds : 1800 * (1 + Math.random())) * 1000;

  if (rv !== undefined && rv > cache.revision && !(await cache.waitFor(rv)))
    throw tooLargeResourceVersion(rv, cache.revision);

  const labels = { group: def.group, version: def.version, resource: def.resource };
  const everything = sel.labels.length === 0 && sel.fields.length === 0;
  const passes = (e: CacheEntry | undefined) =>
    !!e && (!ns || e.namespace === ns) && (everything || entryMatches(def, sel, e));
  const plain = !asTable && !def.fromStorage;
  let headersSent = false;

  const encodeObject = (o: Obj): string => {
    if (asTable) {
      const t = buildTable(
        def,
        [def.fromStorage ? def.fromStorage(o) : o],
        o.metadata?.resourceVersion ?? '',
        !headersSent,
      );
      headersSent = true;
      return JSON.stringify(t);
    }
    return JSON.stringify(def.fromStorage ? def.fromStorage(o) : o);
  };
  const line = (type: string, o: EventObject): string =>
    plain && o instanceof CacheEntry
      ? `{"type":"${type}","object":${o.json}}\n`
      : `{"type":"${type}","object":${encodeObject(o.obj)}}\n`;

  /**
   * What this watcher sends for a cache event: an event type with the entry to send as is (or, for an object leaving
   * the selection, a copy of its old version at the event's revision), or '' when the event does not concern it.
   */
  const pick = (ev: CacheEvent): [CacheEvent['type'], EventObject] | '' => {
    const now = passes(ev.entry);
    switch (ev.type) {
      case 'ADDED':
        return now ? ['ADDED', ev.entry] : '';
      case 'DELETED':
        return now ? ['DELETED', ev.entry] : '';
      default: {
        const before = passes(ev.prev);
        if (now && before) return ['MODIFIED', ev.entry];
        if (now) return ['ADDED', ev.entry];
        if (before && ev.prev) return ['DELETED', looseObject(objectWithRv(ev.prev, ev.revision))];
        return '';
      }
    }
  };

  /** The line this watcher sends for a cache event, or '' when it does not concern it. */
  const convert = (ev: CacheEvent): string => {
    const p = pick(ev);
    return p === '' ? '' : line(p[0], p[1]);
  };

  const bookmark = (annotations?: Record<string, string>): string => {
    const md: Obj = { resourceVersion: String(cache.revision) };
    if (annotations) md.annotations = annotations;
    return `{"type":"BOOKMARK","object":${JSON.stringify({ kind: def.kind, apiVersion: apiVersionOf(def), metadata: md })}}\n`;
  };

  const errorLine = (status: Status): string => `{"type":"ERROR","object":${JSON.stringify(status)}}\n`;

  res.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    // HTTP/2 frames the stream itself and forbids the header.
    ...(res.req.httpVersionMajor === 2 ? {} : { 'transfer-encoding': 'chunked' }),
  });
  // Clients (client-go's Watch) return only once headers arrive: send them now, not with the first event.
  res.flushHeaders();
  deps.metrics.watchers.inc({ verb: 'WATCH', ...labels });
  const fanout = fanoutOf(cache);
  const counted = { group: def.group, version: def.version, kind: def.kind };
  const countSent = (n: number) => {
    if (n) deps.metrics.watchEvents.inc(counted, n);
  };

  await new Promise<void>((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    let group: FanoutGroup | undefined;
    const finish = (last?: string) => {
      if (done) return;
      done = true;
      // What the group gathered so far is older than `last` and belongs to this client too.
      group?.flush();
      group?.leave(sink);
      clearTimeout(timer);
      clearInterval(bookmarkTimer);
      deps.metrics.watchers.dec({ verb: 'WATCH', ...labels });
      if (!res.writableEnded && !res.destroyed) {
        if (last) sink.writeText(last);
        res.end();
      }
      resolve();
    };
    const sink = new WatchSink(res, MAX_BUFFERED, (reason) =>
      finish(reason ? errorLine(expired(`watch of ${def.resource} restarted: ${reason}`).status) : undefined),
    );
    /** Writes this watcher's own lines (replay, bookmarks) after anything its group still holds, to keep order. */
    const writeOwn = (text: string, events: number) => {
      if (!text || done) return;
      group?.flush();
      sink.writeText(text);
      countSent(events);
    };
    res.on('close', () => finish());

    // Joining and replaying happen in one synchronous step, so no event falls between them.
    const everythingHere = plain && everything;
    const subscribe = (g: FanoutGroup) => {
      const unsubscribe = cache.subscribe(def.storage, {
        deliver: (events) => {
          if (everythingHere) {
            // Every watcher of this group sends the same events: the cached entries as they are.
            for (const ev of events) if (!ns || ev.entry.namespace === ns) g.pushEvent(ev.type, ev.entry);
            return;
          }
          if (plain) {
            // Selected events still go out as the cached entries; only objects leaving the selection are copied.
            for (const ev of events) {
              const p = pick(ev);
              if (p !== '') g.pushEvent(p[0], p[1]);
            }
            return;
          }
          let out = '';
          let n = 0;
          for (const ev of events) {
            const l = convert(ev);
            if (l) {
              out += l;
              n++;
            }
          }
          if (!out) return;
          const b = Buffer.from(out, 'utf8');
          g.push([b], b.length, n);
        },
        reset: (reason) => g.reset(reason),
      });
      return { onSent: countSent, close: unsubscribe };
    };
    // Plain watchers send the same bytes when they ask for the same thing: same resource, namespace and selectors
    // (as written; equal selectors spelled differently just get groups of their own).
    group = plain
      ? fanout.group(
          `${def.group}/${def.version}/${def.resource}/${ns ?? ''}` +
            (everything ? '' : `?l=${q.get('labelSelector') ?? ''}&f=${q.get('fieldSelector') ?? ''}`),
          subscribe,
        )
      : fanout.solo(subscribe);
    group.join(sink);

    if (sendInitial) {
      const entries = cache.entries(def.storage, ns).filter((e) => everything || entryMatches(def, sel, e));
      entries.sort((a, b) => a.rv - b.rv);
      // Written in pieces of about 1 MiB so a large replay does not build one huge buffer.
      let parts: Buffer[] = [];
      let bytes = 0;
      for (const e of entries) {
        if (plain) {
          const body = e.bytes;
          parts.push(linePrefix.ADDED, body, lineSuffix);
          bytes += linePrefix.ADDED.length + body.length + lineSuffix.length;
        } else {
          const b = Buffer.from(line('ADDED', e), 'utf8');
          parts.push(b);
          bytes += b.length;
        }
        if (bytes > 1 << 20) {
          sink.writeParts(parts, bytes);
          parts = [];
          bytes = 0;
        }
      }
      sink.writeParts(parts, bytes);
      countSent(entries.length);
      if (bookmarks && q.has('sendInitialEvents')) writeOwn(bookmark({ 'k8s.io/initial-events-end': 'true' }), 1);
    } else if (rv !== undefined) {
      const history = cache.eventsAfter(def.storage, rv);
      if (!history) {
        finish(errorLine(expired(`too old resource version: ${rv} (${cache.oldestResumable})`).status));
        return;
      }
      let out = '';
      let n = 0;
      for (const ev of history) {
        const l = convert(ev);
        if (l) {
          out += l;
          n++;
        }
      }
      writeOwn(out, n);
    }
    timer = setTimeout(() => finish(), timeoutMs);
    if (bookmarks) bookmarkTimer = setInterval(() => writeOwn(bookmark(), 1), deps.bookmarkIntervalMs ?? 30_000);
  });
}
