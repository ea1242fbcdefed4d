// The generic REST verbs (get, list, create, update, patch, delete, deletecollection and the subresources), written
// once for every resource; each resource only contributes its strategy (types.ts ResourceDef).
import { randomUUID } from 'node:crypto';
import {
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  forbidden,
  invalid,
  methodNotAllowed,
  notFound,
  serviceUnavailable,
  tooLargeResourceVersion,
  type FieldError,
} from '../api/status.js';
import {
  parseLabelSelector,
  parseFieldSelector,
  matches,
  fieldsMatch,
  SelectorError,
  type Selector,
  type FieldRequirement,
} from '../api/selectors.js';
import { StoreError, type KeyValue, type Store } from '../store/types.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  serverSideApply,
  recordUpdate,
} from './patch/index.js';
import { decodeDeleteOptions, decodeObject, decodePatch, type PatchType } from './body.js';
import { decodeStored, encodeForStore, injectRv, storeKey, storePrefix } from './codec.js';
import { hasUnknownFields, unknownFields, pruneUnknown } from './schema.js';
import { buildTable } from './tables.js';
import { listBody } from './listbody.js';
import {
  boolParam,
  dryRun,
  fieldValidation,
  intParam,
  rvParam,
  wantsMetadata,
  wantsTable,
  type Query,
} from './request.js';
import { isObject } from './validation.js';
import {
  apiVersionOf,
  selectableFields,
  type Obj,
  type ObjectLookup,
  type ResourceDef,
  type StrategyContext,
  type ServiceAllocator,
} from './types.js';
import type { WatchCache, CacheEntry } from './watchcache.js';
import type { Registry } from './registry.js';
import type { ApiMetrics } from './metrics.js';
import type { MetricsData } from './metricsdata.js';

export interface ApiContext {
  store: Store;
  cache: WatchCache;
  registry: Registry;
  alloc: ServiceAllocator;
  metrics: ApiMetrics;
  metricsData: MetricsData;
  log(line: string): void;
  /** Called when a namespace starts terminating (the namespace cleaner listens). */
  onNamespaceTerminating?(name: string): void;
  /** Serves pod logs once node agents exist; absent = a clear error. */
  podLogs?(pod: Obj, q: Query): Promise<string>;
}

/** What a handler returns: a status code and JSON (pre-serialised text, bytes or a byte stream) or an object. */
export interface ApiReply {
  code: number;
  body: string | Buffer | NodeJS.ReadableStream | Obj;
  warnings?: string[];
  contentType?: string;
}

export interface RequestMeta {
  contentType?: string;
  accept?: string;
  userAgent?: string;
}

const MAX_RETRIES = 8;
const generateAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** Upstream's SimpleNameGenerator: 5 random characters from an alphabet without vowels or confusable digits. */
export function generateSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += generateAlphabet[Math.floor(Math.random() * generateAlphabet.length)];
  return s;
}

let lastSecond = NaN;
let lastText = '';

/** RFC 3339 with second precision, as metav1.Time serialises (one string per second: every create asks). */
export function rfc3339(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond) {
    lastText = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastText;
}

function ref(def: ResourceDef, name?: string) {
  return { group: def.group, resource: def.resource, name, kind: def.kind };
}

function gvk(def: ResourceDef) {
  return { group: def.group, version: def.version, kind: def.kind };
}

function hasGeneration(def: ResourceDef): boolean {
  return def.hasStatus && def.storage !== 'namespaces' && def.storage !== 'minions';
}

/** The stored (storage-version) object as this resource version presents it. */
function present(def: ResourceDef, stored: Obj): Obj {
  return def.fromStorage ? def.fromStorage(stored) : stored;
}

/** JSON text of a cache entry for `def`'s version: the cached text when no conversion applies. */
function entryJson(def: ResourceDef, e: CacheEntry): string {
  return def.fromStorage ? JSON.stringify(def.fromStorage(e.obj)) : e.json;
}

function kvJson(def: ResourceDef, kv: KeyValue, rv = kv.modRevision): string {
  return def.fromStorage ? JSON.stringify(def.fromStorage(decodeStored(kv.value, rv))) : injectRv(kv.value, rv);
}

/** managedFields bookkeeping for non-apply writes (the patch module owns field ownership). */
function recordManaged(def: ResourceDef, prev: Obj | undefined, next: Obj, manager: string, subresource?: string): Obj {
  return recordUpdate(prev, next, { manager, gvk: gvk(def), subresource }) as Obj;
}

function defaultManager(q: Query, meta: RequestMeta): string {
  const m = q.get('fieldManager');
  if (m) {
    if (m.length > 128) throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
    return m;
  }
  // Upstream derives the manager from the user agent's program name.
  const ua = meta.userAgent ?? 'unknown';
  return ua.split('/')[0]!.slice(0, 128) || 'unknown';
}

interface Selectors {
  labels: Selector;
  fields: FieldRequirement[];
}

export function parseSelectors(def: ResourceDef, q: Query): Selectors {
  let labels: Selector;
  let fields: FieldRequirement[];
  try {
    labels = parseLabelSelector(q.get('labelSelector'));
  } catch (e) {
    throw badRequest(
      `unable to parse requirement: ${(e as Error).message.replace(/^unable to parse requirement: /, '')}`,
    );
  }
  try {
    fields = parseFieldSelector(q.get('fieldSelector'));
  } catch (e) {
    throw badRequest((e as SelectorError).message);
  }
  const known = new Set(['metadata.name', 'metadata.namespace', ...Object.keys(def.fields ? def.fields({}) : {})]);
  for (const f of fields) if (!known.has(f.field)) throw badRequest(`field label not supported: ${f.field}`);
  return { labels, fields };
}

/** Whether a stored object passes the selectors (labels and the resource's selectable fields). */
export function selectorMatches(def: ResourceDef, sel: Selectors, obj: Obj): boolean {
  if (sel.labels.length && !matches(sel.labels, obj.metadata?.labels)) return false;
  return !sel.fields.length || fieldsMatch(sel.fields, selectableFields(obj, def.fields));
}

/** selectorMatches for a watch cache entry, with the entry's field values computed once and kept. */
export function entryMatches(def: ResourceDef, sel: Selectors, e: CacheEntry): boolean {
  if (sel.labels.length && !matches(sel.labels, e.obj.metadata?.labels)) return false;
  return !sel.fields.length || fieldsMatch(sel.fields, e.fieldsOf(def.fields));
}

