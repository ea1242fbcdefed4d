// The client's public types: resource addresses, request options, watch events and the Client interface.

/** Where a resource lives: group '' is the core group (/api/v1). namespace omitted = cluster-scoped or all namespaces. */
export interface ResourceAddress {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  signal?: AbortSignal;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Start after this version; omitted = synthetic ADDED for every existing object first. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  /** Aborting ends the iterator cleanly. */
  signal?: AbortSignal;
  /**
   * In process (the direct transport): take events as the API server's own decoded objects instead of JSON,
   * which saves a parse per event. They are shared with the server's watch cache and every other such watcher:
   * never mutate them. Other transports ignore it.
   */
  sharedObjects?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  /** For ERROR events this is a metav1.Status. */
  object: T;
}

export interface WriteOptions {
  subresource?: string;
  fieldManager?: string;
  dryRun?: boolean;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  signal?: AbortSignal;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** Default 'merge'. */
  type?: PatchType;
  /** Server-side apply only. */
  force?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  subresource?: string;
  signal?: AbortSignal;
}

export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The one interface every component uses, whatever the transport (HTTP(S) or in-process). */
export interface Client {
  /** Requests are answered by an API server in this process (the direct transport): none crosses a socket. */
  readonly inProcess?: boolean;
  get<T = KubeObject>(
    res: ResourceAddress,
    name: string,
    opts?: { subresource?: string; signal?: AbortSignal },
  ): Promise<T>;
  list<T = KubeObject>(res: ResourceAddress, opts?: ListOptions): Promise<KubeList<T>>;
  /** POST. For subresources (binding, eviction) pass `opts.name` = the parent object's name. */
  create<T = KubeObject>(res: ResourceAddress, body: unknown, opts?: WriteOptions & { name?: string }): Promise<T>;
  /** PUT to the object named by body.metadata.name (or opts.name). */
  update<T = KubeObject>(res: ResourceAddress, body: unknown, opts?: WriteOptions & { name?: string }): Promise<T>;
  patch<T = KubeObject>(res: ResourceAddress, name: string, patch: unknown, opts?: PatchOptions): Promise<T>;
  delete<T = unknown>(res: ResourceAddress, name: string, opts?: DeleteOptions): Promise<T>;
  deleteCollection<T = unknown>(res: ResourceAddress, opts?: ListOptions & DeleteOptions): Promise<T>;
  watch<T = KubeObject>(res: ResourceAddress, opts?: WatchOptions): AsyncIterable<WatchEvent<T>>;
  /** Raw request for anything else (discovery, logs); path includes the query string. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse>;
  /** Releases keep-alive sockets / loopback servers. */
  close(): Promise<void>;
}
