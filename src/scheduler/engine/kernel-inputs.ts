// Per-pod inputs of the pod-dependent filter kernels in linear memory: a bump region reused from its start for every
// pod, plus per-id regions for arrays that are replaced rather than changed (topology domain maps).
import type { Arena } from './layout.js';
import type { WasmPut } from './pod-relations.js';

export class KernelInputs implements WasmPut {
  #ptr = 0;
  #cap = 0;
  #used = 0;
  #nCap = 0;
  readonly #lasting = new Map<string, { arr: Int32Array | Uint8Array; ptr: number; bytes: number }>();

  constructor(readonly arena: Arena) {}

  /** Starts one pod's inputs; `relaid` after the arena was reset (every address handed out before is void). */
  begin(nCap: number, relaid: boolean): this {
    if (relaid) {
      this.#cap = 0;
      this.#lasting.clear();
    }
    this.#nCap = nCap;
    this.#used = 0;
    return this;
  }

  #take(bytes: number): number {
    const size = Math.ceil(Math.max(bytes, 4) / 16) * 16;
    if (this.#used + size > this.#cap) {
      // A bigger region; addresses handed out before stay valid (the arena never frees one by one).
      this.#cap = Math.max(2 * this.#cap, this.#used + size, 1 << 16);
      this.#ptr = this.arena.alloc(this.#cap);
      this.#used = 0;
    }
    const at = this.#ptr + this.#used;
    this.#used += size;
    return at;
  }

  #copy(at: number, arr: Int32Array | Uint8Array, pad: number): void {
    const n = this.#nCap;
    const len = Math.min(arr.length, n);
    const src = len === arr.length ? arr : arr.subarray(0, len);
    const views = this.arena.wasm.views;
    if (arr instanceof Uint8Array) {
      views.u8.set(src, at);
      views.u8.fill(pad, at + len, at + n);
    } else {
      views.i32.set(src, at / 4);
      views.i32.fill(pad, at / 4 + len, at / 4 + n);
    }
  }

  lasting(id: string, arr: Int32Array | Uint8Array, pad: number): number {
    let entry = this.#lasting.get(id);
    if (entry?.arr === arr) return entry.ptr;
    if (!entry) this.#lasting.set(id, (entry = { arr, ptr: this.arena.alloc(4 * this.#nCap), bytes: 4 * this.#nCap }));
    entry.arr = arr;
    this.#copy(entry.ptr, arr, pad);
    return entry.ptr;
  }

  lastingWords(id: string, arr: Int32Array): number {
    let entry = this.#lasting.get(id);
    if (entry?.arr === arr) return entry.ptr;
    if (!entry || entry.bytes < 4 * arr.length) {
      // Grows only: a key's arrays have at most one entry per node (plus one).
      const bytes = Math.max(4 * arr.length, 4 * this.#nCap + 4);
      this.#lasting.set(id, (entry = { arr, ptr: this.arena.alloc(bytes), bytes }));
    }
    entry.arr = arr;
    this.arena.wasm.views.i32.set(arr, entry.ptr / 4);
    return entry.ptr;
  }

  slots(arr: Int32Array | Uint8Array, pad: number): number {
    const at = this.#take(arr instanceof Uint8Array ? this.#nCap : 4 * this.#nCap);
    this.#copy(at, arr, pad);
    return at;
  }

  zeros(count: number): number {
    const at = this.#take(4 * count);
    this.arena.wasm.views.i32.fill(0, at / 4, at / 4 + Math.max(count, 1));
    return at;
  }

  words(words: ArrayLike<number>): number {
    const at = this.#take(4 * words.length);
    const i32 = this.arena.wasm.views.i32;
    if (words instanceof Int32Array) i32.set(words, at / 4);
    else for (let i = 0; i < words.length; i++) i32[at / 4 + i] = words[i]!;
    return at;
  }
}
