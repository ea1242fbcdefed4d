// The watch cache: one store watch over /registry/ keeps every object and a window of recent events in memory.
// Lists at "any"/"not older than" resource versions and every API watch are served from here, never from the store.
import type { Store, Watch, WatchEvent } from '../store/types.js';
import { injectRv, parseKey } from './codec.js';
import { selectableFields, type Obj } from './types.js';

/**
 * One object in the cache. Its JSON is kept as UTF-8 bytes once something sends it (watch fan-out, lists), so
 * every reply copies bytes instead of encoding text again; the parsed form is built on first use (selectors).
 */
export class CacheEntry {
  private parsed: Obj | undefined;
  private text: string | undefined;
  private utf8: Buffer | undefined;
  /** Selectable field values, computed once per entry by `fieldsOf` (and for which resource's field function). */
  private fieldValues: Record<string, string> | undefined;
  private fieldsFn: ((obj: Obj) => Record<string, string>) | undefined;
  constructor(
    readonly key: string,
    readonly storage: string,
    readonly namespace: string,
    readonly name: string,
    readonly rv: number,
    /** JSON text of the object with its resourceVersion. */
    json: string,
  ) {
    this.text = json;
  }

  /** JSON text of the object (metadata.resourceVersion set). */
  get json(): string {
    return this.text ?? this.utf8!.toString('utf8');
  }

  /** The same JSON as UTF-8 bytes, encoded once; the text is then dropped so the entry holds one copy. */
  get bytes(): Buffer {
    if (!this.utf8) {
      this.utf8 = Buffer.from(this.text!, 'utf8');
      this.text = undefined;
    }
    return this.utf8;
  }

  /** Parsed object (metadata.resourceVersion set). Shared: never mutate. */
  get obj(): Obj {
    return (this.parsed ??= JSON.parse(this.json) as Obj);
  }

  /** Takes the parsed form from the writer instead of parsing the JSON again (see WatchCache.handover). */
  adopt(obj: Obj): void {
    if (this.parsed) return;
    // Shallow copies of the top level and metadata carry this entry's resourceVersion; nested parts are shared.
    const metadata: Obj = { ...(obj.metadata ?? {}), resourceVersion: String(this.rv) };
    delete metadata.selfLink; // never stored
    this.parsed = { ...obj, metadata };
  }

  /**
   * The object's selectable field values (metadata.name, metadata.namespace and the resource's own), computed
   * once: every selector-filtered watcher and list of this entry evaluates against the same map.
   */
  fieldsOf(extra: ((obj: Obj) => Record<string, string>) | undefined): Record<string, string> {
    if (this.fieldValues && this.fieldsFn === extra) return this.fieldValues;
    this.fieldsFn = extra;
    return (this.fieldValues = selectableFields(this.obj, extra));
  }
}

export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  revision: number;
  entry: CacheEntry;
  /** The entry before this change (updates and deletes). */
  prev?: CacheEntry;
}

export interface CacheListener {
  /** Called synchronously with each batch of events of the listener's storage, in revision order. */
  deliver(events: CacheEvent[]): void;
  /** The cache restarted (store watch lost); the listener must end with 410 so its client relists. */
  reset(reason: string): void;
}

export interface WatchCacheOptions {
  /** Events kept for watchers resuming from an older resourceVersion. */
  historySize?: number;
  /** Revisions of history to preload at start-up, so clients resuming after a restart miss nothing. */
  preloadRevisions?: number;
  log?: (line: string) => void;
  /** Called with how long each store operation took (ms), for metrics. */
  onBatch?(events: number): void;
}

const PREFIX = '/registry/';

export class WatchCache {
  private readonly objects = new Map<string, Map<string, CacheEntry>>();
  private readonly listeners = new Map<string, Set<CacheListener>>();
  private history: CacheEvent[] = [];
  private historyStart = 0;
  /** Resuming from any RV >= floor is complete. */
  private floor = 0;
  private rev = 0;
  private storeWatch: Watch | undefined;
  private waiters: { rev: number; resolve: () => void }[] = [];
  private closed = false;
  private readonly historySize: number;
  private readonly preload: number;
  /** Objects handed over by writers whose store event has not arrived yet, by key (see handover). */
  private readonly handed = new Map<string, { rv: number; obj: Obj }>();

