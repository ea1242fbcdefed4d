// The etcd v3 store: the Store contract over etcd's own revisions, compare-and-swap transactions and watch streams,
// with retries and one log line per reachability change while etcd is unreachable.
import {
  Etcd3,
  type ICompare,
  type IKeyValue,
  type IWatchResponse,
  type IDuplexStream,
  type IWatchRequest,
} from 'etcd3';
import { assertWritable, decodeContinue, encodeContinue, keyAfter, prefixEnd } from './keys.js';
import { compactionPolicy, compactionTarget, DEFAULT_COMPACT_INTERVAL_MS } from './policy.js';
import { DEFAULT_WATCH_BUFFER, WatchStream } from './watch-stream.js';
import {
  StoreError,
  type CompactionPolicy,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type Watch,
  type WatchEvent,
  type WatchHandlers,
} from './types.js';

/** The compare of an update or delete: the key exists, or (with a precondition) its last write was at `revision`. */
function existsOrAt(key: Buffer, revision: number | undefined): ICompare {
  return revision === undefined
    ? { key, target: CREATE, result: 'Greater', create_revision: 0 }
    : { key, target: MOD, result: 'Equal', mod_revision: revision };
}

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  endpoints: string[];
  compaction?: Partial<CompactionPolicy>;
  /** How often to compact automatically; 0 disables it. Default 5 minutes. */
  compactIntervalMs?: number;
  /** Undelivered events one watcher may queue before it gets Compacted. Default 10,000. */
  watchBufferLimit?: number;
  /** How long one call keeps retrying while etcd is unreachable before failing with Unavailable. Default 30 s. */
  retryTimeoutMs?: number;
  /** Deadline of a single etcd request. Default 10 s. */
  requestTimeoutMs?: number;
  log?: (line: string) => void;
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2000;
/** Revision samples kept for the time part of the compaction policy (one per sampling tick). */
const SAMPLE_INTERVAL_MS = 10_000;

const CREATE = 'Create' as const;
const MOD = 'Mod' as const;

