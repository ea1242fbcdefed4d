// An in-memory stand-in for the API server behind the Client interface (get/list/create/update/patch/delete,
// pods/binding, status patches) plus an informer factory fed by its change events: enough to drive the daemon.
import { EventEmitter } from 'node:events';
import { alreadyExists, conflict, internal, notFound } from '../../../src/api/status.js';
import type { Informer, InformerOptions } from '../../../src/client/informer.js';
import type { Client, KubeList, KubeObject, ResourceAddress, WatchEvent } from '../../../src/client/types.js';

type Obj = KubeObject & { metadata: NonNullable<KubeObject['metadata']> };

function resKey(res: ResourceAddress): string {
  return `${res.group}/${res.resource}`;
}

export class FakeCluster {
  readonly objects = new Map<string, Map<string, Obj>>();
  readonly events = new EventEmitter();
  private rv = 1;
  /** Fail this many pods/binding calls with a 500 before succeeding. */
  failBindings = 0;
  bindCalls = 0;

  private bucket(res: ResourceAddress): Map<string, Obj> {
    let b = this.objects.get(resKey(res));
    if (!b) this.objects.set(resKey(res), (b = new Map()));
    return b;
  }

  private key(res: ResourceAddress, name: string): string {
    return res.namespace ? `${res.namespace}/${name}` : name;
  }

  private emit(res: ResourceAddress, type: WatchEvent['type'], obj: Obj): void {
    this.events.emit(resKey(res), { type, object: structuredClone(obj) });
  }

  put(res: ResourceAddress, body: KubeObject): Obj {
    const obj = structuredClone(body) as Obj;
    const name = obj.metadata.name!;
    const b = this.bucket(res);
    const k = this.key(res, name);
    const existed = b.has(k);
    obj.metadata.resourceVersion = String(++this.rv);
    obj.metadata.uid ??= `uid-${this.rv}`;
    if (res.namespace) obj.metadata.namespace = res.namespace;
    b.set(k, obj);
    this.emit(res, existed ? 'MODIFIED' : 'ADDED', obj);
    return obj;
  }

  list(res: ResourceAddress): Obj[] {
    return [...this.bucket(res).values()].filter((o) => !res.namespace || o.metadata.namespace === res.namespace);
  }

  find(res: ResourceAddress, name: string): Obj | undefined {
    return this.bucket(res).get(this.key(res, name));
  }

  remove(res: ResourceAddress, name: string): void {
    const b = this.bucket(res);
    const obj = b.get(this.key(res, name));
    if (!obj) return;
    b.delete(this.key(res, name));
    this.emit(res, 'DELETED', obj);
  }

