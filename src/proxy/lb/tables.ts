// Slot tables for service dispatch: exact round-robin tables for random spreading, Maglev tables (Wasm, in the
// piscina pool for big batches) for hash-based dispatch such as ClientIP affinity.
//
// Why two kinds: with `numgen random` every new connection picks a slot at random and conntrack pins it, so a
// table only needs balance, and one slot per endpoint (M = N) is exactly balanced with the fewest kernel map
// elements (a full sync of 10k services × 10 endpoints is 100k slot elements instead of ~1M with M ≥ 8·N).
// With `jhash ip saddr` the same client must keep its endpoint across endpoint changes and on every node:
// that is what Maglev gives (≤ 1/N + a few % of clients move when one of N endpoints goes).
import { Piscina } from 'piscina';
import { createPool } from '../../wasm/index.js';
import { flattenTable, sortEndpoints, defaultTableSize, MAX_TABLE_SIZE, type MaglevEndpoint } from '../maglev.js';
import { encodeBatch, fillBatchTs, splitOutput } from './batch.js';
import { LbKernel } from './wasm.js';

export type TableKind = 'exact' | 'maglev';

export interface TableSpec {
  endpoints: readonly MaglevEndpoint[];
  kind: TableKind;
  /** Maglev size; default defaultTableSize(n, slotsPerEndpoint). Ignored for exact tables. */
  m?: number;
}

/** A computed table: endpoints sorted by name, and per slot the index of its endpoint (−1: no endpoint). */
export interface SlotTable {
  endpoints: MaglevEndpoint[];
  slots: Int32Array;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Exact table: endpoint i (sorted) holds weight_i / gcd consecutive slots; undefined when that exceeds the cap. */
export function exactTable(sortedEndpoints: readonly MaglevEndpoint[]): Int32Array | undefined {
  let g = 0;
  for (const e of sortedEndpoints) g = gcd(g, e.weight ?? 1);
  if (g === 0) return new Int32Array(0);
  let m = 0;
  for (const e of sortedEndpoints) m += (e.weight ?? 1) / g;
  if (m > MAX_TABLE_SIZE) return undefined;
  const slots = new Int32Array(m);
  let at = 0;
  sortedEndpoints.forEach((e, i) => {
    const k = (e.weight ?? 1) / g;
    slots.fill(i, at, at + k);
    at += k;
  });
  return slots;
}

export interface TableBuilderOptions {
  /** Worker threads for big Maglev batches; 0 computes everything on the calling thread (default 1). */
  threads?: number;
  /** Maglev batches with at least this many slots go to the pool (a pool round trip costs ~40 µs). */
  poolThresholdSlots?: number;
  /** Use the TS twin instead of Wasm (tests and hosts without build/lb.wasm). */
  typescriptOnly?: boolean;
  /** M ≥ slotsPerEndpoint × N for Maglev tables (default 8: shares within (k+1)/k = 12.5%). */
  slotsPerEndpoint?: number;
}

export class TableBuilder {
  #pool: Piscina | undefined;
  #kernel: LbKernel | undefined;
  readonly #options: Required<TableBuilderOptions>;

  constructor(options: TableBuilderOptions = {}) {
    this.#options = {
      threads: options.threads ?? 1,
      poolThresholdSlots: options.poolThresholdSlots ?? 20_000,
      typescriptOnly: options.typescriptOnly ?? false,
      slotsPerEndpoint: options.slotsPerEndpoint ?? 8,
    };
  }

  #fill(input: Int32Array): Int32Array {
    if (this.#options.typescriptOnly) return fillBatchTs(input);
    this.#kernel ??= new LbKernel();
    return this.#kernel.fillBatch(input);
  }

  /** Computes every table; Maglev ones in one batch (in the pool when big). Output order = input order. */
  async build(specs: readonly TableSpec[]): Promise<SlotTable[]> {
    const result: SlotTable[] = new Array(specs.length);
    const maglev: { index: number; endpoints: MaglevEndpoint[] }[] = [];
    const inputs = [];
    let slots = 0;
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const endpoints = sortEndpoints(spec.endpoints);
      if (spec.kind === 'exact') {
        const table = exactTable(endpoints);
        if (table) {
          result[i] = { endpoints, slots: table };
          continue;
        }
      }
      const m = spec.m ?? defaultTableSize(endpoints.length, this.#options.slotsPerEndpoint);
      maglev.push({ index: i, endpoints });
      inputs.push(flattenTable(endpoints, m));
      slots += m;
    }
    if (inputs.length > 0) {
      const input = encodeBatch(inputs);
      let output: Int32Array;
      if (!this.#options.typescriptOnly && this.#options.threads > 0 && slots >= this.#options.poolThresholdSlots) {
        this.#pool ??= createPool({
          worker: new URL('./worker.js', import.meta.url),
          threads: this.#options.threads,
        });
        output = (await this.#pool.run(Piscina.move(input))) as Int32Array;
      } else {
        output = this.#fill(input);
      }
      const tables = splitOutput(inputs, output);
      maglev.forEach((t, k) => (result[t.index] = { endpoints: t.endpoints, slots: tables[k]! }));
    }
    return result;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) await pool.destroy();
  }
}