function bytes(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

/** The `range_end` for keys under `prefix`: etcd uses "\0" to mean every key when the prefix is empty. */
function rangeEnd(prefix: string): Buffer {
  const end = prefixEnd(prefix);
  return end === undefined ? Buffer.from([0]) : bytes(end);
}

/** Maps etcd and gRPC failures onto store error codes; `retry` marks failures that mean "etcd unreachable". */
function classify(err: unknown): { error: Error; retry: boolean } {
  if (err instanceof StoreError) return { error: err, retry: false };
  const e = err as Error & { code?: string | number };
  const msg = e?.message ?? String(err);
  if (/required revision has been compacted/.test(msg)) {
    return { error: new StoreError('Compacted', msg), retry: false };
  }
  if (/future revision/.test(msg)) return { error: new StoreError('FutureRevision', msg), retry: false };
  const name = e?.constructor?.name ?? '';
  if (
    /Unavailable|DeadlineExceeded|BrokenCircuit|ClientRuntime|GRPCCancelled|GRPCInternal/.test(name) ||
    /ECONNREFUSED|ECONNRESET|No connection established|UNAVAILABLE|Deadline exceeded|leader|connect|timed out/i.test(
      msg,
    )
  ) {
    return { error: new StoreError('Unavailable', `etcd unreachable: ${msg}`), retry: true };
  }
  return { error: e instanceof Error ? e : new Error(msg), retry: false };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Tracks whether etcd answers, logging once per change rather than once per failed call. */
export class Reachability {
  private up: boolean | undefined;
  constructor(
    private readonly endpoints: string,
    private readonly log: (line: string) => void,
  ) {}
  ok(): void {
    if (this.up === false) this.log(`store: etcd at ${this.endpoints} is reachable again`);
    this.up = true;
  }
  failed(reason: string): void {
    if (this.up !== false)
      this.log(`store: etcd at ${this.endpoints} is unreachable (${reason}); retrying with backoff`);
    this.up = false;
  }
}

export class EtcdStore implements Store {
  readonly backend = 'etcd' as const;
  private readonly client: Etcd3;
  private readonly policy: CompactionPolicy;
  private readonly watchBufferLimit: number;
  private readonly retryTimeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly reach: Reachability;
  private readonly upstreams = new Set<EtcdUpstream>();
  private readonly homes = new Map<WatchStream, EtcdUpstream>();
  private readonly samples: { at: number; revision: number }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private compactRevision = 0;
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    this.policy = compactionPolicy(options.compaction);
    this.watchBufferLimit = options.watchBufferLimit ?? DEFAULT_WATCH_BUFFER;
    this.retryTimeoutMs = options.retryTimeoutMs ?? 30_000;
    this.log = options.log ?? (() => {});
    this.reach = new Reachability(options.endpoints.join(','), this.log);
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    // etcd3's own circuit breaker and retries would hide outages from us; we retry (and log) ourselves.
    const passthrough = {
      execute: (fn: (ctx: { signal: AbortSignal; attempt: number }) => unknown) =>
        Promise.resolve().then(() => fn({ signal: new AbortController().signal, attempt: 0 })),
    };
    this.client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: requestTimeoutMs,
      // Large listings exceed gRPC's 4 MiB default (10,000 pods is ~9 MB); Kubernetes lifts the limit the same way.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      faultHandling: { host: () => passthrough as never, global: passthrough as never },
    });
    const interval = options.compactIntervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
    const sample = () =>
      this.currentRevision().then(
        () => {},
        () => {},
      );
    this.timers.push(setInterval(sample, SAMPLE_INTERVAL_MS));
    if (interval > 0) {
      this.timers.push(
        setInterval(() => {
          this.compact().catch((err: unknown) => this.log(`store: compaction failed: ${(err as Error).message}`));
        }, interval),
      );
    }
    for (const t of this.timers) t.unref();
  }

  /** Runs one etcd call, retrying with backoff while etcd is unreachable (up to retryTimeoutMs). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryTimeoutMs;
    let delay = MIN_BACKOFF_MS;
    for (;;) {
      if (this.closed) throw new StoreError('Closed', 'store is closed');
      try {
        const result = await fn();
        this.reach.ok();
        return result;
      } catch (err) {
        const { error, retry } = classify(err);
        if (!retry) {
          this.reach.ok();
          throw error;
        }
        this.reach.failed(error.message);
        if (Date.now() + delay > deadline) throw error;
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async currentRevision(): Promise<number> {
    const res = await this.call(() => this.client.kv.range({ key: Buffer.from([0]), count_only: true }));
    const revision = Number(res.header.revision);
    this.sample(revision);
    return revision;
  }

  private sample(revision: number): void {
    const now = Date.now();
    const last = this.samples[this.samples.length - 1];
    if (last && now - last.at < SAMPLE_INTERVAL_MS / 2) return;
    this.samples.push({ at: now, revision });
    // Samples older than the retention window plus one interval are never needed again.
    const horizon = now - (this.policy.keepMinutes * 60_000 + 2 * DEFAULT_COMPACT_INTERVAL_MS);
    while (this.samples.length > 2 && this.samples[1]!.at < horizon) this.samples.shift();
  }

  async create(key: string, value: string): Promise<KeyValue> {
    assertWritable(key, value);
    const k = bytes(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: CREATE, result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value: bytes(value) } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) {
      const current = res.responses[0]?.response_range.kvs[0];
      throw new StoreError('KeyExists', `key ${key} already exists`, current ? toKv(current) : undefined);
    }
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedRevision?: number): Promise<KeyValue> {
    assertWritable(key, value);
    const k = bytes(key);
    const guard = existsOrAt(k, expectedRevision);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [guard],
        success: [{ request_put: { key: k, value: bytes(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.preconditionFailure(key, res.responses[0]?.response_range.kvs[0], expectedRevision);
    const prev = res.responses[0]!.response_put.prev_kv!;
    return { key, value, createRevision: Number(prev.create_revision), modRevision: Number(res.header.revision) };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    assertWritable(key);
    const k = bytes(key);
    const guard = existsOrAt(k, expectedRevision);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [guard],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.preconditionFailure(key, res.responses[0]?.response_range.kvs[0], expectedRevision);
    const prev = res.responses[0]!.response_delete_range.prev_kvs[0]!;
    return { ...toKv(prev), modRevision: Number(res.header.revision) };
  }

  private preconditionFailure(key: string, current: IKeyValue | undefined, expected?: number): StoreError {
    if (!current) return new StoreError('NotFound', `key ${key} not found`);
    const kv = toKv(current);
    return new StoreError(
      'Conflict',
      `key ${key} was modified at revision ${kv.modRevision}, expected revision ${expected}`,
      kv,
    );
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call(() => this.client.kv.range({ key: bytes(key) }));
    const kv = res.kvs[0];
    return kv ? toKv(kv) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    let revision = options.revision && options.revision > 0 ? options.revision : 0;
    let start = prefix;
    if (options.continue) {
      const point = decodeContinue(options.continue, prefix);
      revision = point.revision;
      start = point.start;
    }
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const key = start === '' ? Buffer.from([0]) : bytes(start);
    const res = await this.call(() => this.client.kv.range({ key, range_end: rangeEnd(prefix), limit, revision }));
    const at = revision || Number(res.header.revision);
    const items = res.kvs.map(toKv);
    const result: ListResult = { items, revision: at };
    if (res.more && items.length > 0) {
      result.continue = encodeContinue({ revision: at, start: keyAfter(items[items.length - 1]!.key) });
      result.remaining = Number(res.count) - items.length;
    }
    return result;
  }

  /**
   * Store watchers share etcd watch streams: a watcher joins an existing stream on the same prefix when that stream
   * has not yet passed the watcher's start (so it will deliver everything the watcher needs, and the watcher's own
   * revision floor drops what is older). Otherwise it gets a stream of its own, starting at its revision. This keeps
   * etcd and this process from encoding and decoding every event once per watcher.
   */
  watch(prefix: string, afterRevision: number, handlers: WatchHandlers): Watch {
    if (this.closed) throw new StoreError('Closed', 'store is closed');
    const after = Math.max(0, afterRevision);
    const stream = new WatchStream(handlers, after, this.watchBufferLimit, () => {
      this.homes.get(stream)?.unsubscribe(stream);
      this.homes.delete(stream);
    });
    this.home(stream, prefix);
    return stream;
  }

  /** @internal Attaches a watcher to a stream that can serve it from its last revision on, creating one if needed. */
  home(stream: WatchStream, prefix: string): void {
    let upstream = [...this.upstreams].find((u) => u.prefix === prefix && u.canServe(stream.lastRevision));
    if (!upstream) {
      const created: EtcdUpstream = new EtcdUpstream(this, prefix, stream.lastRevision, () =>
        this.upstreams.delete(created),
      );
      this.upstreams.add(created);
      upstream = created;
    }
    this.homes.set(stream, upstream);
    upstream.subscribe(stream);
  }

  /** @internal Opens a raw etcd watch stream. */
  async openWatchStream(): Promise<IDuplexStream<IWatchRequest, IWatchResponse>> {
    return this.client.watchClient.watch();
  }

  /** @internal */
  get reachability(): Reachability {
    return this.reach;
  }

  /** @internal */
  get isClosed(): boolean {
    return this.closed;
  }

  async compact(): Promise<number> {
    const current = await this.currentRevision();
    const target = compactionTarget(this.policy, current, (ms) => {
      let best = 0;
      for (const s of this.samples) if (s.at < ms) best = Math.max(best, s.revision);
      return best;
    });
    if (target <= this.compactRevision) return this.compactRevision;
    try {
      await this.call(() => this.client.kv.compact({ revision: target, physical: false }));
    } catch (err) {
      // Someone (another skiff, etcdctl) compacted further already: that is the state we wanted.
      if (!(err instanceof StoreError && err.code === 'Compacted')) throw err;
    }
    this.compactRevision = target;
    this.log(`store: compacted etcd to revision ${target}`);
    return target;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const u of [...this.upstreams]) u.fail(new StoreError('Closed', 'store closed'));
    this.client.close();
  }
}

