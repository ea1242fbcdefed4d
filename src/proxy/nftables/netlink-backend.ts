// The netlink backend: set/map element operations go to the kernel as NFNL batches on a NETLINK_NETFILTER socket
// (no process start, ~100× cheaper than an nft run for a small change); tables, chains and rules go through
// `nft -f -`. The socket works in the network namespace of this process.
import { NfTablesSocket, type ElementRun, type SetLayout } from './nfnetlink.js';
import { listMapElements, runCommand, type NftBackend } from './backend.js';
import { Transaction, type Family, type MapDef, type Operation, type SetDef } from './transaction.js';
import { SET_LAYOUTS } from './ruleset.js';

export class NetlinkBackend implements NftBackend {
  readonly kind = 'netlink';
  readonly splitsTransactions = true;
  #socket: NfTablesSocket | undefined;
  readonly #layouts = new Map<string, SetLayout>();

  constructor(layouts: Iterable<SetDef | MapDef> = SET_LAYOUTS.values()) {
    for (const def of layouts) this.#remember(def);
  }

  #remember(def: SetDef | MapDef): void {
    this.#layouts.set(def.name, { name: def.name, key: def.key, ...(def.kind === 'map' ? { value: def.value } : {}) });
  }

  /**
   * Runs the operations in order: each run of element operations is one or more netlink batches, each run of
   * other operations one `nft -f`. A transaction that mixes both is therefore atomic per run, not as a whole.
   */
  async apply(tx: Transaction): Promise<void> {
    const ops = tx.operations;
    let i = 0;
    while (i < ops.length) {
      const isElements = (op: Operation) => op.object.kind === 'element' || op.object.kind === 'elements';
      const elements = isElements(ops[i]!);
      let j = i;
      while (j < ops.length && isElements(ops[j]!) === elements) j++;
      const run = ops.slice(i, j);
      if (elements) await this.#elements(tx, run);
      else await this.#nft(tx, run);
      i = j;
    }
  }

  async #nft(tx: Transaction, run: Operation[]): Promise<void> {
    // "add table; delete table" (replace whatever is there) goes through netlink: nft would first read the old
    // table, every element included, into its cache.
    let skip = 0;
    if (
      run[0]?.verb === 'add' &&
      run[0].object.kind === 'table' &&
      run[1]?.verb === 'delete' &&
      run[1].object.kind === 'table'
    ) {
      skip = 2;
    } else if (run[0]?.verb === 'delete' && run[0].object.kind === 'table') {
      skip = 1;
    }
    if (skip) {
      this.#socket ??= new NfTablesSocket();
      const existed = await this.#socket.deleteTable(tx.family, tx.table);
      if (!existed && skip === 1) throw new Error(`netlink backend: no table ${tx.family} ${tx.table} to delete`);
      run = run.slice(skip);
      if (run.length === 0) return;
    }
    const sub = new Transaction(tx.family, tx.table);
    sub.operations.push(...run);
    for (const op of run) {
      if (op.verb === 'add' && (op.object.kind === 'set' || op.object.kind === 'map')) this.#remember(op.object);
    }
    await runCommand(['nft', '-f', '-'], sub.render());
  }

  async #elements(tx: Transaction, run: Operation[]): Promise<void> {
    const runs: ElementRun[] = run.map(({ verb, object: e }) => {
      if (e.kind !== 'element' && e.kind !== 'elements') throw new Error('unreachable');
      const set = this.#layouts.get(e.set);
      if (!set) throw new Error(`netlink backend: unknown layout of set ${e.set}`);
      if (verb !== 'add' && verb !== 'delete') throw new Error(`netlink backend: cannot ${verb} elements`);
      if (e.kind === 'elements') {
        return {
          op: verb,
          set,
          keys: e.keys,
          ...(e.values ? { values: e.values } : {}),
          ...(e.slots ? { slots: e.slots } : {}),
        };
      }
      const value = e.value === undefined ? undefined : typeof e.value === 'string' ? e.value : e.value.join(' . ');
      return { op: verb, set, keys: [e.key.join(' . ')], ...(value !== undefined ? { values: [value] } : {}) };
    });
    this.#socket ??= new NfTablesSocket();
    await this.#socket.applyElements(tx.family, tx.table, runs);
  }

  /** Through `nft -j` (rare: only when an affinity service loses endpoints). */
  listMap(family: Family, table: string, map: string): Promise<Map<string, string>> {
    return listMapElements(family, table, map);
  }

  async close(): Promise<void> {
    this.#socket?.close();
    this.#socket = undefined;
  }
}
