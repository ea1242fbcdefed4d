// The Wasm engine's memory layout: a bump arena over the module's linear memory, the node table's arrays and the
// equivalence-class header (offsets mirror assembly/scheduler/index.ts).
import type { WasmInstance } from '../../wasm/loader.js';

/** Resource slots of the node table: fixed ones, then extended/scalar resources interned in order of appearance. */
export const SLOT_CPU = 0;
export const SLOT_MEMORY = 1;
export const SLOT_EPHEMERAL = 2;
export const SLOT_PODS = 3;
export const FIXED_SLOTS = 4;
export const MAX_SLOTS = 32;

/** Byte offsets of the class header fields (assembly/scheduler/index.ts C_*). */
export const C = {
  CHECK_COUNT: 0,
  CHECK_SLOTS: 4,
  POD_REQ: 8,
  STRATEGY: 12,
  FIT_COUNT: 16,
  FIT_SLOTS: 20,
  FIT_WEIGHTS: 24,
  FIT_REQ: 28,
  FIT_NZ: 32,
  BAL_COUNT: 36,
  BAL_SLOTS: 40,
  BAL_REQ: 44,
  SHAPE_COUNT: 48,
  SHAPE_UTIL: 52,
  SHAPE_SCORE: 56,
  W_FIT: 60,
  W_BAL: 64,
  W_TAINT: 68,
  W_AFF: 72,
  W_IMG: 76,
  STATIC: 80,
  TAINT_RAW: 84,
  AFF_RAW: 88,
  IMG: 92,
  EXTRA_STATUS: 96,
  EXTRA_SCORE: 100,
  FIT_CODE: 104,
  SCORE: 108,
  FAIL: 112,
  BUCKETS: 116,
  BUCKET_COUNT: 120,
  MAX_TOTAL: 124,
  TOP: 128,
  HIST_T: 132,
  HIST_T_LEN: 136,
  MAX_T: 140,
  HIST_A: 144,
  HIST_A_LEN: 148,
  MAX_A: 152,
  FEASIBLE: 156,
  TAINT_ON: 160,
  AFF_ON: 164,
  OUT_FIT: 168,
  OUT_BAL: 172,
  OUT_TAINT: 176,
  OUT_AFF: 180,
  BAL_ON: 184,
  FIT_ON: 188,
  NZ_REQ: 192,
  PD_STATUS: 196,
  PD_SCORE: 200,
  TOP_NODES: 204,
  TOP_HASH: 208,
  TOP_POS: 212,
  TOP_LEN: 216,
  TOP_VALID: 220,
} as const;
export const CLASS_BYTES = 224;

/** The kernels' exports (assembly/scheduler/index.ts). */
export interface SchedulerKernels {
  heapBase(): number;
  setTable(cap: number, alloc: number, req: number, nz: number, hash: number, rank: number, present: number): void;
  insufficient(c: number, n: number): number;
  fitScore(c: number, n: number): number;
  balancedScore(c: number, n: number): number;
  scanClass(c: number, salt: number): number;
  filterClass(c: number): number;
  bestWithPodScores(c: number, salt: number): number;
  rebuildIndex(c: number): void;
  refreshNode(c: number, n: number): number;
  bestIndexed(c: number, salt: number): number;
  applyPod(podReq: number, nzReq: number, n: number, sign: number): void;
  scheduleRun(c: number, podHashes: number, seed: number, out: number, count: number): number;
  tieSalt(seed: number, podHash: number): number;
  spreadFilter(c: number, prog: number): void;
  spreadCheck(c: number, prog: number): void;
  setHashDuplicates(flag: number): void;
  setUsed(used: number): void;
  affinityFilter(c: number, prog: number): void;
}

/** A bump allocator over linear memory; regions are never freed one by one, only all at once with reset(). */
export class Arena {
  #next: number;
  readonly #base: number;
  /**
   * Bytes from here on were never handed out, so they are still zero (Wasm memory starts and grows zeroed, and
   * nothing but the arena writes above heapBase). alloc() clears only below it: a new class header's large, mostly
   * unused bucket bitsets then cost neither a fill nor the page faults it would cause.
   */
  #clean: number;

  constructor(readonly wasm: WasmInstance<SchedulerKernels>) {
    this.#base = align(wasm.exports.heapBase(), 16);
    this.#next = this.#base;
    this.#clean = this.#base;
  }

  /** Zeroed bytes, 16-byte aligned. */
  alloc(bytes: number): number {
    const ptr = this.#next;
    this.#next = align(ptr + Math.max(bytes, 0), 16);
    const have = this.wasm.memory.buffer.byteLength;
    if (this.#next > have) this.wasm.memory.grow(Math.ceil((this.#next - have) / 65536));
    if (ptr < this.#clean) this.wasm.views.u8.fill(0, ptr, Math.min(this.#next, this.#clean));
    if (this.#next > this.#clean) this.#clean = this.#next;
    return ptr;
  }

  /** Forgets every allocation (the caller re-lays everything out). */
  reset(): void {
    this.#next = this.#base;
  }

  get used(): number {
    return this.#next - this.#base;
  }
}

function align(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}
