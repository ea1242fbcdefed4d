// Informer: list + watch into a local cache with indexes and add/update/delete handlers; relists on 410.
//
// Like client-go's reflector + indexer: list (any version first, then paged at the newest on relists), then watch from the list's
// resourceVersion with bookmarks; a watch that ends is resumed from the last version seen; 410 Expired/Gone (as a
// status or an ERROR event) triggers a relist whose differences are delivered as add/update/delete; transport
// errors back off exponentially (bounded at maxBackoffMs) and retry until stop().
import { StatusError } from '../api/status.js';
import type { Client, KubeObject, ResourceAddress, WatchEvent } from './types.js';

/** Returns the index values of an object (e.g. [pod.spec.nodeName]); empty = not indexed. */
export type IndexFunc<T> = (obj: T) => string[];

export interface InformerOptions<T> {
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  /** Re-deliver every cached object as an update this often (0 = never). */
  resyncMs?: number;
  /** Page size of the list (default 500, like client-go). */
  pageSize?: number;
  /** Upper bound of the retry backoff (default 30 s). */
  maxBackoffMs?: number;
  /** Handler errors and retry notices; default: ignore. */
  log?: (line: string) => void;
  /**
   * Cache the in-process API server's own objects where the transport can hand them over (see
   * WatchOptions.sharedObjects): handlers and readers of this informer must never mutate what they get.
   */
  sharedObjects?: boolean;
}

export interface Informer<T = KubeObject> {
  onAdd(fn: (obj: T) => void): this;
  onUpdate(fn: (oldObj: T, newObj: T) => void): this;
  onDelete(fn: (obj: T) => void): this;
  /** Starts list+watch; resolves once the initial list is in the cache. */
  start(): Promise<void>;
  stop(): void;
  readonly hasSynced: boolean;
  /** The last resourceVersion seen. */
  readonly resourceVersion: string;
  /** Key is "namespace/name" or "name" for cluster-scoped objects. */
  get(key: string): T | undefined;
  list(): T[];
  byNamespace(namespace: string): T[];
  byIndex(indexName: string, value: string): T[];
  /** Number of relists after the first (410s and recoveries); useful for tests and metrics. */
  readonly relists: number;
}

export function keyOf(obj: KubeObject): string {
  const md = obj.metadata ?? {};
  return md.namespace ? `${md.namespace}/${md.name}` : String(md.name);
}

const isExpired = (e: unknown) => e instanceof StatusError && e.code === 410;
/** Errors a retry cannot fix: stop instead of spinning. */
const isFatal = (e: unknown) => e instanceof StatusError && [400, 401, 403, 404, 405, 422].includes(e.code);

class InformerImpl<T extends KubeObject> implements Informer<T> {
  private items = new Map<string, T>();
  private indexes = new Map<string, Map<string, Set<string>>>();
  private addFns: ((o: T) => void)[] = [];
  private updateFns: ((a: T, b: T) => void)[] = [];
  private deleteFns: ((o: T) => void)[] = [];
  private abort = new AbortController();
  private synced = false;
  private rv = '';
  private relistCount = -1;
  private resyncTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly indexers: Record<string, IndexFunc<T>>;
  /** The indexers with their index maps, listed once (every stored object walks them twice). */
  private readonly indexList: [IndexFunc<T>, Map<string, Set<string>>][] = [];

