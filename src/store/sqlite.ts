// The embedded store: a kine-style revision log in one SQLite file (<dataDir>/state.db) with group commit and
// in-process watch fan-out.
//
// Every write appends one row to `log`; its id is the write's revision (cluster-wide, monotonic). A key's state at
// revision R is its newest row with id <= R (absent if that row is a delete). Compaction at C removes rows that a
// row at or below C supersedes, and delete rows at or below C, so every read at R >= C stays exact.
//
// Durability: WAL with synchronous=NORMAL by default. A commit returns only after its WAL frames were written to the
// file (into the OS page cache), so an acknowledged write survives a crash of the process (SIGKILL, OOM kill) — the
// guarantee skiff promises, proven by test/store/sqlite-crash.test.ts. What NORMAL gives up is the fsync per commit:
// if the whole machine loses power, the last commits before the outage can be lost (never corrupted: WAL replay
// stops at the last complete transaction). `synchronous: 'full'` fsyncs the WAL before acknowledging and survives
// power loss too; group commit keeps that to one fsync per batch, but the fsync blocks the event loop, which on a
// busy shared disk costs most of the throughput (measured in `skiff bench store`).
//
// Exclusivity: the connection uses locking_mode=EXCLUSIVE and takes the write lock at open, holding it until close;
// a second process (or a second open in this process) fails at open with a clear error. The OS drops the lock when
// the holder dies, so a crashed process never blocks a restart.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { assertWritable, decodeContinue, encodeContinue, keyAfter, prefixEnd, inRange } from './keys.js';
import { prepareListStatements, readListing, type ListStatements } from './sqlite-list.js';
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

/** Bumped when the on-disk layout changes; a file with a higher version is refused, never rewritten. */
export const SCHEMA_VERSION = 1;
/** Marks the file as skiff's ('SKIF'), so a foreign SQLite file is refused rather than adopted. */
const APPLICATION_ID = 0x534b4946;
/** Rows read per catch-up step, so a watcher replaying old history never blocks writers for long. */
const CATCH_UP_CHUNK = 2000;
/** Rows removed per compaction transaction. */
const COMPACT_CHUNK = 20_000;
/** WAL size between automatic checkpoints (converted to frames, one page each). */
const WAL_CHECKPOINT_BYTES = 64 * 2 ** 20;
/**
 * Page size of a new store (SQLite's default is 4 KiB). A commit writes every dirty page to the WAL with a pwrite
 * of its own, and a pod is ~2 KB, so 4 KiB pages cost ~2.5 pwrites per write. Measured here, 44,000 writes of
 * 1.8 KB in transactions of 500: 4 KiB pages 112k pwrites and 22-49 µs per write; 16 KiB pages 28k pwrites and
 * 10-20 µs. An existing store keeps the page size it was created with.
 */
const NEW_STORE_PAGE_SIZE = 16_384;

export interface SqliteStoreOptions {
  /** Directory holding state.db; created when missing. */
  dataDir: string;
  compaction?: Partial<CompactionPolicy>;
  /** How often to compact automatically; 0 disables it (compact() still works). Default 5 minutes. */
  compactIntervalMs?: number;
  /** 'normal' (default): survives a process crash, not power loss. 'full': fsync before acknowledging. */
  synchronous?: 'full' | 'normal';
  /** Undelivered events one watcher may queue before it gets Compacted. Default 10,000. */
  watchBufferLimit?: number;
  log?: (line: string) => void;
}

interface LogRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

/** A log row without its value: what a write needs to check and chain to (the value is read only when needed). */
type LogMeta = Omit<LogRow, 'value'>;

interface ChangeRow extends LogRow {
  p_id: number | null;
  p_create_revision: number | null;
  p_value: string | null;
}

type WriteOp =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected?: number }
  | { kind: 'delete'; key: string; expected?: number };

interface PendingWrite {
  op: WriteOp;
  resolve: (kv: KeyValue) => void;
  reject: (err: Error) => void;
}

interface LiveWatcher {
  prefix: string;
  end: string | undefined;
  stream: WatchStream;
  /** The watcher does without updates' prevKv (WatchHandlers.skipPrevValue). */
  skipPrevValue: boolean;
}

const SCHEMA = `
CREATE TABLE log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX log_name_id ON log (name, id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('compact_revision', 0);
`;

function toKv(row: LogRow): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

/** Wraps SQLite's open-time failures in messages that say what is wrong with the data dir and what to do. */
function openError(file: string, err: unknown): Error {
  const code = (err as { code?: string }).code ?? '';
  const msg = (err as Error).message;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /locked/i.test(msg)) {
    return new Error(`store ${file} is locked: another skiff process is serving this data dir (${msg})`);
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
    return new Error(`store ${file} is corrupt (${msg}); refusing to start — restore it from a backup`);
  }
  return new Error(`store ${file} cannot be opened: ${msg}`);
}