/** One etcd watch stream on a prefix, fanned out to the store watchers it serves; resumes after outages. */
class EtcdUpstream {
  private readonly subscribers = new Set<WatchStream>();
  private raw?: IDuplexStream<IWatchRequest, IWatchResponse>;
  private delay = MIN_BACKOFF_MS;
  private done = false;
  /** The last revision this stream has delivered (or its start minus one). */
  private lastRevision: number;

  constructor(
    private readonly store: EtcdStore,
    readonly prefix: string,
    afterRevision: number,
    private readonly onEnd: () => void,
  ) {
    this.lastRevision = afterRevision;
    this.connect();
  }

  /** True when every event after `after` is still to come on this stream. */
  canServe(after: number): boolean {
    return !this.done && after >= this.lastRevision;
  }

  subscribe(stream: WatchStream): void {
    this.subscribers.add(stream);
  }

  unsubscribe(stream: WatchStream): void {
    this.subscribers.delete(stream);
    if (this.subscribers.size === 0) this.end();
  }

  /** Ends every subscriber with `err` and drops the stream. */
  fail(err: StoreError): void {
    this.end();
    for (const s of [...this.subscribers]) s.fail(err);
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    this.raw?.cancel();
    this.raw = undefined;
    this.onEnd();
  }

  private connect(): void {
    if (this.done || this.store.isClosed) return;
    this.store.openWatchStream().then(
      (raw) => this.attach(raw),
      (err: unknown) => this.retry(err),
    );
  }

