// Deterministic tie-break among nodes with the same total score, reproducible bit for bit by the Wasm engine.
//
// Upstream picks uniformly at random among the max-score nodes (schedule_one.go selectHost, reservoir sampling).
// skiff replaces the random draw with a seeded hash so a run is repeatable:
//   podHash  = fnv1a32(utf8("namespace/name"))        computed once per pod
//   nodeHash = fnv1a32(utf8(nodeName))                computed once per node (at upsertNode)
//   key      = fmix32(fmix32((seed ^ podHash) >>> 0) ^ nodeHash)
// Among the nodes with the highest total score the one with the highest key wins; if two keys are equal the node
// whose name sorts first (UTF-16 code unit order, i.e. JS `<`) wins. All arithmetic is unsigned 32-bit.

import { fmix32, fnv1a32 } from '../lib/hash.js';

export { fmix32, fnv1a32 };

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