  client(): Client {
    const ref = (res: ResourceAddress, name: string) => ({ group: res.group, resource: res.resource, name });
    return {
      get: async <T>(res: ResourceAddress, name: string) => {
        const o = this.find(res, name);
        if (!o) throw notFound(ref(res, name));
        return structuredClone(o) as T;
      },
      list: async <T>(res: ResourceAddress) => ({ metadata: {}, items: this.list(res) }) as KubeList<T>,
      create: async <T>(res: ResourceAddress, body: unknown, opts?: { subresource?: string; name?: string }) => {
        if (opts?.subresource === 'binding') {
          this.bindCalls++;
          if (this.failBindings > 0) {
            this.failBindings--;
            throw internal('injected binding failure');
          }
          const pod = this.find(res, opts.name!);
          if (!pod) throw notFound(ref(res, opts.name!));
          const spec = pod.spec as { nodeName?: string };
          if (spec.nodeName) throw conflict(ref(res, opts.name!), 'pod is already assigned');
          const target = (body as { target: { name: string } }).target.name;
          const status = (pod.status ?? {}) as { conditions?: { type: string }[] };
          const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
          conditions.push({ type: 'PodScheduled', status: 'True' } as { type: string });
          this.put(res, { ...pod, spec: { ...spec, nodeName: target }, status: { ...status, conditions } });
          return body as T;
        }
        const obj = body as Obj;
        if (this.find(res, obj.metadata.name!)) throw alreadyExists(ref(res, obj.metadata.name!));
        return this.put(res, obj) as T;
      },
      update: async <T>(res: ResourceAddress, body: unknown) => {
        const obj = body as Obj;
        const cur = this.find(res, obj.metadata.name!);
        if (!cur) throw notFound(ref(res, obj.metadata.name!));
        if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion)
          throw conflict(ref(res, obj.metadata.name!));
        return this.put(res, obj) as T;
      },
      patch: async <T>(res: ResourceAddress, name: string, patch: unknown, opts?: { subresource?: string }) => {
        const cur = this.find(res, name);
        if (!cur) throw notFound(ref(res, name));
        if (opts?.subresource !== 'status') return this.put(res, { ...cur, ...(patch as object) }) as T;
        const status = (cur.status ?? {}) as { conditions?: { type: string }[] };
        const incoming = (patch as { status: { conditions?: { type: string }[] } }).status.conditions ?? [];
        const conditions = [
          ...(status.conditions ?? []).filter((c) => !incoming.some((i) => i.type === c.type)),
          ...incoming,
        ];
        const rest = (patch as { status: Record<string, unknown> }).status;
        return this.put(res, { ...cur, status: { ...status, ...rest, conditions } }) as T;
      },
      delete: async <T>(res: ResourceAddress, name: string) => {
        this.remove(res, name);
        return {} as T;
      },
      deleteCollection: async <T>() => ({}) as T,
      watch: () => {
        throw new Error('the fake cluster feeds informers directly');
      },
      request: async () => {
        throw new Error('not supported by the fake');
      },
      close: async () => {},
    };
  }

  /** Informers over this cluster: list, then change events (field selector: only status.phase!= terms). */
  informerFactory() {
    return <T extends KubeObject>(
      _client: Client,
      res: ResourceAddress,
      opts: InformerOptions<T> = {},
    ): Informer<T> => {
      const excluded = [...(opts.fieldSelector ?? '').matchAll(/status\.phase!=(\w+)/g)].map((m) => m[1]);
      const keep = (o: KubeObject) => !excluded.includes((o.status as { phase?: string } | undefined)?.phase ?? '');
      const adds: ((o: T) => void)[] = [];
      const updates: ((a: T, b: T) => void)[] = [];
      const deletes: ((o: T) => void)[] = [];
      const cache = new Map<string, T>();
      const k = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
      const listener = (ev: WatchEvent<T>) => {
        const old = cache.get(k(ev.object));
        if (ev.type === 'DELETED' || !keep(ev.object)) {
          if (old) {
            cache.delete(k(ev.object));
            for (const f of deletes) f(ev.object);
          }
          return;
        }
        cache.set(k(ev.object), ev.object);
        if (old) for (const f of updates) f(old, ev.object);
        else for (const f of adds) f(ev.object);
      };
      let synced = false;
      const inf: Informer<T> = {
        onAdd: (f) => (adds.push(f), inf),
        onUpdate: (f) => (updates.push(f), inf),
        onDelete: (f) => (deletes.push(f), inf),
        start: async () => {
          for (const o of this.list({ ...res, namespace: undefined }) as unknown as T[])
            if (keep(o)) listener({ type: 'ADDED', object: structuredClone(o) });
          this.events.on(resKey(res), listener);
          synced = true;
        },
        stop: () => void this.events.off(resKey(res), listener),
        get hasSynced() {
          return synced;
        },
        resourceVersion: '',
        get: (key) => cache.get(key.includes('/') ? key : `/${key}`),
        list: () => [...cache.values()],
        byNamespace: (ns) => [...cache.values()].filter((o) => o.metadata?.namespace === ns),
        byIndex: () => [],
        relists: 0,
      };
      return inf;
    };
  }
}