  constructor(
    private readonly store: Store,
    private readonly options: WatchCacheOptions = {},
  ) {
    this.historySize = options.historySize ?? 100_000;
    this.preload = options.preloadRevisions ?? 20_000;
  }

  get revision(): number {
    return this.rev;
  }

  /** The oldest resourceVersion a watch can resume from. */
  get oldestResumable(): number {
    return this.floor;
  }

  async start(): Promise<void> {
    const byKey = new Map<string, CacheEntry>();
    let cont: string | undefined;
    let listRev = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const page = await this.store.list(PREFIX, { limit: 5000, continue: cont, revision: listRev || undefined });
      listRev = page.revision;
      for (const kv of page.items) {
        const e = this.entryFrom(kv.key, kv.value, kv.modRevision);
        if (e) byKey.set(kv.key, e);
      }
      cont = page.continue;
      if (!cont) break;
    }
    this.objects.clear();
    for (const e of byKey.values()) this.bucket(e.storage).set(e.key, e);
    this.rev = listRev;
    this.history = [];
    this.historyStart = 0;
    await this.openWatch(listRev);
  }

  /** Opens the single store watch, preloading recent history (events at or below `listRev` go to history only). */
  private async openWatch(listRev: number): Promise<void> {
    let from = Math.max(0, listRev - this.preload);
    this.floor = listRev;
    for (let attempt = 0; attempt < 2; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        let first = true;
        const w = this.store.watch(PREFIX, from, {
          // The cache holds every object's current version, which is what an update replaces.
          skipPrevValue: true,
          onEvents: (evs) => {
            if (first) {
              first = false;
              resolve(true);
            }
            this.apply(evs, listRev);
          },
          onError: (err) => {
            if (first) {
              first = false;
              resolve(false);
              return;
            }
            this.lost(err.message);
          },
        });
        this.storeWatch = w;
        // A watch with nothing to replay delivers nothing: treat "no error soon" as success.
        setTimeout(() => {
          if (first) {
            first = false;
            resolve(true);
          }
        }, 50);
      });
      if (ok) {
        if (from < listRev) this.floor = Math.min(this.floor, from);
        return;
      }
      this.storeWatch?.close();
      from = listRev;
    }
    throw new Error('watch cache: cannot watch the store');
  }

  private lost(reason: string): void {
    if (this.closed) return;
    this.options.log?.(`watch cache: store watch ended (${reason}); rebuilding`);
    this.storeWatch?.close();
    for (const set of this.listeners.values()) for (const l of [...set]) l.reset(reason);
    this.start().catch((e) => this.options.log?.(`watch cache: rebuild failed: ${(e as Error).message}`));
  }

  private entryFrom(key: string, value: string, rv: number): CacheEntry | undefined {
    const k = parseKey(key);
    if (!k) return undefined;
    let json: string;
    try {
      json = injectRv(value, rv);
    } catch {
      return undefined;
    }
    return new CacheEntry(key, k.storage, k.namespace, k.name, rv, json);
  }

  private bucket(storage: string): Map<string, CacheEntry> {
    let b = this.objects.get(storage);
    if (!b) this.objects.set(storage, (b = new Map()));
    return b;
  }

  /**
   * A writer's parsed copy of what it stored at `rv` under `key`, so the cache need not parse the JSON again. The
   * writer must not mutate `obj` (or anything inside it) afterwards: the cache keeps the nested parts.
   */
  handover(key: string, rv: number, obj: Obj): void {
    const k = parseKey(key);
    if (!k) return;
    const cur = this.objects.get(k.storage)?.get(key);
    if (cur) {
      if (cur.rv === rv) cur.adopt(obj);
      if (cur.rv >= rv) return;
    }
    // The event is still on its way. Bounded: writes whose event never comes (superseded) must not pile up.
    if (this.handed.size >= 10_000) this.handed.clear();
    this.handed.set(key, { rv, obj });
  }

  private apply(evs: WatchEvent[], listRev: number): void {
    const byStorage = new Map<string, CacheEvent[]>();
    for (const ev of evs) {
      const entry = this.entryFrom(ev.kv.key, ev.kv.value, ev.type === 'delete' ? ev.revision : ev.kv.modRevision);
      if (!entry) continue;
      if (this.handed.size) {
        const h = this.handed.get(entry.key);
        if (h && h.rv <= entry.rv) {
          this.handed.delete(entry.key);
          if (h.rv === entry.rv && ev.type !== 'delete') entry.adopt(h.obj);
        }
      }
      // The entry being replaced is the cached one (same revision): reuse it with what it already parsed. The store
      // leaves live updates' prevKv out (skipPrevValue), so the cache must have it; if not, it has lost track.
      const prevRev = ev.prevKv?.modRevision ?? ev.prevRevision;
      const cur =
        prevRev !== undefined && ev.revision > listRev ? this.objects.get(entry.storage)?.get(entry.key) : undefined;
      const prev =
        cur && cur.rv === prevRev
          ? cur
          : ev.prevKv
            ? this.entryFrom(ev.prevKv.key, ev.prevKv.value, ev.prevKv.modRevision)
            : undefined;
      if (prevRev !== undefined && !prev && ev.revision > listRev) {
        this.lost(`no previous version of ${entry.key} at revision ${prevRev}`);
        return;
      }
      const type = ev.type === 'delete' ? 'DELETED' : prev ? 'MODIFIED' : 'ADDED';
      const cev: CacheEvent = { type, revision: ev.revision, entry, prev };
      this.history.push(cev);
      if (ev.revision <= listRev) continue; // preloaded history: the object map already reflects it
      const bucket = this.bucket(entry.storage);
      if (type === 'DELETED') bucket.delete(entry.key);
      else bucket.set(entry.key, entry);
      let list = byStorage.get(entry.storage);
      if (!list) byStorage.set(entry.storage, (list = []));
      list.push(cev);
      if (ev.revision > this.rev) this.rev = ev.revision;
    }
    this.trimHistory();
    for (const [storage, list] of byStorage) {
      const ls = this.listeners.get(storage);
      if (ls) for (const l of [...ls]) l.deliver(list);
    }
    this.options.onBatch?.(evs.length);
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.rev <= this.rev);
      this.waiters = this.waiters.filter((w) => w.rev > this.rev);
      for (const w of ready) w.resolve();
    }
  }

  private trimHistory(): void {
    const excess = this.history.length - this.historyStart - this.historySize;
    if (excess <= 0) return;
    this.floor = Math.max(this.floor, this.history[this.historyStart + excess - 1]!.revision);
    this.historyStart += excess;
    // Compact the array occasionally instead of shifting on every event.
    if (this.historyStart > this.historySize) {
      this.history = this.history.slice(this.historyStart);
      this.historyStart = 0;
    }
  }

  /** Resolves once the cache has seen revision `rev`; false after `timeoutMs`. */
  waitFor(rev: number, timeoutMs = 3000): Promise<boolean> {
    if (rev <= this.rev) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { rev, resolve: () => (clearTimeout(t), resolve(true)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Waits until the cache reflects every write the store has acknowledged (a consistent read). */
  async sync(timeoutMs = 3000): Promise<boolean> {
    return this.waitFor(await this.store.currentRevision(), timeoutMs);
  }

  /** Current entries of a storage, optionally in one namespace (unsorted). */
  entries(storage: string, namespace?: string): CacheEntry[] {
    const b = this.objects.get(storage);
    if (!b) return [];
    const out: CacheEntry[] = [];
    for (const e of b.values()) if (!namespace || e.namespace === namespace) out.push(e);
    return out;
  }

  get(storage: string, key: string): CacheEntry | undefined {
    return this.objects.get(storage)?.get(key);
  }

  /** Events of `storage` with revision > `after`; undefined when that history is no longer kept. */
  eventsAfter(storage: string, after: number): CacheEvent[] | undefined {
    if (after < this.floor) return undefined;
    const h = this.history;
    let lo = this.historyStart;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (h[mid]!.revision <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: CacheEvent[] = [];
    for (let i = lo; i < h.length; i++) if (h[i]!.entry.storage === storage) out.push(h[i]!);
    return out;
  }

  subscribe(storage: string, l: CacheListener): () => void {
    let set = this.listeners.get(storage);
    if (!set) this.listeners.set(storage, (set = new Set()));
    set.add(l);
    return () => set!.delete(l);
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  close(): void {
    this.closed = true;
    this.storeWatch?.close();
    for (const set of this.listeners.values()) for (const l of [...set]) l.reset('server shutting down');
    this.listeners.clear();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