  private attach(raw: IDuplexStream<IWatchRequest, IWatchResponse>): void {
    if (this.done) {
      raw.cancel();
      return;
    }
    this.raw = raw;
    let failed = false;
    const lost = (err: unknown) => {
      if (failed || this.raw !== raw) return;
      failed = true;
      this.raw = undefined;
      raw.cancel();
      this.retry(err);
    };
    raw.on('data', (res) => this.onResponse(res));
    raw.on('error', lost);
    raw.on('end', () => lost(new StoreError('Unavailable', 'etcd watch stream ended')));
    raw.write({
      create_request: {
        key: this.prefix === '' ? Buffer.from([0]) : bytes(this.prefix),
        range_end: rangeEnd(this.prefix),
        // Resume right after the last revision delivered: no gap, no duplicate.
        start_revision: this.lastRevision + 1,
        prev_kv: true,
      },
    });
  }

  private retry(err: unknown): void {
    if (this.done || this.store.isClosed) return;
    const { error, retry } = classify(err);
    if (!retry) {
      this.fail(error instanceof StoreError ? error : new StoreError('Unavailable', error.message));
      return;
    }
    this.store.reachability.failed(error.message);
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_BACKOFF_MS);
    setTimeout(() => this.connect(), delay);
  }

  private onResponse(res: IWatchResponse): void {
    if (this.done) return;
    this.delay = MIN_BACKOFF_MS;
    this.store.reachability.ok();
    const compactRevision = Number(res.compact_revision);
    if (compactRevision > 0) {
      // Watchers that joined with a later start than this stream's may still be served: move them to a new stream.
      this.end();
      for (const s of [...this.subscribers]) {
        this.subscribers.delete(s);
        if (s.lastRevision + 1 >= compactRevision) this.store.home(s, this.prefix);
        else
          s.fail(new StoreError('Compacted', `revision ${s.lastRevision} has been compacted (at ${compactRevision})`));
      }
      return;
    }
    if (res.canceled) {
      this.fail(new StoreError('Unavailable', `etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    if (!res.events || res.events.length === 0) return;
    const events: WatchEvent[] = res.events.map((e) => {
      const kv = toKv(e.kv);
      const prevKv = e.prev_kv ? toKv(e.prev_kv) : undefined;
      if (e.type === 'Delete') {
        // etcd's delete event carries only the key; the contract wants the last value, which prev_kv holds.
        return {
          type: 'delete',
          revision: kv.modRevision,
          kv: {
            key: kv.key,
            value: prevKv?.value ?? '',
            createRevision: prevKv?.createRevision ?? 0,
            modRevision: kv.modRevision,
          },
          ...(prevKv ? { prevKv, prevRevision: prevKv.modRevision } : {}),
        };
      }
      return {
        type: 'put',
        revision: kv.modRevision,
        kv,
        ...(prevKv ? { prevKv, prevRevision: prevKv.modRevision } : {}),
      };
    });
    this.lastRevision = events[events.length - 1]!.revision;
    for (const s of [...this.subscribers]) s.push(events);
  }
}

/** Connects to etcd and checks it answers (retrying while unreachable), then returns the store. */
export async function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdStore> {
  if (options.endpoints.length === 0) throw new Error('etcd store needs at least one endpoint');
  const store = new EtcdStore(options);
  try {
    await store.currentRevision();
  } catch (err) {
    await store.close();
    throw new Error(`cannot reach etcd at ${options.endpoints.join(',')}: ${(err as Error).message}`);
  }
  return store;
}
