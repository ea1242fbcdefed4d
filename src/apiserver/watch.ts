// API watches: chunked JSON lines from the watch cache, with selector transitions (leaving → DELETED, entering →
// ADDED), bookmarks, timeouts, Table rows for kubectl, and 410 Expired as an ERROR event when history is gone.
import type { ServerResponse } from 'node:http';
import { expired, tooLargeResourceVersion, type Status } from '../api/status.js';
import { parseSelectors, selectorMatches } from './rest.js';
import { boolParam, intParam, rvParam, wantsTable, type Query } from './request.js';
import { buildTable } from './tables.js';
import { apiVersionOf, type Obj, type ResourceDef } from './types.js';
import type { CacheEntry, CacheEvent, WatchCache } from './watchcache.js';
import type { ApiMetrics } from './metrics.js';

export interface WatchDeps {
  cache: WatchCache;
  metrics: ApiMetrics;
  /** How often to send BOOKMARK events to clients that allow them. */
  bookmarkIntervalMs?: number;
}

/** Encoded batches shared by watchers that would send the same bytes, per cache batch (collected with it). */
const sharedBatches = new WeakMap<CacheEvent[], Map<string, { buf: Buffer; n: number }>>();

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
    !!e && (!ns || e.namespace === ns) && (everything || selectorMatches(def, sel, e.obj));
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
  const line = (type: string, e: CacheEntry): string =>
    plain ? `{"type":"${type}","object":${e.json}}\n` : `{"type":"${type}","object":${encodeObject(e.obj)}}\n`;

  /** The line this watcher sends for a cache event, or '' when it does not concern it. */
  const convert = (ev: CacheEvent): string => {
    const now = passes(ev.entry);
    switch (ev.type) {
      case 'ADDED':
        return now ? line('ADDED', ev.entry) : '';
      case 'DELETED':
        return now ? line('DELETED', ev.entry) : '';
      default: {
        const before = passes(ev.prev);
        if (now && before) return line('MODIFIED', ev.entry);
        if (now) return line('ADDED', ev.entry);
        if (before && ev.prev)
          return `{"type":"DELETED","object":${encodeObject(objectWithRv(ev.prev, ev.revision))}}\n`;
        return '';
      }
    }
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
    'transfer-encoding': 'chunked',
  });
  // Clients (client-go's Watch) return only once headers arrive: send them now, not with the first event.
  res.flushHeaders();
  deps.metrics.watchers.inc({ verb: 'WATCH', ...labels });

  await new Promise<void>((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    let unsubscribe = () => {};
    const finish = (last?: string) => {
      if (done) return;
      done = true;
      unsubscribe();
      clearTimeout(timer);
      clearInterval(bookmarkTimer);
      deps.metrics.watchers.dec({ verb: 'WATCH', ...labels });
      if (!res.writableEnded && !res.destroyed) {
        if (last) res.write(last);
        res.end();
      }
      resolve();
    };
    const write = (text: string, events: number) => {
      if (!text || done) return;
      res.write(text);
      deps.metrics.watchEvents.inc({ group: def.group, version: def.version, kind: def.kind }, events);
      if (res.writableLength > MAX_BUFFERED) finish();
    };
    const writeBuf = (buf: Buffer, events: number) => {
      if (done) return;
      res.write(buf);
      deps.metrics.watchEvents.inc({ group: def.group, version: def.version, kind: def.kind }, events);
      if (res.writableLength > MAX_BUFFERED) finish();
    };
    res.on('close', () => finish());

    // Subscribing and replaying happen in one synchronous step, so no event falls between them.
    unsubscribe = cache.subscribe(def.storage, {
      deliver: (events) => {
        // Watchers without selectors or conversion send identical bytes: encode the batch once for all of them.
        const shareable = plain && sel.labels.length === 0 && sel.fields.length === 0;
        const memoKey = ns ?? '';
        if (shareable) {
          const hit = sharedBatches.get(events)?.get(memoKey);
          if (hit) return writeBuf(hit.buf, hit.n);
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
        if (!shareable || !out) return write(out, n);
        const buf = Buffer.from(out);
        let m = sharedBatches.get(events);
        if (!m) sharedBatches.set(events, (m = new Map()));
        m.set(memoKey, { buf, n });
        writeBuf(buf, n);
      },
      reset: (reason) => finish(errorLine(expired(`watch of ${def.resource} restarted: ${reason}`).status)),
    });

    if (sendInitial) {
      const entries = cache.entries(def.storage, ns).filter((e) => everything || selectorMatches(def, sel, e.obj));
      entries.sort((a, b) => a.rv - b.rv);
      let out = '';
      for (const e of entries) {
        out += line('ADDED', e);
        if (out.length > 1 << 20) {
          write(out, 0);
          out = '';
        }
      }
      write(out, entries.length);
      if (bookmarks && q.has('sendInitialEvents')) write(bookmark({ 'k8s.io/initial-events-end': 'true' }), 1);
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
      write(out, n);
    }
    timer = setTimeout(() => finish(), timeoutMs);
    if (bookmarks) bookmarkTimer = setInterval(() => write(bookmark(), 1), deps.bookmarkIntervalMs ?? 30_000);
  });
}
