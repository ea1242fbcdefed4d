// Informer: list + watch into a local cache with indexes and add/update/delete handlers; relists on 410.
import type { Client, KubeObject, ResourceAddress } from './types.js';

/** Returns the index values of an object (e.g. [pod.spec.nodeName]); empty = not indexed. */
export type IndexFunc<T> = (obj: T) => string[];

export interface InformerOptions<T> {
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  /** Re-deliver every cached object as an update this often (0 = never). */
  resyncMs?: number;
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
}

export function createInformer<T extends KubeObject = KubeObject>(
  client: Client,
  res: ResourceAddress,
  opts: InformerOptions<T> = {},
): Informer<T> {
  throw new Error('not implemented yet');
}