/** Checks that the body's apiVersion/kind belong to the URL's resource. */
function checkTypeMeta(def: ResourceDef, obj: Obj, kind = def.kind, apiVersion = apiVersionOf(def)): void {
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion)
    throw badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  if (obj.kind !== undefined && obj.kind !== kind)
    throw badRequest(
      `the object provided is unrecognized (must be of type ${kind}): kind "${String(obj.kind)}" does not match`,
    );
  obj.apiVersion = apiVersion;
  obj.kind = kind;
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (!isObject(obj.metadata)) throw badRequest('metadata must be an object');
}

/** fieldValidation: Strict fails, Warn returns warnings, Ignore drops silently. Unknown fields are pruned. */
function checkUnknown(def: ResourceDef, obj: Obj, q: Query): string[] {
  if (!def.schema) return [];
  const mode = fieldValidation(q);
  if (!hasUnknownFields(obj, def.schema)) return [];
  const unknown = unknownFields(obj, def.schema);
  if (unknown.length === 0) return [];
  if (mode === 'Strict')
    throw badRequest(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
  pruneUnknown(obj, def.schema);
  return mode === 'Warn' ? unknown.map((u) => `unknown field "${u}"`) : [];
}

function storeFailure(def: ResourceDef, name: string, e: unknown): never {
  if (e instanceof StatusError) throw e;
  if (e instanceof StoreError) {
    switch (e.code) {
      case 'KeyExists':
        throw alreadyExists(ref(def, name));
      case 'NotFound':
        throw notFound(ref(def, name));
      case 'Conflict':
        throw conflict(ref(def, name));
      case 'Compacted':
        throw expired(e.message);
      case 'Unavailable':
      case 'Closed':
        throw serviceUnavailable(`storage is unavailable: ${e.message}`);
    }
  }
  throw e;
}

class RetryConflict extends Error {}

/**
 * A TypeError while defaulting or validating means a field had the wrong JSON type (a string where an object
 * belongs): upstream rejects that while decoding, with 400. Everything else passes through.
 */
async function decodeGuard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TypeError)
      throw badRequest(`the object could not be decoded: a field has the wrong type (${e.message})`);
    throw e;
  }
}

export class RestHandlers {
  constructor(private readonly ctx: ApiContext) {}

  /** Other objects, for admission hooks: cached first, the store on a miss (a create may outrun the cache). */
  private readonly objects: ObjectLookup = {
    get: async (storage, key) => {
      const hit = this.ctx.cache.get(storage, key)?.obj;
      if (hit) return hit;
      const kv = await this.ctx.store.get(key);
      return kv ? decodeStored(kv.value, kv.modRevision) : undefined;
    },
    list: (storage) => this.ctx.cache.entries(storage).map((e) => e.obj),
  };

  private sctx(namespace: string): StrategyContext {
    return { namespace, now: new Date(), alloc: this.ctx.alloc, objects: this.objects };
  }

  private storageDef(def: ResourceDef): ResourceDef {
    return this.ctx.registry.forStorage(def.storage) ?? def;
  }

  private async time<T>(op: string, def: ResourceDef, fn: () => Promise<T>): Promise<T> {
    return this.ctx.metrics.timeStore(op, def.storage, fn);
  }

