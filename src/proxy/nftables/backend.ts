// Where a transaction goes: the in-memory fake (unit tests) or `nft -f -` (a complete backend by itself).
// The netlink backend (netlink-backend.ts) sends element churn straight to the kernel.
import { spawn } from 'node:child_process';
import { FakeTable } from './fake.js';
import type { Family, Transaction } from './transaction.js';

export interface NftBackend {
  readonly kind: 'fake' | 'nft' | 'netlink';
  /** True when apply() is not atomic as a whole anyway, so the data plane may apply a sync in parts. */
  readonly splitsTransactions?: boolean;
  /** Applies the whole transaction, or (on error) leaves the table as it was where the backend can promise it. */
  apply(tx: Transaction): Promise<void>;
  /** The elements of a map as the kernel holds them now (including what the packet path added), key → value. */
  listMap(family: Family, table: string, map: string): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export class FakeBackend implements NftBackend {
  readonly kind = 'fake';
  readonly table: FakeTable;
  /** Transactions applied, in order (tests look at sizes to prove incremental syncs stay small). */
  readonly applied: Transaction[] = [];

  constructor(family: Family = 'ip', table = 'skiff') {
    this.table = new FakeTable(family, table);
  }

  async apply(tx: Transaction): Promise<void> {
    this.table.apply(tx);
    this.applied.push(tx);
  }

  async listMap(_family: Family, _table: string, map: string): Promise<Map<string, string>> {
    return this.table.elements(map);
  }

  async close(): Promise<void> {}
}

export interface CommandOptions {
  /** Run inside this network namespace (`ip netns exec NS …`); default: the process's own. */
  netns?: string;
}

/** Runs a command with stdin text, resolving with stdout; rejects with stderr on a non-zero exit. */
export function runCommand(argv: string[], input: string, options: CommandOptions = {}): Promise<string> {
  const full = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else
        reject(new Error(`${argv.join(' ')} exited ${code}: ${Buffer.concat(err).toString().trim().slice(0, 4000)}`));
    });
    child.stdin.on('error', () => {}); // the close handler reports the failure
    child.stdin.end(input);
  });
}

type JsonValue = string | number | { concat: (string | number)[] } | { elem: { val: JsonValue } };

/** nft's JSON for a key or value → the text form skiff uses ("a . b . c"). */
function jsonText(v: JsonValue): string {
  if (typeof v !== 'object') return String(v);
  if ('elem' in v) return jsonText(v.elem.val);
  return v.concat.map(String).join(' . ');
}

/** `nft -j list map`: elements with their values, whatever wrapping (timeouts, expiry) nft prints around them. */
export async function listMapElements(
  family: Family,
  table: string,
  map: string,
  options: CommandOptions = {},
): Promise<Map<string, string>> {
  const out = await runCommand(['nft', '-j', 'list', 'map', family, table, map], '', options);
  const json = JSON.parse(out) as { nftables: { map?: { elem?: [JsonValue, JsonValue][] } }[] };
  const elements = new Map<string, string>();
  for (const o of json.nftables) for (const [k, v] of o.map?.elem ?? []) elements.set(jsonText(k), jsonText(v));
  return elements;
}

/** `nft -f -`: the whole transaction in one nft process, atomic in the kernel. */
export class NftCliBackend implements NftBackend {
  readonly kind = 'nft';
  constructor(readonly options: CommandOptions = {}) {}

  async apply(tx: Transaction): Promise<void> {
    const script = tx.render();
    if (script) await runCommand(['nft', '-f', '-'], script, this.options);
  }

  listMap(family: Family, table: string, map: string): Promise<Map<string, string>> {
    return listMapElements(family, table, map, this.options);
  }

  async close(): Promise<void> {}
}
