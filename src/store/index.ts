// The store factory: picks the backend from options or CLI flags and opens it.
import { openSqliteStore } from './sqlite.js';
import type { CompactionPolicy, Store } from './types.js';

export * from './types.js';
export { DEFAULT_COMPACTION } from './policy.js';

export type StoreBackend = 'sqlite' | 'etcd';

export interface OpenStoreOptions {
  /** Default 'sqlite'. */
  backend?: StoreBackend;
  /** For sqlite: the directory holding state.db. Default './data'. */
  dataDir?: string;
  /** For sqlite: 'normal' (default) survives a process crash; 'full' also survives power loss, at a cost. */
  sqliteSynchronous?: 'normal' | 'full';
  /** For etcd: client URLs, e.g. ['http://127.0.0.1:2379']. */
  etcdEndpoints?: string[];
  compaction?: Partial<CompactionPolicy>;
  /** How often to compact automatically (ms); 0 disables. Default 5 minutes. */
  compactIntervalMs?: number;
  /** Undelivered events one watcher may queue before it gets Compacted. Default 10,000. */
  watchBufferLimit?: number;
  /** One line per notable event (compaction, etcd up/down). */
  log?: (line: string) => void;
}

/** Opens the configured store; throws a clear error when it cannot be used (callers exit non-zero). */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const backend = options.backend ?? 'sqlite';
  if (backend === 'sqlite') {
    return openSqliteStore({
      dataDir: options.dataDir ?? './data',
      synchronous: options.sqliteSynchronous,
      compaction: options.compaction,
      compactIntervalMs: options.compactIntervalMs,
      watchBufferLimit: options.watchBufferLimit,
      log: options.log,
    });
  }
  if (backend === 'etcd') {
    const endpoints = options.etcdEndpoints ?? [];
    if (endpoints.length === 0) throw new Error('--store etcd needs --etcd-endpoints URL[,URL…]');
    const { openEtcdStore } = await import('./etcd.js');
    return openEtcdStore({
      endpoints,
      compaction: options.compaction,
      compactIntervalMs: options.compactIntervalMs,
      watchBufferLimit: options.watchBufferLimit,
      log: options.log,
    });
  }
  throw new Error(`unknown store backend "${String(backend)}" (use sqlite or etcd)`);
}

/**
 * Reads `--store sqlite|etcd` and `--etcd-endpoints URL[,URL…]` (also `--flag=value`) from argv. Returns the store
 * options found and the arguments it did not consume; throws on bad values.
 */
export function parseStoreFlags(argv: string[]): { options: OpenStoreOptions; rest: string[] } {
  const options: OpenStoreOptions = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (name !== '--store' && name !== '--etcd-endpoints') {
      rest.push(arg);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new Error(`${name} needs a value`);
    if (name === '--store') {
      if (value !== 'sqlite' && value !== 'etcd') throw new Error(`--store must be sqlite or etcd, got "${value}"`);
      options.backend = value;
    } else {
      const urls = value.split(',').map((u) => u.trim());
      for (const u of urls) {
        let parsed: URL;
        try {
          parsed = new URL(u);
        } catch {
          throw new Error(`--etcd-endpoints: "${u}" is not a URL (expected e.g. http://127.0.0.1:2379)`);
        }
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
          throw new Error(`--etcd-endpoints: "${u}" must be http:// or https://`);
        }
      }
      options.etcdEndpoints = urls;
    }
  }
  if (options.etcdEndpoints && options.backend !== 'etcd') {
    throw new Error('--etcd-endpoints is only valid with --store etcd');
  }
  return { options, rest };
}