export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly file: string;
  private readonly db: Database.Database;
  private readonly policy: CompactionPolicy;
  private readonly watchBufferLimit: number;
  private readonly log: (line: string) => void;
  private revision: number;
  private compactRevision: number;
  /** Time of the last write, so `ts` never goes backwards when the clock does. */
  private lastTs = 0;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private readonly watchers = new Set<LiveWatcher>();
  private readonly catchingUp = new Set<WatchStream>();
  private compactTimer?: NodeJS.Timeout;
  private compacting?: Promise<number>;
  private closed = false;

  private readonly stmt: {
    latest: Database.Statement<[string], LogRow>;
    latestMeta: Database.Statement<[string], LogMeta>;
    valueAt: Database.Statement<[number], { value: string }>;
    insert: Database.Statement<[number, string, number, number, number, number, number, string]>;
    list: ListStatements;
    countBounded: Database.Statement<[string, string, number], { n: number }>;
    countOpen: Database.Statement<[string, number], { n: number }>;
    changesBounded: Database.Statement<[number, string, string, number], ChangeRow>;
    changesOpen: Database.Statement<[number, string, number], ChangeRow>;
    rowAfter: Database.Statement<[number], { id: number; ts: number }>;
    setCompact: Database.Statement<[number]>;
    compactSuperseded: Database.Statement<[number, number]>;
    compactDeletes: Database.Statement<[number, number]>;
  };

  private constructor(file: string, db: Database.Database, options: SqliteStoreOptions) {
    this.file = file;
    this.db = db;
    this.policy = compactionPolicy(options.compaction);
    this.watchBufferLimit = options.watchBufferLimit ?? DEFAULT_WATCH_BUFFER;
    this.log = options.log ?? (() => {});
    const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'log'`).get() as { seq: number } | undefined;
    const meta = db.prepare(`SELECT value FROM meta WHERE key = 'compact_revision'`).get() as { value: number };
    this.compactRevision = meta.value;
    this.revision = Math.max(seq?.seq ?? 0, this.compactRevision);
    // Keep `ts` non-decreasing across restarts even if the clock moved back: the time-based policy relies on it.
    const newest = db.prepare(`SELECT ts FROM log ORDER BY id DESC LIMIT 1`).get() as { ts: number } | undefined;
    this.lastTs = newest?.ts ?? 0;

    // Live keys at or below a revision (each key's newest row there, unless a delete), counted for `remaining`.
    const countSql = (bounded: boolean) => {
      const where = bounded ? 'name >= ? AND name < ? AND id <= ?' : 'name >= ? AND id <= ?';
      return `SELECT COUNT(*) AS n FROM (SELECT MAX(id), deleted FROM log WHERE ${where} GROUP BY name HAVING deleted = 0)`;
    };
    const changesSql = (bounded: boolean) => `
      SELECT l.id, l.name, l.created, l.deleted, l.create_revision, l.prev_revision, l.value,
             p.id AS p_id, p.create_revision AS p_create_revision, p.value AS p_value
      FROM log l LEFT JOIN log p ON p.id = l.prev_revision AND l.created = 0
      WHERE l.id > ? AND l.name >= ? ${bounded ? 'AND l.name < ?' : ''}
      ORDER BY l.id LIMIT ?`;
    this.stmt = {
      latest: db.prepare(`SELECT * FROM log WHERE name = ? ORDER BY id DESC LIMIT 1`),
      latestMeta: db.prepare(
        `SELECT id, name, created, deleted, create_revision, prev_revision FROM log WHERE name = ? ORDER BY id DESC LIMIT 1`,
      ),
      valueAt: db.prepare(`SELECT value FROM log WHERE id = ?`),
      insert: db.prepare(
        `INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, ts, value)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      list: prepareListStatements(db),
      countBounded: db.prepare(countSql(true)),
      countOpen: db.prepare(countSql(false)),
      changesBounded: db.prepare(changesSql(true)),
      changesOpen: db.prepare(changesSql(false)),
      rowAfter: db.prepare(`SELECT id, ts FROM log WHERE id >= ? ORDER BY id LIMIT 1`),
      setCompact: db.prepare(`UPDATE meta SET value = ? WHERE key = 'compact_revision'`),
      // A row is superseded at C when a later row of the same key at or below C names it as prev_revision.
      compactSuperseded: db.prepare(
        `DELETE FROM log WHERE id IN (SELECT prev_revision FROM log WHERE id > ? AND id <= ? AND prev_revision > 0)`,
      ),
      compactDeletes: db.prepare(`DELETE FROM log WHERE deleted = 1 AND id > ? AND id <= ?`),
    };

    const interval = options.compactIntervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
    if (interval > 0) {
      this.compactTimer = setInterval(() => {
        this.compact().catch((err: unknown) => this.log(`store: compaction failed: ${(err as Error).message}`));
      }, interval);
      this.compactTimer.unref();
    }
  }

  /**
   * Opens (or creates) <dataDir>/state.db. Throws a clear error, without modifying the file, when it is corrupt,
   * locked by another process, not a skiff store, or written by a newer schema.
   */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    fs.mkdirSync(options.dataDir, { recursive: true });
    const file = path.join(options.dataDir, 'state.db');
    const exists = fs.existsSync(file);
    let db: Database.Database;
    try {
      db = new Database(file, { fileMustExist: exists, timeout: 0 });
    } catch (err) {
      throw openError(file, err);
    }
    try {
      // Read-only checks first, so a file we refuse is never written to.
      db.pragma('locking_mode = EXCLUSIVE');
      const version = db.pragma('user_version', { simple: true }) as number;
      const appId = db.pragma('application_id', { simple: true }) as number;
      if (exists) {
        const tables = db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master`).get() as { n: number };
        if (appId !== APPLICATION_ID && !(appId === 0 && version === 0 && tables.n === 0)) {
          throw new Error(`store ${file} is not a skiff store (application_id ${appId}); refusing to use it`);
        }
        if (version > SCHEMA_VERSION) {
          throw new Error(
            `store ${file} has schema version ${version}, newer than this skiff understands (${SCHEMA_VERSION}); ` +
              'upgrade skiff instead of starting an older one',
          );
        }
        const check = db.pragma('quick_check', { simple: true }) as string;
        if (check !== 'ok') throw new Error(`store ${file} is corrupt (quick_check: ${check}); refusing to start`);
      }
      // Only takes effect before the first write creates the file's first page.
      if (!exists) db.pragma(`page_size = ${NEW_STORE_PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      // 64 MiB of page cache (the default is 2 MiB): listings re-read the same pages and should not hit the OS.
      db.pragma('cache_size = -65536');
      // Checkpoint every WAL_CHECKPOINT_BYTES instead of SQLite's 1000 frames: a checkpoint blocks the event loop
      // (it copies pages into the db file and fsyncs twice), and a longer WAL folds the many rewrites of a hot page
      // into one copy. Measured with 10,000 creates of 1.5 KB in batches of 64: ~20% less CPU, ~30% less wall time.
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`wal_autocheckpoint = ${Math.ceil(WAL_CHECKPOINT_BYTES / pageSize)}`);
      // Take the write lock now and keep it (EXCLUSIVE mode): a second server on this dir fails here.
      db.exec('BEGIN EXCLUSIVE');
      if ((db.pragma('user_version', { simple: true }) as number) === 0) {
        db.exec(SCHEMA);
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
      if (err instanceof Error && /^store /.test(err.message)) throw err;
      throw openError(file, err);
    }
    return new SqliteStore(file, db, options);
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.revision;
  }

  /** The revision below which history is gone. */
  get compactedRevision(): number {
    return this.compactRevision;
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue({ kind: 'create', key, value });
  }

  update(key: string, value: string, expectedRevision?: number): Promise<KeyValue> {
    return this.enqueue({ kind: 'update', key, value, expected: expectedRevision });
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.enqueue({ kind: 'delete', key, expected: expectedRevision });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const row = this.stmt.latest.get(key);
    return row && !row.deleted ? toKv(row) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    let revision = options.revision && options.revision > 0 ? options.revision : this.revision;
    let start = prefix;
    if (options.continue) {
      const point = decodeContinue(options.continue, prefix);
      revision = point.revision;
      start = point.start;
    }
    if (revision > this.revision) {
      throw new StoreError('FutureRevision', `revision ${revision} is newer than the latest (${this.revision})`);
    }
    if (revision < this.compactRevision) {
      throw new StoreError('Compacted', `revision ${revision} has been compacted (at ${this.compactRevision})`);
    }
    const end = prefixEnd(prefix);
    const limit = options.limit && options.limit > 0 ? options.limit : -1;
    // One more than the page, to learn whether another page follows.
    const items = readListing(this.stmt.list, start, end, revision, limit > 0 ? limit + 1 : -1);
    const more = limit > 0 && items.length > limit;
    if (more) items.pop();
    const result: ListResult = { items, revision };
    if (more) {
      const next = keyAfter(items[items.length - 1]!.key);
      result.continue = encodeContinue({ revision, start: next });
      result.remaining =
        end === undefined
          ? this.stmt.countOpen.get(next, revision)!.n
          : this.stmt.countBounded.get(next, end, revision)!.n;
    }
    return result;
  }

  watch(prefix: string, afterRevision: number, handlers: WatchHandlers): Watch {
    this.assertOpen();
    const end = prefixEnd(prefix);
    const after = Math.max(0, afterRevision);
    const watcher: LiveWatcher = {
      prefix,
      end,
      skipPrevValue: handlers.skipPrevValue === true,
      stream: new WatchStream(handlers, after, this.watchBufferLimit, () => {
        this.watchers.delete(watcher);
        this.catchingUp.delete(watcher.stream);
      }),
    };
    if (after < this.compactRevision) {
      watcher.stream.fail(
        new StoreError('Compacted', `revision ${after} has been compacted (at ${this.compactRevision})`),
      );
    } else if (after >= this.revision) {
      this.watchers.add(watcher);
    } else {
      this.catchingUp.add(watcher.stream);
      setImmediate(() => this.catchUp(watcher));
    }
    return watcher.stream;
  }

  /** Replays the log to a watcher in chunks, then makes it live in the same tick as its last read (no gap). */
  private catchUp(watcher: LiveWatcher): void {
    const s = watcher.stream;
    if (s.closed || this.closed) return;
    if (s.lastRevision < this.compactRevision) {
      s.fail(new StoreError('Compacted', `revision ${s.lastRevision} was compacted while the watch caught up`));
      return;
    }
    const target = this.revision;
    const rows =
      watcher.end === undefined
        ? this.stmt.changesOpen.all(s.lastRevision, watcher.prefix, CATCH_UP_CHUNK)
        : this.stmt.changesBounded.all(s.lastRevision, watcher.prefix, watcher.end, CATCH_UP_CHUNK);
    s.push(rows.map(changeEvent));
    if (s.closed) return;
    if (rows.length < CATCH_UP_CHUNK) {
      s.advance(target);
      this.catchingUp.delete(s);
      this.watchers.add(watcher);
    } else {
      setImmediate(() => this.catchUp(watcher));
    }
  }

  async compact(): Promise<number> {
    this.assertOpen();
    // One compaction at a time; a second caller shares the running one.
    this.compacting ??= this.runCompaction().finally(() => (this.compacting = undefined));
    return this.compacting;
  }

  private async runCompaction(): Promise<number> {
    const target = compactionTarget(this.policy, this.revision, (ms) => this.newestRevisionBefore(ms));
    if (target <= this.compactRevision) return this.compactRevision;
    let from = this.compactRevision;
    const started = Date.now();
    while (from < target && !this.closed) {
      const to = Math.min(target, from + COMPACT_CHUNK);
      this.db.transaction(() => {
        this.stmt.compactSuperseded.run(from, to);
        this.stmt.compactDeletes.run(from, to);
        this.stmt.setCompact.run(to);
      })();
      from = to;
      // Readers must never see a revision below the point whose history is already gone.
      this.compactRevision = to;
      if (from < target) await new Promise((r) => setImmediate(r));
    }
    this.log(`store: compacted to revision ${this.compactRevision} in ${Date.now() - started} ms`);
    return this.compactRevision;
  }

  /** Newest revision written strictly before `epochMs` (binary search over ids; ts grows with id). */
  private newestRevisionBefore(epochMs: number): number {
    let lo = this.compactRevision + 1;
    let hi = this.revision;
    let best = 0;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.stmt.rowAfter.get(mid);
      if (!row || row.id > hi) {
        hi = mid - 1;
        continue;
      }
      if (row.ts < epochMs) {
        best = row.id;
        lo = row.id + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Commit what callers already handed us, then refuse new work; a running compaction stops at its next chunk.
    if (this.pending.length > 0) this.flush();
    this.closed = true;
    clearInterval(this.compactTimer);
    await this.compacting?.catch(() => {});
    for (const w of [...this.watchers]) w.stream.fail(new StoreError('Closed', 'store closed'));
    for (const s of [...this.catchingUp]) s.fail(new StoreError('Closed', 'store closed'));
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('Closed', 'store is closed');
  }

  private enqueue(op: WriteOp): Promise<KeyValue> {
    if (this.closed) return Promise.reject(new StoreError('Closed', 'store is closed'));
    try {
      assertWritable(op.key, op.kind === 'delete' ? undefined : op.value);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<KeyValue>((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Every write issued in this turn of the event loop joins one transaction (group commit).
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every queued write in one transaction, then acknowledges them and fans the changes out to watchers. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const startRevision = this.revision;
    const outcomes: (KeyValue | StoreError)[] = [];
    const events: WatchEvent[] = [];
    const now = Math.max(Date.now(), this.lastTs);
    let withPrev = false;
    for (const w of this.watchers) withPrev ||= !w.skipPrevValue;
    try {
      this.db.transaction(() => {
        for (const { op } of batch) outcomes.push(this.apply(op, now, events, withPrev));
      })();
    } catch (err) {
      this.revision = startRevision;
      const failure = new StoreError('Unavailable', `store write failed: ${(err as Error).message}`);
      this.log(`store: ${failure.message}`);
      for (const p of batch) p.reject(failure);
      return;
    }
    this.lastTs = now;
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (outcome instanceof StoreError) p.reject(outcome);
      else p.resolve(outcome);
    });
    if (events.length > 0) this.fanOut(events);
  }

  /**
   * Applies one write inside the group transaction; logical failures are returned, not thrown, so others commit.
   * The key's latest row is read without its value, which is fetched only when needed: for a delete (the tombstone
   * keeps it), an error's `current`, or an update's prevKv while some watcher wants it (`withPrev`). A pod is ~2 KB,
   * and reading it back on every update cost the API server ~10% of a binding (measured with 10,000 bindings).
   */
  private apply(op: WriteOp, ts: number, events: WatchEvent[], withPrev: boolean): KeyValue | StoreError {
    const current = this.stmt.latestMeta.get(op.key);
    const live = current && !current.deleted ? current : undefined;
    if (op.kind === 'create') {
      if (live) return new StoreError('KeyExists', `key ${op.key} already exists`, this.withValue(live));
      const rev = ++this.revision;
      this.stmt.insert.run(rev, op.key, 1, 0, rev, current?.id ?? 0, ts, op.value);
      const kv: KeyValue = { key: op.key, value: op.value, createRevision: rev, modRevision: rev };
      events.push({ type: 'put', revision: rev, kv });
      return kv;
    }
    if (!live) return new StoreError('NotFound', `key ${op.key} not found`);
    if (op.expected !== undefined && op.expected !== live.id) {
      return new StoreError(
        'Conflict',
        `key ${op.key} was modified at revision ${live.id}, expected revision ${op.expected}`,
        this.withValue(live),
      );
    }
    const rev = ++this.revision;
    if (op.kind === 'update') {
      this.stmt.insert.run(rev, op.key, 0, 0, live.create_revision, live.id, ts, op.value);
      const kv: KeyValue = { key: op.key, value: op.value, createRevision: live.create_revision, modRevision: rev };
      const event: WatchEvent = { type: 'put', revision: rev, kv, prevRevision: live.id };
      if (withPrev) event.prevKv = this.withValue(live);
      events.push(event);
      return kv;
    }
    const prevKv = this.withValue(live);
    this.stmt.insert.run(rev, op.key, 0, 1, live.create_revision, live.id, ts, prevKv.value);
    const kv: KeyValue = { key: op.key, value: prevKv.value, createRevision: live.create_revision, modRevision: rev };
    events.push({ type: 'delete', revision: rev, kv, prevKv, prevRevision: live.id });
    return kv;
  }

  /** A row read without its value (latestMeta) as a KeyValue, its value read now. */
  private withValue(row: LogMeta): KeyValue {
    const value = this.stmt.valueAt.get(row.id)!.value;
    return { key: row.name, value, createRevision: row.create_revision, modRevision: row.id };
  }

  private fanOut(events: WatchEvent[]): void {
    for (const w of this.watchers) {
      let mine: WatchEvent[] | undefined;
      for (const e of events) {
        if (inRange(e.kv.key, w.prefix, w.end)) (mine ??= []).push(e);
      }
      if (mine) w.stream.push(mine);
    }
  }
}

/** A log row (with its predecessor joined in) as the watch event it records. */
function changeEvent(row: ChangeRow): WatchEvent {
  const kv = toKv(row);
  const prevKv: KeyValue | undefined =
    row.p_id !== null && row.p_value !== null
      ? { key: row.name, value: row.p_value, createRevision: row.p_create_revision!, modRevision: row.p_id }
      : undefined;
  const event: WatchEvent = { type: row.deleted ? 'delete' : 'put', revision: row.id, kv };
  if (prevKv) event.prevKv = prevKv;
  if (!row.created && row.prev_revision > 0) event.prevRevision = row.prev_revision;
  return event;
}

/** Opens the SQLite store in `options.dataDir`. */
export function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return SqliteStore.open(options);
}
