// Deterministic tie-break among nodes with the same total score, reproducible bit for bit by the Wasm engine.
//
// Upstream picks uniformly at random among the max-score nodes (schedule_one.go selectHost, reservoir sampling).
// skiff replaces the random draw with a seeded hash so a run is repeatable:
//   podHash  = fnv1a32(utf8("namespace/name"))        computed once per pod
//   nodeHash = fnv1a32(utf8(nodeName))                computed once per node (at upsertNode)
//   key      = fmix32(fmix32((seed ^ podHash) >>> 0) ^ nodeHash)
// Among the nodes with the highest total score the one with the highest key wins; if two keys are equal the node
// whose name sorts first (UTF-16 code unit order, i.e. JS `<`) wins. All arithmetic is unsigned 32-bit.

const encoder = new TextEncoder();

/** FNV-1a, 32-bit, over the UTF-8 bytes of the string. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a cheap full-avalanche mix. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The per-pod part of the key: depends only on the seed and the pod. */
export function podTieSalt(seed: number, podHash: number): number {
  return fmix32((seed ^ podHash) >>> 0);
}

/** The tie-break key of one node for one pod (higher wins). */
export function tieKey(podSalt: number, nodeHash: number): number {
  return fmix32((podSalt ^ nodeHash) >>> 0);
}

/** True when candidate (score, key, name) beats the current best; the reference engine's selection rule. */
export function beats(
  score: number,
  key: number,
  name: string,
  bestScore: number,
  bestKey: number,
  bestName: string,
): boolean {
  if (score !== bestScore) return score > bestScore;
  if (key !== bestKey) return key > bestKey;
  return name < bestName;
}