  private async namespaceCheck(def: ResourceDef, namespace: string, name: string): Promise<void> {
    if (!def.namespaced) return;
    let ns = this.ctx.cache.get('namespaces', storeKey('namespaces', undefined, namespace))?.obj;
    if (!ns) {
      const kv = await this.ctx.store.get(storeKey('namespaces', undefined, namespace));
      ns = kv ? decodeStored(kv.value, kv.modRevision) : undefined;
    }
    if (!ns) throw notFound({ group: '', resource: 'namespaces', name: namespace });
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating')
      throw forbidden(
        ref(def, name),
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
  }

  // --- get / list ------------------------------------------------------------------------------------------------

  async get(def: ResourceDef, namespace: string, name: string, q: Query, meta: RequestMeta): Promise<ApiReply> {
    if (def.readOnly) return this.metricsGet(def, namespace, name);
    const kv = await this.time('get', def, () =>
      this.ctx.store.get(storeKey(def.storage, namespace || undefined, name)),
    );
    if (!kv) throw notFound(ref(def, name));
    void q;
    if (wantsTable(meta.accept)) {
      const obj = present(def, decodeStored(kv.value, kv.modRevision));
      return { code: 200, body: buildTable(def, [obj], String(kv.modRevision), true) };
    }
    return { code: 200, body: kvJson(def, kv) };
  }

  async list(def: ResourceDef, namespace: string, q: Query, meta: RequestMeta): Promise<ApiReply> {
    if (def.readOnly) return this.metricsList(def, namespace, q);
    const sel = parseSelectors(def, q);
    const limit = intParam(q, 'limit') ?? 0;
    const cont = q.get('continue') || undefined;
    const rv = rvParam(q);
    const match = q.get('resourceVersionMatch') || undefined;
    if (match && match !== 'Exact' && match !== 'NotOlderThan')
      throw badRequest(
        `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`,
      );
    if (match && rv === undefined)
      throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (cont && rv !== undefined && rv !== 0)
      throw badRequest('specifying resource version is not allowed when using continue');
    if (match === 'Exact' && rv === 0)
      throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');

    let entries: { obj: Obj; json: string; bytes?: Buffer }[] | undefined;
    let listRv = 0;
    let next: string | undefined;
    let remaining: number | undefined;

    if (!cont && match !== 'Exact') {
      // Served from the watch cache: "any" (rv=0), "not older than rv", or consistent (sync with the store first).
      const cache = this.ctx.cache;
      if (rv === undefined) await cache.sync();
      else if (rv > 0 && !(await cache.waitFor(rv))) throw tooLargeResourceVersion(rv, cache.revision);
      listRv = cache.revision;
      const all = cache.entries(def.storage, def.namespaced ? namespace || undefined : undefined);
      const everything = sel.labels.length === 0 && sel.fields.length === 0;
      const picked = everything ? all : all.filter((e) => entryMatches(def, sel, e));
      // resourceVersion=0 ignores the limit, as upstream's cacher (it delegates only limited lists at other versions).
      if (!limit || picked.length <= limit || rv === 0) {
        picked.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        entries = def.fromStorage ? picked.map((e) => ({ obj: e.obj, json: entryJson(def, e) })) : picked;
      }
    }
    if (!entries) {
      // Paged or exact reads go to the store, which keeps every page at one revision.
      const prefix = storePrefix(def.storage, def.namespaced ? namespace || undefined : undefined);
      entries = [];
      let token = cont;
      const revision = match === 'Exact' ? rv : undefined;
      for (let guard = 0; guard < 100_000; guard++) {
        const want = limit ? limit - entries.length : 0;
        let page;
        try {
          page = await this.time('list', def, () =>
            this.ctx.store.list(prefix, {
              limit: want ? Math.max(want, 50) : 0,
              continue: token,
              revision: token ? undefined : revision,
            }),
          );
        } catch (e) {
          if (e instanceof StoreError && e.code === 'InvalidContinue')
            throw badRequest(`continue key is not valid: ${e.message}`);
          if (e instanceof StoreError && e.code === 'Compacted')
            throw expired(
              'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
            );
          throw e;
        }
        listRv = page.revision;
        let i = 0;
        for (; i < page.items.length; i++) {
          const kv = page.items[i]!;
          // The cache's entry at the same revision is the same object, with its parse and field values kept.
          const hit = def.fromStorage ? undefined : this.ctx.cache.get(def.storage, kv.key);
          if (hit && hit.rv === kv.modRevision) {
            if (!entryMatches(def, sel, hit)) continue;
            entries.push(hit);
          } else {
            const obj = decodeStored(kv.value, kv.modRevision);
            if (!selectorMatches(def, sel, obj)) continue;
            entries.push({ obj, json: def.fromStorage ? '' : injectRv(kv.value, kv.modRevision) });
          }
          if (limit && entries.length >= limit) {
            i++;
            break;
          }
        }
        if (limit && entries.length >= limit) {
          if (i < page.items.length) {
            // Stopped inside the page: the next page starts at the following key, at the same revision.
            next = await this.resumeToken(prefix, page.items[i]!.key, listRv);
            remaining = undefined;
          } else {
            next = page.continue;
            remaining = page.remaining;
          }
          break;
        }
        if (!page.continue) break;
        token = page.continue;
      }
      if (def.fromStorage) for (const e of entries) e.json = JSON.stringify(def.fromStorage(e.obj));
    }
    return this.listReply(def, entries, listRv, meta, next, remaining);
  }

  /** Builds a store continue token that starts at `key` (the store's own token format via a one-item listing). */
  private async resumeToken(prefix: string, key: string, revision: number): Promise<string | undefined> {
    const { encodeContinue } = await import('../store/keys.js');
    void prefix;
    return encodeContinue({ revision, start: key });
  }

  private listReply(
    def: ResourceDef,
    entries: { obj: Obj; json: string; bytes?: Buffer }[],
    rv: number,
    meta: RequestMeta,
    cont?: string,
    remaining?: number,
  ): ApiReply {
    if (wantsTable(meta.accept)) {
      const objs = entries.map((e) => present(def, e.obj));
      return { code: 200, body: buildTable(def, objs, String(rv), true, cont, remaining) };
    }
    const md = wantsMetadata(meta.accept);
    if (md) {
      const items = entries.map((e) => ({
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: e.obj.metadata,
      }));
      const m: Obj = { resourceVersion: String(rv) };
      if (cont) m.continue = cont;
      return {
        code: 200,
        body: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: m, items },
      };
    }
    let metaJson = `{"resourceVersion":"${rv}"`;
    if (cont) metaJson += `,"continue":${JSON.stringify(cont)}`;
    if (remaining !== undefined && cont) metaJson += `,"remainingItemCount":${remaining}`;
    metaJson += '}';
    // Cache entries keep their JSON as UTF-8 bytes: the reply copies them, with no text to encode.
    const head = `{"kind":"${def.kind}List","apiVersion":"${apiVersionOf(def)}","metadata":${metaJson},"items":[`;
    return {
      code: 200,
      body: listBody(
        head,
        entries.map((e) => e.bytes ?? Buffer.from(e.json, 'utf8')),
      ),
    };
  }

  // --- create --------------------------------------------------------------------------------------------------

  async create(def: ResourceDef, namespace: string, q: Query, meta: RequestMeta, rawBody: unknown): Promise<ApiReply> {
    if (def.readOnly) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    const obj = decodeObject(meta.contentType, rawBody) as Obj;
    checkTypeMeta(def, obj);
    const warnings = checkUnknown(def, obj, q);
    const manager = defaultManager(q, meta);
    const result = await this.createObject(def, namespace, obj, { dryRun: dryRun(q), manager });
    return { code: 201, body: result, warnings };
  }

  /** The create pipeline shared by POST, PUT-creates and apply-creates. Returns the response JSON text. */
  async createObject(
    def: ResourceDef,
    namespace: string,
    obj: Obj,
    opts: { dryRun?: boolean; manager: string; managedFields?: unknown },
  ): Promise<string> {
    return decodeGuard(() => this.createObjectUnguarded(def, namespace, obj, opts));
  }

  private async createObjectUnguarded(
    def: ResourceDef,
    namespace: string,
    obj: Obj,
    opts: { dryRun?: boolean; manager: string; managedFields?: unknown },
  ): Promise<string> {
    const md = obj.metadata as Obj;
    if (def.namespaced) {
      if (md.namespace && namespace && md.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      md.namespace = namespace || md.namespace;
      if (!md.namespace) throw badRequest('the namespace of the object must be set');
    } else if (md.namespace) {
      delete md.namespace;
    }
    const ctx = this.sctx(namespace);
    const generated = !md.name && typeof md.generateName === 'string' && md.generateName !== '';
    // System fields are the server's.
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    delete md.deletionGracePeriodSeconds;
    delete md.selfLink;
    md.uid = randomUUID();
    md.creationTimestamp = rfc3339(ctx.now);
    if (hasGeneration(def)) md.generation = 1;
    else delete md.generation;
    def.defaults?.(obj, ctx);
    // Upstream's field manager runs on the decoded, defaulted object, before mutating admission and the strategy's
    // PrepareForCreate: what those add (service account, default tolerations, priority, status) is nobody's.
    const managedFields =
      opts.managedFields !== undefined
        ? opts.managedFields
        : (recordManaged(def, undefined, obj, opts.manager).metadata as Obj).managedFields;
    if (def.admitCreate) await def.admitCreate(obj, ctx);
    const stored = def.toStorage ? def.toStorage(obj) : obj;
    def.prepareCreate?.(stored, ctx);
    if (def !== this.storageDef(def)) this.storageDef(def).defaults?.(stored, ctx);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      if (generated) stored.metadata.name = `${md.generateName}${generateSuffix()}`;
      const name: string = stored.metadata.name ?? '';
      const errs = def.validate ? def.validate(stored, undefined, ctx) : [];
      if (errs.length) throw invalid(ref(def, name), errs);
      await this.namespaceCheck(def, stored.metadata.namespace, name);
      if (managedFields !== undefined) stored.metadata.managedFields = managedFields;
      else delete stored.metadata.managedFields;
      const admitErrs = def.admit ? def.admit(stored, undefined, ctx) : [];
      if (admitErrs.length) throw invalid(ref(def, name), admitErrs);
      const value = encodeForStore(stored);
      if (opts.dryRun) {
        def.release?.(stored, undefined, ctx);
        return JSON.stringify(present(def, JSON.parse(value) as Obj));
      }
      try {
        const key = storeKey(def.storage, def.namespaced ? stored.metadata.namespace : undefined, name);
        const kv = await this.time('create', def, () => this.ctx.store.create(key, value));
        // `stored` is not touched after this point: the watch cache may keep it instead of parsing `value`.
        this.ctx.cache.handover(key, kv.modRevision, stored);
        return kvJson(def, kv);
      } catch (e) {
        def.release?.(stored, undefined, ctx);
        if (generated && e instanceof StoreError && e.code === 'KeyExists') continue;
        storeFailure(def, name, e);
      }
    }
    throw alreadyExists(ref(def, stored.metadata.name));
  }

