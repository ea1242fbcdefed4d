// Runs a Maglev batch (see batch.ts) through build/lb.wasm: copies inputs into linear memory, fills, copies out.
import { loadWasm, type WasmInstance } from '../../wasm/index.js';
import { forEachTable } from './batch.js';

interface LbExports {
  heapBase(): number;
  fillBatch(batch: number, count: number, scratch: number): number;
}

const PAGE = 65536;

export class LbKernel {
  readonly #wasm: WasmInstance<LbExports>;
  readonly #base: number;

  constructor(wasm: WasmInstance<LbExports> = loadWasm<LbExports>('lb')) {
    this.#wasm = wasm;
    this.#base = (wasm.exports.heapBase() + 15) & ~15;
  }

  #ensure(bytes: number): void {
    const memory = this.#wasm.memory;
    const need = this.#base + bytes;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
  }

  fillBatch(input: Int32Array): Int32Array {
    const count = input[0] ?? 0;
    let maxN = 0;
    const total = forEachTable(input, (_m, n) => {
      if (n > maxN) maxN = n;
    });
    // Layout (bytes from base): descriptors (24 per table) | input copy | output | scratch (2·maxN i32).
    const descAt = this.#base;
    const inputAt = descAt + count * 24;
    const outAt = inputAt + input.length * 4;
    const scratchAt = outAt + total * 4;
    this.#ensure(scratchAt + maxN * 8 - this.#base);
    const i32 = this.#wasm.views.i32;
    i32.set(input, inputAt >> 2);
    let t = 0;
    forEachTable(input, (m, n, f, o) => {
      const d = (descAt >> 2) + t * 6;
      const fields = inputAt + f * 4;
      i32[d] = m;
      i32[d + 1] = n;
      i32[d + 2] = fields;
      i32[d + 3] = fields + n * 4;
      i32[d + 4] = fields + n * 8;
      i32[d + 5] = outAt + o * 4;
      t++;
    });
    this.#wasm.exports.fillBatch(descAt, count, scratchAt);
    return this.#wasm.views.i32.slice(outAt >> 2, (outAt >> 2) + total);
  }
}
