// The shapes every part of the API server shares: JSON objects, resource definitions (strategies) and table columns.
import type { FieldError } from '../api/status.js';

/** A decoded Kubernetes object: plain JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0 = always shown, 1 = only with `-o wide`. */
  priority: 0 | 1;
}

export interface TableDef {
  columns: TableColumn[];
  /** Events put Name last (priority 1) instead of first. */
  omitName?: boolean;
  /** The cells of one row, in column order (after the Name cell, which is added generically). */
  cells(obj: Obj, now: number): unknown[];
}

/** What a strategy hook may consult besides the object. */
export interface StrategyContext {
  /** The namespace from the URL ("" for cluster-scoped). */
  namespace: string;
  now: Date;
  /** Cluster IP and node port allocation (services). */
  alloc?: ServiceAllocator;
  /** Reads other stored objects (admission that consults them: pod priority, the one default PriorityClass). */
  objects?: ObjectLookup;
}

/** Read access to stored objects for strategy hooks. */
export interface ObjectLookup {
  /** One object by store key: the watch cache, else the store (a just-created object may not be cached yet). */
  get(storage: string, key: string): Promise<Obj | undefined>;
  /** Every cached object of a storage (eventually consistent, like upstream admission's listers). */
  list(storage: string): Obj[];
}

/** Allocates cluster IPs and node ports; `reserve` validates and records, `release` frees on failure or delete. */
export interface ServiceAllocator {
  /** Allocates what `svc` needs (keeping what `old` had); returns field errors instead of throwing. */
  reserve(svc: Obj, old: Obj | undefined): FieldError[];
  /** Frees what `svc` holds that `keep` does not. */
  release(svc: Obj, keep?: Obj): void;
  readonly cidr: string;
}

export type SubresourceName = 'status' | 'scale' | 'binding' | 'log' | 'eviction' | 'finalize';

/** Field schema used for fieldValidation and pruning: `true` a leaf/any value, `[s]` a list, `{$map: s}` a map. */
export type FieldSchema = true | [FieldSchema] | { $map: FieldSchema } | { [field: string]: FieldSchema };

/**
 * One resource in one group-version. Everything resource-specific lives here; the verbs in handlers.ts are generic.
 * Versions of the same resource (autoscaling/v1 and v2 HPAs) share `storage` and convert with toStorage/fromStorage.
 */
export interface ResourceDef {
  group: string;
  version: string;
  /** Plural, as in the URL. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Store key segment, shared by every version of the resource. */
  storage: string;
  subresources: SubresourceName[];
  /** Read-only resources (metrics) have only get/list. */
  readOnly?: boolean;
  /** Whether writes to the main resource ignore `.status` (and /status writes change only `.status`). */
  hasStatus: boolean;
  /** PUT of a missing object creates it (upstream AllowCreateOnUpdate). */
  allowCreateOnUpdate?: boolean;
  /** Known fields for fieldValidation; undefined = anything goes. */
  schema?: FieldSchema;
  /** Extra selectable fields beyond metadata.name and metadata.namespace. */
  fields?(obj: Obj): Record<string, string>;
  /** Resets server-owned parts on create (e.g. a pod's status). */
  prepareCreate?(obj: Obj, ctx: StrategyContext): void;
  /** Called on every update of the main resource (old is the stored object). */
  prepareUpdate?(obj: Obj, old: Obj, ctx: StrategyContext): void;
  defaults?(obj: Obj, ctx: StrategyContext): void;
  validate?(obj: Obj, old: Obj | undefined, ctx: StrategyContext): FieldError[];
  validateStatus?(obj: Obj, old: Obj): FieldError[];
  /** Mutating admission on create that consults other objects (pod priority); throws a StatusError to reject. */
  admitCreate?(obj: Obj, ctx: StrategyContext): Promise<void>;
  /** Last step before storing: claims shared resources (service IPs/ports); errors abort the write. */
  admit?(obj: Obj, old: Obj | undefined, ctx: StrategyContext): FieldError[];
  /** Undoes admit after a failed write, or frees what a deleted/updated object held (`keep`: its new version). */
  release?(obj: Obj, keep: Obj | undefined, ctx: StrategyContext): void;
  table?: TableDef;
  /** For scale: the replica count field and the selector of the object. */
  scale?: {
    replicas(obj: Obj): number;
    statusReplicas(obj: Obj): number;
    selector(obj: Obj): string;
    setReplicas(obj: Obj, n: number): void;
  };
  /** Converts a request object of this version into the stored version (identity when absent). */
  toStorage?(obj: Obj): Obj;
  /** Converts a stored object into this version. */
  fromStorage?(obj: Obj): Obj;
  /** Graceful deletion period in seconds (pods); undefined = immediate. */
  gracePeriod?(obj: Obj, requested: number | undefined): number | undefined;
}

export function apiVersionOf(def: { group: string; version: string }): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function groupResource(def: ResourceDef): { group: string; resource: string } {
  return { group: def.group, resource: def.resource };
}

/** An object's selectable field values: metadata.name and metadata.namespace, then the resource's own (`fields`). */
export function selectableFields(
  obj: Obj,
  fields: ((obj: Obj) => Record<string, string>) | undefined,
): Record<string, string> {
  const f: Record<string, string> = {
    'metadata.name': obj.metadata?.name ?? '',
    'metadata.namespace': obj.metadata?.namespace ?? '',
  };
  if (fields) Object.assign(f, fields(obj));
  return f;
}