  // --- update / patch --------------------------------------------------------------------------------------------

  async update(
    def: ResourceDef,
    namespace: string,
    name: string,
    sub: string | undefined,
    q: Query,
    meta: RequestMeta,
    rawBody: unknown,
  ): Promise<ApiReply> {
    if (def.readOnly) throw methodNotAllowed('the server does not allow this method on the requested resource');
    if (sub === 'scale') return this.scaleUpdate(def, namespace, name, q, meta, rawBody);
    const obj = decodeObject(meta.contentType, rawBody) as Obj;
    checkTypeMeta(def, obj);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`,
      );
    obj.metadata.name = name;
    if (def.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const warnings = checkUnknown(def, obj, q);
    const manager = defaultManager(q, meta);
    const userRv: string | undefined = obj.metadata.resourceVersion || undefined;
    const key = storeKey(def.storage, def.namespaced ? namespace : undefined, name);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const kv = await this.time('get', def, () => this.ctx.store.get(key));
      if (!kv) {
        if (def.allowCreateOnUpdate && !sub) {
          delete obj.metadata.resourceVersion;
          const body = await this.createObject(def, namespace, structuredClone(obj), { dryRun: dryRun(q), manager });
          return { code: 201, body, warnings };
        }
        throw notFound(ref(def, name));
      }
      if (userRv !== undefined && userRv !== String(kv.modRevision)) throw conflict(ref(def, name));
      try {
        const out = await this.commitUpdate(def, namespace, name, kv, structuredClone(obj), {
          sub,
          manager,
          dryRun: dryRun(q),
          strictRv: userRv !== undefined,
        });
        return { code: 200, body: out, warnings };
      } catch (e) {
        if (e instanceof RetryConflict) continue;
        throw e;
      }
    }
    throw conflict(ref(def, name));
  }

  /**
   * Stores `next` (this version's representation) over the stored `kv`: carries system metadata, splits spec and
   * status, bumps generation, validates, skips no-op writes, and finishes deletions whose finalizers are gone.
   */
  private async commitUpdate(
    def: ResourceDef,
    namespace: string,
    name: string,
    kv: KeyValue,
    next: Obj,
    opts: { sub?: string; manager: string; dryRun?: boolean; strictRv?: boolean; managedFields?: unknown },
  ): Promise<string> {
    return decodeGuard(() => this.commitUpdateUnguarded(def, namespace, name, kv, next, opts));
  }

  private async commitUpdateUnguarded(
    def: ResourceDef,
    namespace: string,
    name: string,
    kv: KeyValue,
    next: Obj,
    opts: { sub?: string; manager: string; dryRun?: boolean; strictRv?: boolean; managedFields?: unknown },
  ): Promise<string> {
    const ctx = this.sctx(namespace);
    const old = decodeStored(kv.value, kv.modRevision);
    def.defaults?.(next, ctx);
    let obj = def.toStorage ? def.toStorage(next) : next;
    if (def !== this.storageDef(def)) this.storageDef(def).defaults?.(obj, ctx);
    const om = old.metadata as Obj;
    if (opts.sub === 'status') {
      const status = obj.status;
      obj = structuredClone(old);
      if (status === undefined) delete obj.status;
      else obj.status = status;
    } else if (opts.sub === 'finalize') {
      // Namespaces: /finalize changes only spec.finalizers.
      const fin = obj.spec?.finalizers;
      obj = structuredClone(old);
      obj.spec = { ...(obj.spec ?? {}) };
      if (fin === undefined || fin === null) delete obj.spec.finalizers;
      else obj.spec.finalizers = fin;
    } else if (opts.sub) {
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    } else {
      if (def.hasStatus) {
        if (old.status === undefined) delete obj.status;
        else obj.status = old.status;
      }
      def.prepareUpdate?.(obj, old, ctx);
    }
    const m = obj.metadata as Obj;
    m.name = om.name;
    if (def.namespaced) m.namespace = om.namespace;
    else delete m.namespace;
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    if (om.deletionTimestamp) {
      m.deletionTimestamp = om.deletionTimestamp;
      m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
      const added = (m.finalizers ?? []).filter((f: string) => !(om.finalizers ?? []).includes(f));
      if (added.length)
        throw invalid(ref(def, name), [
          {
            type: 'FieldValueForbidden',
            field: 'metadata.finalizers',
            message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f: string) => JSON.stringify(f)).join(', ')}}`,
          },
        ]);
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    if (hasGeneration(def)) {
      const specOf = (o: Obj) => {
        const { metadata: _m, status: _s, ...rest } = o;
        return JSON.stringify(rest);
      };
      m.generation = (om.generation ?? 1) + (specOf(obj) !== specOf(old) ? 1 : 0);
    } else if (om.generation !== undefined) m.generation = om.generation;
    const errs =
      opts.sub === 'finalize'
        ? []
        : opts.sub === 'status'
          ? def.validateStatus
            ? def.validateStatus(obj, old)
            : []
          : def.validate
            ? def.validate(obj, old, ctx)
            : [];
    if (errs.length) throw invalid(ref(def, name), errs);
    if (opts.managedFields !== undefined) m.managedFields = opts.managedFields;
    else obj = recordManaged(def, old, obj, opts.manager, opts.sub);
    const value = encodeForStore(obj);
    // A write that changes nothing but managedFields timestamps is skipped, keeping the resourceVersion.
    if (value === kv.value || sameIgnoringManagedTimes(value, kv.value)) return kvJson(def, kv);
    const admitErrs = def.admit && !opts.sub ? def.admit(obj, old, ctx) : [];
    if (admitErrs.length) throw invalid(ref(def, name), admitErrs);
    if (opts.dryRun) {
      if (def.admit && !opts.sub) def.release?.(obj, old, ctx);
      return JSON.stringify(present(def, decodeStored(value, kv.modRevision)));
    }
    const key = kv.key;
    if (m.deletionTimestamp && pendingFinalizers(obj).length === 0 && (m.deletionGracePeriodSeconds ?? 0) === 0) {
      // The last finalizer is gone: the update completes the deletion (ShouldDeleteDuringUpdate).
      try {
        const gone = await this.time('delete', def, () => this.ctx.store.delete(key, kv.modRevision));
        def.release?.(old, undefined, ctx);
        return kvJson(def, { ...gone, value }, gone.modRevision);
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict' && !opts.strictRv) throw new RetryConflict();
        storeFailure(def, name, e);
      }
    }
    try {
      const out = await this.time('update', def, () => this.ctx.store.update(key, value, kv.modRevision));
      // `obj` is not changed after this point: the watch cache may keep it instead of parsing `value`. Not when
      // admission ran after encoding (it could have touched `obj` after `value` was made).
      if (!def.admit || opts.sub) this.ctx.cache.handover(key, out.modRevision, obj);
      if (def.admit && !opts.sub) def.release?.(old, obj, ctx);
      if (def.storage === 'namespaces' && m.deletionTimestamp) this.ctx.onNamespaceTerminating?.(name);
      return kvJson(def, out);
    } catch (e) {
      if (def.admit && !opts.sub) def.release?.(obj, old, ctx);
      if (e instanceof StoreError && (e.code === 'Conflict' || e.code === 'NotFound') && !opts.strictRv)
        throw new RetryConflict();
      storeFailure(def, name, e);
    }
  }

  async patch(
    def: ResourceDef,
    namespace: string,
    name: string,
    sub: string | undefined,
    q: Query,
    meta: RequestMeta,
    rawBody: unknown,
  ): Promise<ApiReply> {
    if (def.readOnly) throw methodNotAllowed('the server does not allow this method on the requested resource');
    const { type, patch } = decodePatch(meta.contentType, rawBody);
    if (sub === 'scale') return this.scalePatch(def, namespace, name, type, patch, q, meta);
    if (sub && sub !== 'status')
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    const manager = type === 'apply' ? (q.get('fieldManager') ?? '') : defaultManager(q, meta);
    if (type === 'apply' && !manager)
      throw badRequest(
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    if (type !== 'apply' && q.has('force'))
      throw badRequest('force: Forbidden: may not be specified for non-apply patch');
    const force = boolParam(q, 'force');
    const key = storeKey(def.storage, def.namespaced ? namespace : undefined, name);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const kv = await this.time('get', def, () => this.ctx.store.get(key));
      if (!kv) {
        if (type !== 'apply' || sub) throw notFound(ref(def, name));
        // Server-side apply of an absent object creates it.
        const applied = structuredClone(patch) as Obj;
        checkTypeMeta(def, applied);
        if (applied.metadata.name !== undefined && applied.metadata.name !== name)
          throw badRequest(
            `the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`,
          );
        applied.metadata.name = name;
        const warnings = checkUnknown(def, applied, q);
        const res = serverSideApply(undefined, applied, { manager, force, gvk: gvk(def) });
        const obj = res.object as Obj;
        checkTypeMeta(def, obj);
        obj.metadata.name = name;
        const body = await this.createObject(def, namespace, obj, {
          dryRun: dryRun(q),
          manager,
          managedFields: res.managedFields,
        });
        return { code: 201, body, warnings };
      }
      const current = present(def, decodeStored(kv.value, kv.modRevision));
      let next: Obj;
      let managedFields: unknown;
      if (type === 'apply') {
        const applied = structuredClone(patch) as Obj;
        checkTypeMeta(def, applied);
        if (applied.metadata.name !== undefined && applied.metadata.name !== name)
          throw badRequest(
            `the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`,
          );
        const res = serverSideApply(current, applied, { manager, force, gvk: gvk(def), subresource: sub });
        next = res.object as Obj;
        managedFields = res.managedFields;
      } else {
        next = this.applyPatch(def, type, current, patch);
      }
      if (!isObject(next)) throw badRequest('the patch produced a value that is not an object');
      checkTypeMeta(def, next);
      const warnings = checkUnknown(def, next, q);
      if (next.metadata.name !== name)
        throw badRequest(
          `the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`,
        );
      // A patch that carries metadata.resourceVersion is a precondition on it.
      const patchRv = isObject(patch) ? (patch as Obj).metadata?.resourceVersion : undefined;
      if (patchRv !== undefined && patchRv !== null && String(patchRv) !== String(kv.modRevision))
        throw conflict(ref(def, name));
      try {
        const body = await this.commitUpdate(def, namespace, name, kv, next, {
          sub,
          manager,
          dryRun: dryRun(q),
          strictRv: patchRv != null,
          managedFields,
        });
        return { code: 200, body, warnings };
      } catch (e) {
        if (e instanceof RetryConflict) continue;
        throw e;
      }
    }
    throw conflict(ref(def, name));
  }

  private applyPatch(
    def: { group: string; version: string; kind: string },
    type: PatchType,
    current: Obj,
    patch: unknown,
  ): Obj {
    try {
      switch (type) {
        case 'merge':
          return applyMergePatch(current, patch) as Obj;
        case 'strategic':
          return applyStrategicMergePatch(current, patch, {
            group: def.group,
            version: def.version,
            kind: def.kind,
          }) as Obj;
        case 'json':
          return applyJsonPatch(current, patch) as Obj;
        default:
          throw badRequest('unsupported patch type');
      }
    } catch (e) {
      if (e instanceof StatusError) throw e;
      throw badRequest((e as Error).message);
    }
  }

  // --- scale -----------------------------------------------------------------------------------------------------

  private scaleOf(def: ResourceDef, obj: Obj): Obj {
    const s = def.scale!;
    const m = obj.metadata ?? {};
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
        creationTimestamp: m.creationTimestamp,
      },
      spec: { replicas: s.replicas(obj) },
      status: { replicas: s.statusReplicas(obj), selector: s.selector(obj) },
    };
  }

  async scaleGet(def: ResourceDef, namespace: string, name: string): Promise<ApiReply> {
    if (!def.scale) throw notFound(ref(def, name));
    const kv = await this.ctx.store.get(storeKey(def.storage, namespace, name));
    if (!kv) throw notFound(ref(def, name));
    return { code: 200, body: this.scaleOf(def, decodeStored(kv.value, kv.modRevision)) };
  }

  private async scaleWrite(
    def: ResourceDef,
    namespace: string,
    name: string,
    q: Query,
    meta: RequestMeta,
    build: (scale: Obj, kv: KeyValue) => Obj,
  ): Promise<ApiReply> {
    if (!def.scale) throw notFound(ref(def, name));
    const key = storeKey(def.storage, namespace, name);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const kv = await this.ctx.store.get(key);
      if (!kv) throw notFound(ref(def, name));
      const obj = decodeStored(kv.value, kv.modRevision);
      const scale = build(this.scaleOf(def, obj), kv);
      const replicas = scale.spec?.replicas;
      if (!Number.isInteger(replicas) || replicas < 0)
        throw invalid({ group: 'autoscaling', resource: 'scale', kind: 'Scale', name }, [
          {
            type: 'FieldValueInvalid',
            field: 'spec.replicas',
            message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
          },
        ]);
      const userRv = scale.metadata?.resourceVersion;
      const strict = userRv !== undefined && userRv !== null && userRv !== '';
      if (strict && String(userRv) !== String(kv.modRevision)) throw conflict(ref(def, name));
      def.scale.setReplicas(obj, replicas);
      try {
        const out = await this.commitUpdate(def, namespace, name, kv, obj, {
          manager: defaultManager(q, meta),
          dryRun: dryRun(q),
          strictRv: strict,
        });
        return { code: 200, body: this.scaleOf(def, JSON.parse(out) as Obj) };
      } catch (e) {
        if (e instanceof RetryConflict) continue;
        throw e;
      }
    }
    throw conflict(ref(def, name));
  }

  private scaleUpdate(
    def: ResourceDef,
    namespace: string,
    name: string,
    q: Query,
    meta: RequestMeta,
    rawBody: unknown,
  ): Promise<ApiReply> {
    const body = decodeObject(meta.contentType, rawBody) as Obj;
    checkTypeMeta(def, body, 'Scale', 'autoscaling/v1');
    if (body.metadata.name !== undefined && body.metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`,
      );
    return this.scaleWrite(def, namespace, name, q, meta, () => body);
  }

  private scalePatch(
    def: ResourceDef,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    q: Query,
    meta: RequestMeta,
  ): Promise<ApiReply> {
    if (type === 'apply') throw badRequest('apply patches are not supported on the scale subresource');
    return this.scaleWrite(def, namespace, name, q, meta, (scale) => {
      const out = this.applyPatch({ group: 'autoscaling', version: 'v1', kind: 'Scale' }, type, scale, patch);
      const rv = isObject(patch) ? (patch as Obj).metadata?.resourceVersion : undefined;
      if (rv === undefined && out.metadata) delete out.metadata.resourceVersion;
      return out;
    });
  }

  // --- delete ----------------------------------------------------------------------------------------------------

  async delete(
    def: ResourceDef,
    namespace: string,
    name: string,
    q: Query,
    meta: RequestMeta,
    rawBody: unknown,
  ): Promise<ApiReply> {
    if (def.readOnly) throw methodNotAllowed('the server does not allow this method on the requested resource');
    const options = decodeDeleteOptions(meta.contentType, rawBody) as Obj;
    const grace = options.gracePeriodSeconds ?? intParam(q, 'gracePeriodSeconds');
    const policy = (options.propagationPolicy ?? q.get('propagationPolicy') ?? undefined) as string | undefined;
    const orphan =
      options.orphanDependents ?? (q.has('orphanDependents') ? boolParam(q, 'orphanDependents') : undefined);
    return this.deleteObject(def, namespace, name, {
      grace: grace === undefined || grace === null ? undefined : Number(grace),
      policy,
      orphan,
      preconditions: isObject(options.preconditions) ? options.preconditions : undefined,
      dryRun: dryRun(q) || (Array.isArray(options.dryRun) && options.dryRun.includes('All')),
    });
  }

  async deleteObject(
    def: ResourceDef,
    namespace: string,
    name: string,
    o: { grace?: number; policy?: string; orphan?: boolean; preconditions?: Obj; dryRun?: boolean },
  ): Promise<ApiReply> {
    if (o.policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(o.policy))
      throw invalid({ group: 'meta.k8s.io', resource: 'deleteoptions', kind: 'DeleteOptions', name: '' }, [
        {
          type: 'FieldValueNotSupported',
          field: 'propagationPolicy',
          message: `Unsupported value: "${o.policy}": supported values: "Foreground", "Background", "Orphan"`,
        },
      ]);
    if (o.policy !== undefined && o.orphan !== undefined)
      throw badRequest('orphanDependents and propagationPolicy cannot be both set');
    if (o.grace !== undefined && (!Number.isInteger(o.grace) || o.grace < 0))
      throw badRequest('gracePeriodSeconds must be a non-negative integer');
    const key = storeKey(def.storage, def.namespaced ? namespace : undefined, name);
    const ctx = this.sctx(namespace);
    // NamespaceLifecycle admission: the system namespaces stay.
    if (def.storage === 'namespaces' && ['default', 'kube-system', 'kube-public'].includes(name))
      throw forbidden(ref(def, name), 'this namespace may not be deleted');
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const kv = await this.time('get', def, () => this.ctx.store.get(key));
      if (!kv) throw notFound(ref(def, name));
      const obj = decodeStored(kv.value, kv.modRevision);
      const m = obj.metadata as Obj;
      const pre = o.preconditions;
      if (pre?.uid && pre.uid !== m.uid)
        throw conflict(
          ref(def, name),
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${m.uid}`,
        );
      if (pre?.resourceVersion && String(pre.resourceVersion) !== String(kv.modRevision))
        throw conflict(
          ref(def, name),
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${kv.modRevision}`,
        );
      // Finalizers from the propagation policy (the garbage collector honours them).
      let finalizers: string[] = Array.isArray(m.finalizers) ? [...m.finalizers] : [];
      const policy = o.policy ?? (o.orphan === true ? 'Orphan' : o.orphan === false ? 'Background' : undefined);
      if (policy === 'Orphan')
        finalizers = [
          ...finalizers.filter((f) => f !== 'foregroundDeletion'),
          ...(finalizers.includes('orphan') ? [] : ['orphan']),
        ];
      else if (policy === 'Foreground')
        finalizers = [
          ...finalizers.filter((f) => f !== 'orphan'),
          ...(finalizers.includes('foregroundDeletion') ? [] : ['foregroundDeletion']),
        ];
      else if (policy === 'Background')
        finalizers = finalizers.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
      const grace = def.gracePeriod ? def.gracePeriod(obj, o.grace) : undefined;
      const extra = def.storage === 'namespaces' ? (obj.spec?.finalizers ?? []) : [];
      const waiting = finalizers.length > 0 || extra.length > 0 || (grace !== undefined && grace > 0);
      if (m.deletionTimestamp) {
        // Already terminating: only a shorter grace period (e.g. --force --grace-period=0) changes anything.
        const nowGrace = m.deletionGracePeriodSeconds ?? 0;
        const shortened = grace !== undefined && grace < nowGrace;
        if (shortened) {
          if (grace === 0 && finalizers.length === 0)
            return this.finalDelete(def, name, kv, obj, ctx, o.dryRun, attempt);
          m.deletionGracePeriodSeconds = grace;
          m.deletionTimestamp = rfc3339(new Date(Date.now() + grace * 1000));
        }
        // Nothing left to wait for (no finalizers, no grace for a kubelet): the object goes now, as upstream does
        // when e.g. a Background delete drops the foregroundDeletion finalizer.
        const settled = finalizers.length === 0 && extra.length === 0 && (m.deletionGracePeriodSeconds ?? 0) === 0;
        if (settled) {
          const r = await this.finalDelete(def, name, kv, obj, ctx, o.dryRun, attempt);
          if (r.code !== -1) return r;
          continue;
        }
        if (!shortened && JSON.stringify(finalizers) === JSON.stringify(m.finalizers ?? []))
          return { code: 200, body: kvJson(def, kv) };
        if (finalizers.length) m.finalizers = finalizers;
        else delete m.finalizers;
        const r = await this.tryWrite(def, kv, obj, o.dryRun);
        if (r) return { code: 200, body: r };
        continue;
      }
      if (!waiting) {
        const r = await this.finalDelete(def, name, kv, obj, ctx, o.dryRun, attempt);
        if (r.code !== -1) return r;
        continue;
      }
      m.deletionTimestamp = rfc3339(new Date(Date.now() + (grace ?? 0) * 1000));
      m.deletionGracePeriodSeconds = grace ?? 0;
      if (finalizers.length) m.finalizers = finalizers;
      else delete m.finalizers;
      if (hasGeneration(def)) m.generation = (m.generation ?? 1) + 1;
      if (def.storage === 'namespaces') obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
      const r = await this.tryWrite(def, kv, obj, o.dryRun);
      if (r) {
        if (def.storage === 'namespaces' && !o.dryRun) this.ctx.onNamespaceTerminating?.(name);
        return { code: 200, body: r };
      }
    }
    throw conflict(ref(def, name));
  }

  /** Writes a deletion-marking update; undefined on a store conflict (the caller retries). */
  private async tryWrite(def: ResourceDef, kv: KeyValue, obj: Obj, dry?: boolean): Promise<string | undefined> {
    const value = encodeForStore(obj);
    if (dry) return JSON.stringify(present(def, decodeStored(value, kv.modRevision)));
    try {
      const out = await this.time('update', def, () => this.ctx.store.update(kv.key, value, kv.modRevision));
      return kvJson(def, out);
    } catch (e) {
      if (e instanceof StoreError && e.code === 'Conflict') return undefined;
      storeFailure(def, obj.metadata?.name ?? '', e);
    }
  }

  private async finalDelete(
    def: ResourceDef,
    name: string,
    kv: KeyValue,
    obj: Obj,
    ctx: StrategyContext,
    dry: boolean | undefined,
    attempt: number,
  ): Promise<ApiReply> {
    void attempt;
    if (dry) return { code: 200, body: kvJson(def, kv) };
    try {
      const gone = await this.time('delete', def, () => this.ctx.store.delete(kv.key, kv.modRevision));
      def.release?.(obj, undefined, ctx);
      return { code: 200, body: kvJson(def, gone, gone.modRevision) };
    } catch (e) {
      if (e instanceof StoreError && e.code === 'Conflict') return { code: -1, body: '' };
      storeFailure(def, name, e);
    }
  }

  async deleteCollection(
    def: ResourceDef,
    namespace: string,
    q: Query,
    meta: RequestMeta,
    rawBody: unknown,
  ): Promise<ApiReply> {
    if (def.readOnly) throw methodNotAllowed('the server does not allow this method on the requested resource');
    const sel = parseSelectors(def, q);
    const options = decodeDeleteOptions(meta.contentType, rawBody) as Obj;
    await this.ctx.cache.sync();
    const victims = this.ctx.cache
      .entries(def.storage, def.namespaced ? namespace || undefined : undefined)
      .filter((e) => selectorMatches(def, sel, e.obj))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const items: string[] = [];
    const grace = options.gracePeriodSeconds ?? intParam(q, 'gracePeriodSeconds');
    for (const v of victims) {
      try {
        const r = await this.deleteObject(def, v.namespace, v.name, {
          grace: grace === undefined || grace === null ? undefined : Number(grace),
          policy: (options.propagationPolicy ?? q.get('propagationPolicy') ?? undefined) as string | undefined,
          orphan: options.orphanDependents as boolean | undefined,
          dryRun: dryRun(q),
        });
        items.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
      } catch (e) {
        if (e instanceof StatusError && (e.code === 404 || e.code === 403)) continue;
        throw e;
      }
    }
    const body = `{"kind":"${def.kind}List","apiVersion":"${apiVersionOf(def)}","metadata":{"resourceVersion":"${this.ctx.cache.revision}"},"items":[${items.join(',')}]}`;
    return { code: 200, body };
  }

  // --- pods/binding, pods/eviction, pods/log ------------------------------------------------------------------------

  async binding(
    def: ResourceDef,
    namespace: string,
    name: string,
    meta: RequestMeta,
    rawBody: unknown,
  ): Promise<ApiReply> {
    const b = decodeObject(meta.contentType, rawBody) as Obj;
    if (b.kind !== undefined && b.kind !== 'Binding')
      throw badRequest(`the object provided is unrecognized (must be of type Binding): kind "${String(b.kind)}"`);
    const target = b.target?.name;
    if (!target)
      throw invalid({ group: '', resource: 'bindings', kind: 'Binding', name }, [
        { type: 'FieldValueRequired', field: 'target.name', message: 'Required value' },
      ]);
    if (b.metadata?.name && b.metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(b.metadata.name)}) does not match the name on the URL (${name})`,
      );
    const key = storeKey(def.storage, namespace, name);
    const bindRef = { group: '', resource: 'pods/binding', name };
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      // First try the watch cache's copy: the write below is a compare-and-swap on its revision, so a stale copy
      // only costs a retry. Anything that would fail the request is confirmed against the store first.
      const cached = attempt === 0 ? this.ctx.cache.get(def.storage, key) : undefined;
      let cur: Obj;
      let rev: number;
      if (cached) {
        cur = cached.obj;
        rev = cached.rv;
      } else {
        const kv = await this.ctx.store.get(key);
        if (!kv) throw notFound(ref(def, name));
        cur = decodeStored(kv.value, kv.modRevision);
        rev = kv.modRevision;
      }
      const refusal =
        b.metadata?.uid && b.metadata.uid !== cur.metadata.uid
          ? `Precondition failed: UID in precondition: ${b.metadata.uid}, UID in object meta: ${cur.metadata.uid}`
          : cur.metadata.deletionTimestamp
            ? `pod ${name} is being deleted, cannot be assigned to a host`
            : cur.spec?.nodeName
              ? `pod ${name} is already assigned to node "${cur.spec.nodeName}"`
              : undefined;
      if (refusal !== undefined) {
        if (cached) continue; // confirm against the store before refusing
        throw conflict(bindRef, refusal);
      }
      // A new object sharing the untouched parts: the cached one must not change.
      const metadata: Obj = { ...cur.metadata };
      if (isObject(b.metadata?.annotations))
        metadata.annotations = { ...(metadata.annotations ?? {}), ...b.metadata.annotations };
      const status: Obj = { ...(cur.status ?? {}) };
      const conds: Obj[] = (status.conditions ?? []).filter((c: Obj) => c.type !== 'PodScheduled');
      conds.push({
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: rfc3339(new Date()),
      });
      status.conditions = conds;
      const pod: Obj = { ...cur, metadata, spec: { ...cur.spec, nodeName: target }, status };
      try {
        const out = await this.ctx.store.update(key, encodeForStore(pod), rev);
        this.ctx.cache.handover(key, out.modRevision, pod);
        return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict') continue;
        storeFailure(def, name, e);
      }
    }
    throw conflict(bindRef);
  }

  async eviction(
    def: ResourceDef,
    namespace: string,
    name: string,
    meta: RequestMeta,
    rawBody: unknown,
  ): Promise<ApiReply> {
    const ev = decodeObject(meta.contentType, rawBody) as Obj;
    if (ev.kind !== undefined && ev.kind !== 'Eviction')
      throw badRequest(`the object provided is unrecognized (must be of type Eviction): kind "${String(ev.kind)}"`);
    if (ev.metadata?.name && ev.metadata.name !== name)
      throw badRequest(`name in URL does not match name in Eviction object`);
    const opts = isObject(ev.deleteOptions) ? ev.deleteOptions : {};
    await this.deleteObject(def, namespace, name, {
      grace: opts.gracePeriodSeconds ?? undefined,
      policy: opts.propagationPolicy,
      preconditions: isObject(opts.preconditions) ? opts.preconditions : undefined,
    });
    return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  }

  async podLog(def: ResourceDef, namespace: string, name: string, q: Query): Promise<ApiReply> {
    const kv = await this.ctx.store.get(storeKey(def.storage, namespace, name));
    if (!kv) throw notFound(ref(def, name));
    const pod = decodeStored(kv.value, kv.modRevision);
    const containers: Obj[] = pod.spec?.containers ?? [];
    const cname = q.get('container') || (containers.length === 1 ? containers[0]!.name : undefined);
    if (!cname)
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`,
      );
    if (
      !containers.some((c) => c.name === cname) &&
      !(pod.spec?.initContainers ?? []).some((c: Obj) => c.name === cname)
    )
      throw badRequest(`container ${cname} is not valid for pod ${name}`);
    if (!pod.spec?.nodeName)
      throw badRequest(`container "${cname}" in pod "${name}" is waiting to start: ContainerCreating`);
    if (!this.ctx.podLogs)
      throw serviceUnavailable(
        `logs for pod "${name}" are not available: no node agent serves logs for node "${pod.spec.nodeName}" yet`,
      );
    return { code: 200, body: await this.ctx.podLogs(pod, q), contentType: 'text/plain' };
  }

  // --- metrics.k8s.io ------------------------------------------------------------------------------------------------

  private metricsList(def: ResourceDef, namespace: string, q: Query): ApiReply {
    const sel = parseSelectors(def, q);
    const items = this.ctx.metricsData
      .list(def.kind === 'PodMetrics' ? 'pods' : 'nodes', namespace)
      .filter((o) => selectorMatches(def, sel, o));
    return { code: 200, body: { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: {}, items } };
  }

  private metricsGet(def: ResourceDef, namespace: string, name: string): ApiReply {
    const item = this.ctx.metricsData.get(def.kind === 'PodMetrics' ? 'pods' : 'nodes', namespace, name);
    if (!item) throw notFound(ref(def, name));
    return { code: 200, body: item };
  }
}

/** Finalizers that keep an object: metadata.finalizers, plus a namespace's spec.finalizers. */
function pendingFinalizers(obj: Obj): string[] {
  const out: string[] = [...(obj.metadata?.finalizers ?? [])];
  if (obj.kind === 'Namespace') out.push(...(obj.spec?.finalizers ?? []));
  return out;
}

/** True when two stored texts differ only in metadata.managedFields[].time. */
function sameIgnoringManagedTimes(a: string, b: string): boolean {
  if (!a.includes('"managedFields"') || a.length !== b.length) return false;
  const strip = (s: string) => {
    const o = JSON.parse(s) as Obj;
    for (const f of o.metadata?.managedFields ?? []) if (isObject(f)) delete f.time;
    return JSON.stringify(o);
  };
  return strip(a) === strip(b);
}

export type { FieldError };
