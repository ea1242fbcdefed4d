// Namespace deletion: once a namespace is Terminating, delete everything in it, then drop its `kubernetes`
// finalizer so the namespace itself goes (the namespace controller's job upstream, done in-process here).
import { StatusError } from '../api/status.js';
import { StoreError } from '../store/types.js';
import { decodeStored, encodeForStore, storeKey } from './codec.js';
import type { ApiContext, RestHandlers } from './rest.js';

const RETRY_MS = 1000;

export class NamespaceCleaner {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;

  constructor(
    private readonly ctx: ApiContext,
    private readonly rest: RestHandlers,
  ) {}

  kick(name: string): void {
    if (this.closed) return;
    this.pending.add(name);
    this.schedule(0);
  }

  /** Picks up namespaces that were terminating when the server stopped. */
  resume(): void {
    for (const e of this.ctx.cache.entries('namespaces')) if (e.obj.metadata?.deletionTimestamp) this.kick(e.name);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, ms);
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const name of [...this.pending]) {
        if (this.closed) return;
        let done = false;
        try {
          done = await this.clean(name);
        } catch (e) {
          this.ctx.log(`namespace ${name}: cleanup failed: ${(e as Error).message}`);
        }
        if (done) this.pending.delete(name);
      }
    } finally {
      this.running = false;
    }
    if (this.pending.size) this.schedule(RETRY_MS);
  }

  /** One pass; true when the namespace is gone (or no longer terminating). */
  private async clean(name: string): Promise<boolean> {
    const key = storeKey('namespaces', undefined, name);
    const kv = await this.ctx.store.get(key);
    if (!kv) return true;
    const ns = decodeStored(kv.value, kv.modRevision);
    if (!ns.metadata?.deletionTimestamp) return true;
    let left = 0;
    for (const def of this.ctx.registry.storages()) {
      if (!def.namespaced) continue;
      for (const e of this.ctx.cache.entries(def.storage, name)) {
        left++;
        if (e.obj.metadata?.deletionTimestamp) continue;
        try {
          await this.rest.deleteObject(def, name, e.name, { policy: 'Background' });
        } catch (err) {
          if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) throw err;
        }
      }
    }
    if (left > 0) {
      await this.ctx.cache.sync();
      const remaining = this.ctx.registry
        .storages()
        .some((d) => d.namespaced && this.ctx.cache.entries(d.storage, name).length > 0);
      if (remaining) return false;
    }
    const fin: string[] = (ns.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes');
    ns.spec = { ...(ns.spec ?? {}), finalizers: fin };
    if (fin.length === 0) delete ns.spec.finalizers;
    try {
      if ((ns.metadata.finalizers ?? []).length === 0 && fin.length === 0)
        await this.ctx.store.delete(key, kv.modRevision);
      else await this.ctx.store.update(key, encodeForStore(ns), kv.modRevision);
    } catch (e) {
      if (e instanceof StoreError && (e.code === 'Conflict' || e.code === 'NotFound')) return false;
      throw e;
    }
    return true;
  }
}
