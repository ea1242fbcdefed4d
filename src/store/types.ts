// The store contract: a revisioned key-value log that the API server (and nothing else) builds on.
// Semantics follow etcd v3 as Kubernetes uses it: one cluster-wide revision, CAS on an object's last-write revision.

/** One stored key at one revision. `value` is the object's serialised JSON. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created the key (stable across updates). */
  createRevision: number;
  /** Revision of the last write to the key; this becomes the object's resourceVersion. */
  modRevision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** The revision of this change (for deletes: the delete's revision, with the last value in `kv`). */
  revision: number;
  kv: KeyValue;
  /** The value before this change: present on updates and deletes (see WatchHandlers.skipPrevValue). */
  prevKv?: KeyValue;
  /** The modRevision before this change, on updates and deletes: set even when prevKv is left out. */
  prevRevision?: number;
}

export interface ListOptions {
  /** At most this many items (0 or undefined: all). */
  limit?: number;
  /** Opaque token from a previous page; the listing continues at that page's revision. */
  continue?: string;
  /** Read at this revision (0 or undefined: latest). Fails with 'Compacted' when older than the compaction point. */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the whole listing (all pages) is consistent at. */
  revision: number;
  /** Present when more items remain. */
  continue?: string;
  /** How many items remain after this page, when known. */
  remaining?: number;
}

export interface Watch {
  /** Stops delivery; no callback runs after it resolves. */
  close(): void;
}

export interface WatchHandlers {
  /**
   * Events in revision order, each exactly once. Returning a promise applies back-pressure: no further batch is
   * delivered until it settles, and events queue meanwhile; a watcher whose queue outgrows the store's bound gets
   * `Compacted` (it must relist), never a silent gap.
   */
  onEvents(events: WatchEvent[]): void | Promise<void>;
  /** Terminal: the watch stopped (`Compacted` when too old or fell behind, `Unavailable`, …). */
  onError(err: StoreError): void;
  /**
   * The watcher keeps what it saw itself (the API server's watch cache), so live updates may come without prevKv
   * (prevRevision is always there): a store can then skip reading the old value on every update. Deletes and replayed
   * history keep prevKv, and a store may send it anyway (etcd does).
   */
  skipPrevValue?: boolean;
}

/** `FutureRevision`: a read asked for a revision newer than the store's latest (Kubernetes: "too large resource version"). */
export type StoreErrorCode =
  'KeyExists' | 'NotFound' | 'Conflict' | 'Compacted' | 'Unavailable' | 'InvalidContinue' | 'FutureRevision' | 'Closed';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** For Conflict/KeyExists: the current value, so callers can report or retry without another read. */
    readonly current?: KeyValue,
  ) {
    super(message);
  }
}

export interface CompactionPolicy {
  /** Keep at least this many most recent revisions. */
  keepRevisions: number;
  /** Keep at least this many minutes of history. */
  keepMinutes: number;
}

export interface Store {
  readonly backend: 'sqlite' | 'etcd';
  /** The latest revision of the whole store. */
  currentRevision(): Promise<number>;
  /** Writes a new key; fails with KeyExists when it is present. */
  create(key: string, value: string): Promise<KeyValue>;
  /**
   * Replaces a key's value. With `expectedRevision`, fails with Conflict unless the key's modRevision equals it.
   * Fails with NotFound when the key is absent.
   */
  update(key: string, value: string, expectedRevision?: number): Promise<KeyValue>;
  /**
   * Deletes a key, returning its last value with `modRevision` set to the delete's revision (as Kubernetes reports
   * the deleted object's resourceVersion); `expectedRevision` as for update.
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  get(key: string): Promise<KeyValue | undefined>;
  /** Keys under `prefix` in key order, all pages at one consistent revision. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Every change under `prefix` with revision > `afterRevision`, in order; Compacted when that is too old. */
  watch(prefix: string, afterRevision: number, handlers: WatchHandlers): Watch;
  /** Drops history older than the policy allows; returns the new compaction revision. */
  compact(): Promise<number>;
  close(): Promise<void>;
}
