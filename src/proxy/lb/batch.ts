// The flat wire format of a batch of Maglev tables, shared by the main thread, the TS twin and the Wasm worker.
//
// input  = [count, then per table: m, n, offsets[n], skips[n], weights[n]]   (Int32Array, transferable)
// output = the tables back to back, Σ m slots, each an endpoint index or −1     (Int32Array, transferable)
import { fillTable, type MaglevInput } from '../maglev.js';

export function encodeBatch(tables: readonly MaglevInput[]): Int32Array {
  let size = 1;
  for (const t of tables) size += 2 + 3 * t.offsets.length;
  const input = new Int32Array(size);
  input[0] = tables.length;
  let at = 1;
  for (const t of tables) {
    const n = t.offsets.length;
    input[at++] = t.m;
    input[at++] = n;
    input.set(t.offsets, at);
    input.set(t.skips, at + n);
    input.set(t.weights, at + 2 * n);
    at += 3 * n;
  }
  return input;
}

/** Walks the input, calling `visit` with each table's fields (views into `input`, no copies). */
export function forEachTable(
  input: Int32Array,
  visit: (m: number, n: number, fieldsAt: number, outAt: number) => void,
): number {
  const count = input[0] ?? 0;
  let at = 1;
  let outAt = 0;
  for (let t = 0; t < count; t++) {
    const m = input[at]!;
    const n = input[at + 1]!;
    if (!(m >= 1) || !(n >= 0) || at + 2 + 3 * n > input.length) throw new Error('malformed Maglev batch');
    visit(m, n, at + 2, outAt);
    at += 2 + 3 * n;
    outAt += m;
  }
  return outAt;
}

/** The TS twin of the Wasm batch entry point. */
export function fillBatchTs(input: Int32Array): Int32Array {
  const total = forEachTable(input, () => {});
  const output = new Int32Array(total);
  forEachTable(input, (m, n, f, outAt) => {
    const table: MaglevInput = {
      m,
      offsets: input.subarray(f, f + n),
      skips: input.subarray(f + n, f + 2 * n),
      weights: input.subarray(f + 2 * n, f + 3 * n),
    };
    fillTable(table, output.subarray(outAt, outAt + m));
  });
  return output;
}

/** Splits a batch output into one table per input, in order. */
export function splitOutput(tables: readonly MaglevInput[], output: Int32Array): Int32Array[] {
  const result: Int32Array[] = [];
  let at = 0;
  for (const t of tables) {
    result.push(output.subarray(at, at + t.m));
    at += t.m;
  }
  return result;
}