  constructor(
    private client: Client,
    private res: ResourceAddress,
    private opts: InformerOptions<T>,
  ) {
    this.indexers = {
      namespace: (o) => (o.metadata?.namespace ? [o.metadata.namespace] : []),
      ...(opts.indexers ?? {}),
    };
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = new Map<string, Set<string>>();
      this.indexes.set(name, index);
      this.indexList.push([fn, index]);
    }
  }

  onAdd(fn: (obj: T) => void): this {
    this.addFns.push(fn);
    return this;
  }
  onUpdate(fn: (oldObj: T, newObj: T) => void): this {
    this.updateFns.push(fn);
    return this;
  }
  onDelete(fn: (obj: T) => void): this {
    this.deleteFns.push(fn);
    return this;
  }
  get hasSynced() {
    return this.synced;
  }
  get resourceVersion() {
    return this.rv;
  }
  get relists() {
    return Math.max(0, this.relistCount);
  }
  get(key: string) {
    return this.items.get(key);
  }
  list() {
    return [...this.items.values()];
  }
  byNamespace(namespace: string) {
    return this.byIndex('namespace', namespace);
  }
  byIndex(indexName: string, value: string): T[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`informer has no index "${indexName}"`);
    return [...(index.get(value) ?? [])].map((k) => this.items.get(k)!).filter(Boolean);
  }

  start(): Promise<void> {
    if (this.running) throw new Error('informer already started');
    let resolveSynced!: () => void;
    let rejectSynced!: (e: unknown) => void;
    const synced = new Promise<void>((res, rej) => {
      resolveSynced = res;
      rejectSynced = rej;
    });
    this.running = this.run(resolveSynced).catch((e) => {
      if (!this.synced) rejectSynced(e);
      else this.log(`informer ${this.res.resource}: stopped: ${(e as Error).message}`);
    });
    if (this.opts.resyncMs && this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.items.values()) this.emit(this.updateFns, o, o);
      }, this.opts.resyncMs);
      this.resyncTimer.unref?.();
    }
    return synced;
  }

  stop(): void {
    this.abort.abort();
    clearInterval(this.resyncTimer);
  }

  private log(line: string) {
    this.opts.log?.(line);
  }

  private emit<A extends unknown[]>(fns: ((...a: A) => void)[], ...args: A) {
    for (const fn of fns) {
      try {
        fn(...args);
      } catch (e) {
        this.log(`informer ${this.res.resource}: handler failed: ${(e as Error).message}`);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async run(onSynced: () => void): Promise<void> {
    const signal = this.abort.signal;
    const maxBackoff = this.opts.maxBackoffMs ?? 30_000;
    let backoff = 200;
    let needList = true;
    let expiredInARow = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          if (!this.synced) {
            this.synced = true;
            onSynced();
          }
        }
        // client-go picks a random timeout between 5 and 10 minutes so watches do not all end together.
        const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
        const events = this.client.watch<T>(this.res, {
          resourceVersion: this.rv,
          allowWatchBookmarks: true,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          timeoutSeconds,
          signal,
          sharedObjects: this.opts.sharedObjects,
        });
        let received = 0;
        for await (const ev of events) {
          received++;
          backoff = 200;
          expiredInARow = 0;
          if (ev.type === 'ERROR') {
            const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
            throw new StatusError(st.code ?? 500, st.reason ?? 'InternalError', st.message ?? 'watch error');
          }
          this.apply(ev);
        }
        // A server that closes watches at once must not make us spin: back off when nothing arrived.
        if (received === 0) {
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, maxBackoff);
        }
      } catch (e) {
        if (signal.aborted) return;
        if (isExpired(e)) {
          needList = true;
          // A server that expires the version it just listed would otherwise keep us relisting flat out.
          if (expiredInARow++ > 0) {
            await this.sleep(backoff);
            backoff = Math.min(backoff * 2, maxBackoff);
          }
          continue;
        }
        if (isFatal(e)) throw e;
        this.log(`informer ${this.res.resource}: ${(e as Error).message}; retrying in ${backoff} ms`);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
        // After a failure we cannot tell whether our version is still served; a relist is always safe.
        if (!this.rv) needList = true;
      }
    }
  }

  private async relist(): Promise<void> {
    this.relistCount++;
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    let pages = 0;
    // As client-go's reflector: the first list takes any version (resourceVersion=0, which the API server answers
    // from its watch cache, whole); a relist after 410 Expired or a failure reads at the newest version.
    const any = this.relistCount === 0;
    do {
      const page = await this.client.list<T>(this.res, {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: this.opts.pageSize ?? 500,
        continue: cont,
        resourceVersion: any && !cont ? '0' : undefined,
        signal: this.abort.signal,
      });
      for (const o of page.items) fresh.set(keyOf(o), o);
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
      // Bounded: a server that keeps handing out continue tokens cannot keep us here forever.
      if (++pages > 100_000) throw new Error('list did not terminate');
    } while (cont);
    for (const [k, old] of [...this.items]) {
      if (!fresh.has(k)) {
        this.remove(k, old);
        this.emit(this.deleteFns, old);
      }
    }
    for (const [k, o] of fresh) {
      const old = this.items.get(k);
      this.store(k, o, old);
      if (!old) this.emit(this.addFns, o);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.emit(this.updateFns, old, o);
    }
    this.rv = rv;
  }

  private apply(ev: WatchEvent<T>): void {
    const obj = ev.object;
    const rv = obj?.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.rv = rv;
      return;
    }
    if (!obj?.metadata?.name) return;
    const k = keyOf(obj);
    const old = this.items.get(k);
    if (ev.type === 'DELETED') {
      if (old) this.remove(k, old);
      this.emit(this.deleteFns, obj);
    } else {
      this.store(k, obj, old);
      if (old) this.emit(this.updateFns, old, obj);
      else this.emit(this.addFns, obj);
    }
    if (rv) this.rv = rv;
  }

  private store(k: string, obj: T, old: T | undefined) {
    if (old) this.unindex(k, old);
    this.items.set(k, obj);
    for (const [fn, index] of this.indexList) {
      for (const v of safeIndex(fn, obj)) {
        let set = index.get(v);
        if (!set) index.set(v, (set = new Set()));
        set.add(k);
      }
    }
  }

  private remove(k: string, old: T) {
    this.unindex(k, old);
    this.items.delete(k);
  }

  private unindex(k: string, old: T) {
    for (const [fn, index] of this.indexList) {
      for (const v of safeIndex(fn, old)) {
        const set = index.get(v);
        set?.delete(k);
        if (set && set.size === 0) index.delete(v);
      }
    }
  }
}

function safeIndex<T>(fn: IndexFunc<T>, obj: T): string[] {
  try {
    return fn(obj).filter((v) => typeof v === 'string');
  } catch {
    return [];
  }
}

export function createInformer<T extends KubeObject = KubeObject>(
  client: Client,
  res: ResourceAddress,
  opts: InformerOptions<T> = {},
): Informer<T> {
  return new InformerImpl<T>(client, res, opts);
}
