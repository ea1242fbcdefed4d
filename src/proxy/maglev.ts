// Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4): the readable TypeScript twin of assembly/lb.
//
// Every endpoint gets a permutation of the M slots from two hashes of its name (offset, skip); endpoints take
// turns claiming their next preferred free slot until the table is full. Endpoints are sorted by name first,
// so every node computes the same table for the same set. Weights: an endpoint earns `weight` credits per
// turn and claims one slot per `maxWeight` credits (the turn-skipping idea Cilium's Maglev uses).

import { fmix32, fnv1a32 } from '../lib/hash.js';

/** One endpoint in a table: a stable name (e.g. "10.1.2.3:8080") and a relative weight (default 1). */
export interface MaglevEndpoint {
  name: string;
  weight?: number;
}

/** Flattened inputs of one table: parallel arrays in sorted-name order, as the Wasm kernel takes them. */
export interface MaglevInput {
  m: number;
  offsets: Int32Array;
  skips: Int32Array;
  weights: Int32Array;
}

/** FNV-1a over the UTF-8 bytes with a seeded basis, finished with murmur3's fmix32 for avalanche in the low bits. */
export function hashName(name: string, seed: number): number {
  return fmix32(fnv1a32(name, 0x811c9dc5 ^ seed));
}

// Two independent hash seeds for offset and skip; fixed so every node agrees.
const OFFSET_SEED = 0x5f3759df;
const SKIP_SEED = 0x2545f491;

/** Endpoints in the canonical (name) order every node uses; duplicates by name are an input error. */
export function sortEndpoints(endpoints: readonly MaglevEndpoint[]): MaglevEndpoint[] {
  const sorted = [...endpoints].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.name === sorted[i - 1]!.name) throw new Error(`duplicate Maglev endpoint "${sorted[i]!.name}"`);
  }
  return sorted;
}

/** offset = h1 mod M, skip = h2 mod (M−1) + 1 (paper §3.4); M = 1 degenerates to the single slot. */
export function flattenTable(sorted: readonly MaglevEndpoint[], m: number): MaglevInput {
  if (!Number.isInteger(m) || m < 1) throw new Error(`Maglev table size must be a positive integer, got ${m}`);
  const n = sorted.length;
  const offsets = new Int32Array(n);
  const skips = new Int32Array(n);
  const weights = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const e = sorted[i]!;
    const w = e.weight ?? 1;
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw new Error(`Maglev weight of "${e.name}" must be 0..65535`);
    offsets[i] = m === 1 ? 0 : hashName(e.name, OFFSET_SEED) % m;
    skips[i] = m === 1 ? 1 : (hashName(e.name, SKIP_SEED) % (m - 1)) + 1;
    weights[i] = w;
  }
  return { m, offsets, skips, weights };
}

/**
 * The population loop (the kernel): fills `table` (length M) with endpoint indexes, −1 everywhere when no endpoint
 * has a positive weight. Returns the number of filled slots (M or 0).
 */
export function fillTable(input: MaglevInput, table: Int32Array): number {
  const { m, offsets, skips, weights } = input;
  const n = offsets.length;
  table.fill(-1, 0, m);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) if (weights[i]! > maxWeight) maxWeight = weights[i]!;
  if (n === 0 || maxWeight <= 0) return 0;
  const position = Int32Array.from(offsets); // each endpoint's current place in its permutation
  const credit = new Int32Array(n);
  let filled = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      credit[i]! += weights[i]!;
      if (credit[i]! < maxWeight) continue;
      credit[i]! -= maxWeight;
      let c = position[i]!;
      // A prime M and 1 ≤ skip < M make each permutation visit every slot, so a free one is always found.
      while (table[c]! >= 0) {
        c += skips[i]!;
        if (c >= m) c -= m;
      }
      table[c] = i;
      c += skips[i]!;
      if (c >= m) c -= m;
      position[i] = c;
      if (++filled === m) return m;
    }
  }
}

/** The table for an endpoint set, as indexes into the returned name-sorted endpoint list. */
export function maglevTable(
  endpoints: readonly MaglevEndpoint[],
  m: number,
): { endpoints: MaglevEndpoint[]; table: Int32Array } {
  const sorted = sortEndpoints(endpoints);
  const table = new Int32Array(m);
  fillTable(flattenTable(sorted, m), table);
  return { endpoints: sorted, table };
}

export function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}

/**
 * The table sizes the data plane uses: 1 (a single endpoint needs a single slot), then primes about 25% apart up to
 * MAX_TABLE_SIZE. A ladder (not any prime) keeps the number of static dispatch chains small: one per size.
 */
export const MAX_TABLE_SIZE = 4093;
export const TABLE_SIZES: readonly number[] = (() => {
  const sizes = [1];
  for (let p = nextPrime(7); p < MAX_TABLE_SIZE; p = nextPrime(Math.ceil(p * 1.25))) sizes.push(p);
  sizes.push(MAX_TABLE_SIZE);
  return sizes;
})();

/**
 * Slots per endpoint for the default size. Unweighted Maglev gives every endpoint ⌊M/N⌋ or ⌈M/N⌉ slots, so
 * M ≥ k·N bounds the max/min share by (k+1)/k: k = 8 keeps random spreading within 12.5% while a full sync of
 * 10,000 services × 10 endpoints stays near 1M kernel map elements (M = 83–103 per service). Consistent hashing
 * quality for ClientIP affinity (≤ 1/N + a few % moved on a change) needs larger M; callers may pass their own.
 */
export const SLOTS_PER_ENDPOINT = 8;

/** The default M for n endpoints (total weight in units of the smallest weight for weighted sets). */
export function defaultTableSize(n: number, slotsPerEndpoint = SLOTS_PER_ENDPOINT): number {
  if (n <= 1) return 1;
  const want = n * slotsPerEndpoint;
  for (const size of TABLE_SIZES) if (size >= want) return size;
  return MAX_TABLE_SIZE;
}
