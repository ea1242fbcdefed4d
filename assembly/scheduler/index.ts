// The scheduler's hot loops over a struct-of-arrays node table: resource fit, resource scores, normalisation,
// weighted sums, the seeded tie-break, and a per-equivalence-class score index updated one node at a time.
//
// Memory is laid out by the TypeScript side (src/scheduler/engine/layout.ts); every kernel works on raw pointers.
// The readable spec of every formula is src/scheduler/plugins/ (the TS reference); the engine test compares them.

// ---- node table (set once per layout by setTable) -------------------------------------------------------------------

/** Resource slots: fixed ones first, then extended/scalar resources interned by the TS side. */
const SLOT_PODS: i32 = 3;
/** Slots per node (and length of a class's C_POD_REQ): 4 fixed + 28 extended resources. */
const MAX_SLOTS: i32 = 32;

let nCap: i32 = 0; // node slots
let allocPtr: usize = 0; // i64[slot * nCap + n] allocatable
let reqPtr: usize = 0; // i64[slot * nCap + n] requested (plain sums; slot 3 counts pods)
let nzPtr: usize = 0; // i64[slot * nCap + n] non-zero requested for slots 0 (cpu) and 1 (memory)
let hashPtr: usize = 0; // u32[n] fnv1a32(node name)
let rankPtr: usize = 0; // i32[n] position of the node in name order
let presentPtr: usize = 0; // i32[n] 1 when the slot holds a node

export function setTable(
  cap: i32,
  alloc: usize,
  req: usize,
  nz: usize,
  hash: usize,
  rank: usize,
  present: usize,
): void {
  nCap = cap;
  allocPtr = alloc;
  reqPtr = req;
  nzPtr = nz;
  hashPtr = hash;
  rankPtr = rank;
  presentPtr = present;
}

/** Slots handed out, rounded up to a multiple of 4: every slot from here to nCap is absent (never held a node), so
 * per-pod passes that only look at present nodes stop here. */
let nScan: i32 = 0;

export function setUsed(used: i32): void {
  nScan = min<i32>(nCap, (used + 3) & ~3);
}

function alloc(slot: i32, n: i32): i64 {
  return load<i64>(allocPtr + ((<usize>(slot * nCap + n)) << 3));
}
function req(slot: i32, n: i32): i64 {
  return load<i64>(reqPtr + ((<usize>(slot * nCap + n)) << 3));
}
function nz(slot: i32, n: i32): i64 {
  return load<i64>(nzPtr + ((<usize>(slot * nCap + n)) << 3));
}
function present(n: i32): bool {
  return load<i32>(presentPtr + ((<usize>n) << 2)) != 0;
}

// ---- equivalence class struct (field offsets mirrored in src/scheduler/engine/layout.ts) ----------------------------

const C_CHECK_COUNT: usize = 0; // i32: resource slots NodeResourcesFit's filter checks (pods is always checked)
const C_CHECK_SLOTS: usize = 4; // ptr i32[]
const C_POD_REQ: usize = 8; // ptr i64[slot]: the pod's requests (filter)
const C_STRATEGY: usize = 12; // i32: 0 LeastAllocated, 1 MostAllocated, 2 RequestedToCapacityRatio
const C_FIT_COUNT: usize = 16; // i32: scoring resources
const C_FIT_SLOTS: usize = 20; // ptr i32[]: slot, or -1 when the resource is bypassed for this pod
const C_FIT_WEIGHTS: usize = 24; // ptr i64[]
const C_FIT_REQ: usize = 28; // ptr i64[]: the pod's request per scoring resource (non-zero defaults applied)
const C_FIT_NZ: usize = 32; // ptr i32[]: 1 when the node's non-zero sums are used (cpu, memory)
const C_BAL_COUNT: usize = 36; // i32
const C_BAL_SLOTS: usize = 40; // ptr i32[] (-1 bypassed)
const C_BAL_REQ: usize = 44; // ptr i64[]
const C_SHAPE_COUNT: usize = 48; // i32: RequestedToCapacityRatio shape points
const C_SHAPE_UTIL: usize = 52; // ptr i64[]
const C_SHAPE_SCORE: usize = 56; // ptr i64[] (already scaled to 0..100)
const C_W_FIT: usize = 60; // i32 weights; 0 when the plugin is off or skipped for this pod
const C_W_BAL: usize = 64;
const C_W_TAINT: usize = 68;
const C_W_AFF: usize = 72;
const C_W_IMG: usize = 76;
const C_STATIC: usize = 80; // ptr i32[n]: first failing static filter's code (0 = passes)
const C_TAINT_RAW: usize = 84; // ptr i32[n]: untolerated PreferNoSchedule taints
const C_AFF_RAW: usize = 88; // ptr i32[n]: sum of matching preferred node-affinity weights
const C_IMG: usize = 92; // ptr i32[n]: ImageLocality score (needs no normalisation)
const C_EXTRA_STATUS: usize = 96; // ptr i32[n]: code of a filter evaluated outside (0 = passes)
const C_EXTRA_SCORE: usize = 100; // ptr i32[n]: weighted scores computed outside, added to the total
const C_FIT_CODE: usize = 104; // i32: NodeResourcesFit's code (codes are profile filter positions, lower runs first)
const C_SCORE: usize = 108; // ptr i32[n]: current total, -1 when infeasible
const C_FAIL: usize = 112; // ptr i32[n]: failure code | insufficient-slot mask << 8 (0 = feasible)
const C_BUCKETS: usize = 116; // ptr u32[(maxTotal+1) * words]: bitset of nodes per total score
const C_BUCKET_COUNT: usize = 120; // ptr i32[maxTotal+1]
const C_MAX_TOTAL: usize = 124; // i32
const C_TOP: usize = 128; // i32: highest non-empty bucket, -1 when none
const C_HIST_T: usize = 132; // ptr i32[histT]: feasible nodes per taint raw value
const C_HIST_T_LEN: usize = 136;
const C_MAX_T: usize = 140; // i32: the max taint raw the totals were computed with
const C_HIST_A: usize = 144;
const C_HIST_A_LEN: usize = 148;
const C_MAX_A: usize = 152;
const C_FEASIBLE: usize = 156; // i32: feasible node count
const C_TAINT_ON: usize = 160; // i32: TaintToleration scores (normalised, reversed)
const C_AFF_ON: usize = 164; // i32: NodeAffinity scores (normalised)
const C_OUT_FIT: usize = 168; // ptr i32[n]: per-plugin outputs of scanClass (for explain)
const C_OUT_BAL: usize = 172;
const C_OUT_TAINT: usize = 176;
const C_OUT_AFF: usize = 180;
const C_BAL_ON: usize = 184; // i32: BalancedAllocation scores this pod (not best-effort)
const C_FIT_ON: usize = 188; // i32: NodeResourcesFit scores
const C_NZ_REQ: usize = 192; // ptr i64[2]: the pod's non-zero cpu and memory requests
const C_PD_STATUS: usize = 196; // ptr i32[n]: PodTopologySpread/InterPodAffinity failure code (0 = passes)
const C_PD_SCORE: usize = 200; // ptr i32[n]: their weighted scores
const C_TOP_NODES: usize = 204; // ptr i32[n]: the top bucket's nodes as a list (when C_TOP_VALID)
const C_TOP_HASH: usize = 208; // ptr u32[n]: their name hashes, in list order
const C_TOP_POS: usize = 212; // ptr i32[n]: a listed node's position in the list
const C_TOP_LEN: usize = 216; // i32
const C_TOP_VALID: usize = 220; // i32: 1 when the list holds exactly the nodes of bucket C_TOP
/** Bytes of the class header. */
export const CLASS_BYTES: i32 = 224;

function gi(c: usize, off: usize): i32 {
  return load<i32>(c + off);
}
function gp(c: usize, off: usize): usize {
  return <usize>load<u32>(c + off);
}
function si(c: usize, off: usize, v: i32): void {
  store<i32>(c + off, v);
}
function arrI(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}
function setI(p: usize, i: i32, v: i32): void {
  store<i32>(p + ((<usize>i) << 2), v);
}
function arrL(p: usize, i: i32): i64 {
  return load<i64>(p + ((<usize>i) << 3));
}

// ---- NodeResourcesFit filter ----------------------------------------------------------------------------------------

/** Bitmask of resource slots the node lacks for the pod (upstream fit.go fitsRequest); 0 when it fits. */
export function insufficient(c: usize, n: i32): i32 {
  let mask: i32 = 0;
  if (req(SLOT_PODS, n) + 1 > alloc(SLOT_PODS, n)) mask |= 1 << SLOT_PODS;
  const count = gi(c, C_CHECK_COUNT);
  const slots = gp(c, C_CHECK_SLOTS);
  const podReq = gp(c, C_POD_REQ);
  for (let i = 0; i < count; i++) {
    const s = arrI(slots, i);
    if (arrL(podReq, s) > alloc(s, n) - req(s, n)) mask |= 1 << s;
  }
  return mask;
}

// ---- NodeResourcesFit scores ----------------------------------------------------------------------------------------

function shapeScore(c: usize, utilization: i64): i64 {
  // Broken-linear function through the shape points (upstream helper.BuildBrokenLinearFunction).
  const count = gi(c, C_SHAPE_COUNT);
  const util = gp(c, C_SHAPE_UTIL);
  const score = gp(c, C_SHAPE_SCORE);
  for (let i = 0; i < count; i++) {
    const u = arrL(util, i);
    if (utilization <= u) {
      if (i == 0) return arrL(score, 0);
      const u0 = arrL(util, i - 1);
      const s0 = arrL(score, i - 1);
      return s0 + ((arrL(score, i) - s0) * (utilization - u0)) / (u - u0);
    }
  }
  return arrL(score, count - 1);
}

/** The scoring strategy's score for node n (upstream least_allocated.go / most_allocated.go / requested_to_capacity_ratio.go). */
export function fitScore(c: usize, n: i32): i32 {
  const count = gi(c, C_FIT_COUNT);
  const slots = gp(c, C_FIT_SLOTS);
  const weights = gp(c, C_FIT_WEIGHTS);
  const podReq = gp(c, C_FIT_REQ);
  const useNz = gp(c, C_FIT_NZ);
  const strategy = gi(c, C_STRATEGY);
  let nodeScore: i64 = 0;
  let weightSum: i64 = 0;
  for (let i = 0; i < count; i++) {
    const s = arrI(slots, i);
    if (s < 0) continue;
    const a = alloc(s, n);
    if (a == 0) continue;
    const r = (arrI(useNz, i) != 0 ? nz(s, n) : req(s, n)) + arrL(podReq, i);
    const w = arrL(weights, i);
    if (strategy == 0) {
      nodeScore += (r > a ? 0 : ((a - r) * 100) / a) * w;
      weightSum += w;
    } else if (strategy == 1) {
      nodeScore += (((r > a ? a : r) * 100) / a) * w;
      weightSum += w;
    } else {
      const sc = shapeScore(c, r > a ? 100 : (r * 100) / a);
      if (sc > 0) {
        nodeScore += sc * w;
        weightSum += w;
      }
    }
  }
  if (weightSum == 0) return 0;
  // RequestedToCapacityRatio rounds half up (math.Round on a positive value); the others truncate.
  if (strategy == 2) return <i32>((2 * nodeScore + weightSum) / (2 * weightSum));
  return <i32>(nodeScore / weightSum);
}

/** NodeResourcesBalancedAllocation (std-dev formula of v1.33–v1.35), bit-identical float64 arithmetic. */
export function balancedScore(c: usize, n: i32): i32 {
  const count = gi(c, C_BAL_COUNT);
  const slots = gp(c, C_BAL_SLOTS);
  const podReq = gp(c, C_BAL_REQ);
  let k: i32 = 0;
  let total: f64 = 0;
  let f0: f64 = 0;
  let f1: f64 = 0;
  for (let i = 0; i < count; i++) {
    const s = arrI(slots, i);
    if (s < 0) continue;
    const a = alloc(s, n);
    if (a == 0) continue;
    let f = <f64>(req(s, n) + arrL(podReq, i)) / <f64>a;
    if (f > 1) f = 1;
    total += f;
    if (k == 0) f0 = f;
    else if (k == 1) f1 = f;
    k++;
  }
  let std: f64 = 0;
  if (k == 2) {
    std = Math.abs((f0 - f1) / 2);
  } else if (k > 2) {
    const mean = total / <f64>k;
    let sum: f64 = 0;
    for (let i = 0; i < count; i++) {
      const s = arrI(slots, i);
      if (s < 0) continue;
      const a = alloc(s, n);
      if (a == 0) continue;
      let f = <f64>(req(s, n) + arrL(podReq, i)) / <f64>a;
      if (f > 1) f = 1;
      sum = sum + (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / <f64>k);
  }
  return <i32>(<i64>((1.0 - std) * 100.0));
}

// ---- per-node evaluation --------------------------------------------------------------------------------------------

/** Failure of node n for class c: 0 when feasible, else the first failing filter's code | insufficient mask << 8. */
function failure(c: usize, n: i32): i32 {
  let code: i32 = arrI(gp(c, C_STATIC), n);
  const extra = arrI(gp(c, C_EXTRA_STATUS), n);
  if (extra != 0 && (code == 0 || extra < code)) code = extra;
  const fitCode = gi(c, C_FIT_CODE);
  if (code == 0 || fitCode < code) {
    const mask = insufficient(c, n);
    if (mask != 0) return fitCode | (mask << 8);
  }
  return code;
}

function normTaint(raw: i32, maxT: i32): i32 {
  // DefaultNormalizeScore(reverse): all 100 when the max is 0.
  if (maxT == 0) return 100;
  return 100 - <i32>((<i64>100 * <i64>raw) / <i64>maxT);
}

function normAff(raw: i32, maxA: i32): i32 {
  if (maxA == 0) return 0;
  return <i32>((<i64>100 * <i64>raw) / <i64>maxA);
}

/** Total of node n assuming it is feasible, with the given normalisation maxima; also stores per-plugin outputs. */
function totalOf(c: usize, n: i32, maxT: i32, maxA: i32, record: bool): i32 {
  const fit = gi(c, C_FIT_ON) != 0 ? fitScore(c, n) : 0;
  const bal = gi(c, C_BAL_ON) != 0 ? balancedScore(c, n) : 0;
  const t = gi(c, C_TAINT_ON) != 0 ? normTaint(arrI(gp(c, C_TAINT_RAW), n), maxT) : 0;
  const a = gi(c, C_AFF_ON) != 0 ? normAff(arrI(gp(c, C_AFF_RAW), n), maxA) : 0;
  if (record) {
    setI(gp(c, C_OUT_FIT), n, fit);
    setI(gp(c, C_OUT_BAL), n, bal);
    setI(gp(c, C_OUT_TAINT), n, t);
    setI(gp(c, C_OUT_AFF), n, a);
  }
  return (
    gi(c, C_W_FIT) * fit +
    gi(c, C_W_BAL) * bal +
    gi(c, C_W_TAINT) * t +
    gi(c, C_W_AFF) * a +
    gi(c, C_W_IMG) * arrI(gp(c, C_IMG), n) +
    arrI(gp(c, C_EXTRA_SCORE), n)
  );
}

// ---- tie-break (src/scheduler/tiebreak.ts) --------------------------------------------------------------------------

function fmix32(x: u32): u32 {
  let h = x;
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

/** fmix32 on four lanes at once (the vector twin of fmix32 above; small enough for the optimiser to inline). */
function fmix32x4(x: v128): v128 {
  let h = v128.xor(x, i32x4.shr_u(x, 16));
  h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** The key mergeLanes chose (0 when it returned -1). */
let mergedKey: u32 = 0;

/**
 * Merges lane-wise maxima (keys in maxV, positions in idxV, -1 for a lane that saw no candidate): the position with
 * the highest key, the lower lane on equal keys; -1 when no lane saw one. Its key is left in mergedKey.
 */
function mergeLanes(idxV: v128, maxV: v128): i32 {
  let best: i32 = -1;
  let bestKey: u32 = 0;
  const n0 = i32x4.extract_lane(idxV, 0);
  const k0 = <u32>i32x4.extract_lane(maxV, 0);
  if (n0 >= 0) {
    best = n0;
    bestKey = k0;
  }
  const n1 = i32x4.extract_lane(idxV, 1);
  const k1 = <u32>i32x4.extract_lane(maxV, 1);
  if (n1 >= 0 && (best < 0 || k1 > bestKey)) {
    best = n1;
    bestKey = k1;
  }
  const n2 = i32x4.extract_lane(idxV, 2);
  const k2 = <u32>i32x4.extract_lane(maxV, 2);
  if (n2 >= 0 && (best < 0 || k2 > bestKey)) {
    best = n2;
    bestKey = k2;
  }
  const n3 = i32x4.extract_lane(idxV, 3);
  const k3 = <u32>i32x4.extract_lane(maxV, 3);
  if (n3 >= 0 && (best < 0 || k3 > bestKey)) {
    best = n3;
    bestKey = k3;
  }
  mergedKey = bestKey;
  return best;
}

/** Set by the TS side: 1 when two present nodes share a name hash. fmix32 is a bijection, so keys of distinct nodes
 * can tie only then; without duplicates a lane-wise SIMD maximum of the keys is exact. */
let hashDuplicates: i32 = 1;

export function setHashDuplicates(flag: i32): void {
  hashDuplicates = flag;
}

/** The scalar twin of bestOfBitset (same result; kept to measure what SIMD buys and to test against). */
export function bestOfBitsetScalar(bits: usize, words: i32, salt: u32): i32 {
  let best: i32 = -1;
  let bestKey: u32 = 0;
  for (let w = 0; w < words; w++) {
    let word = load<u32>(bits + ((<usize>w) << 2));
    while (word != 0) {
      const n = (w << 5) + <i32>ctz(word);
      word &= word - 1;
      const key = fmix32(salt ^ load<u32>(hashPtr + ((<usize>n) << 2)));
      if (beatsBest(key, n, best, bestKey)) {
        best = n;
        bestKey = key;
      }
    }
  }
  return best;
}

/** Scalar tie-break step: does node n (key) beat the current best? */
function beatsBest(key: u32, n: i32, best: i32, bestKey: u32): bool {
  return best < 0 || key > bestKey || (key == bestKey && arrI(rankPtr, n) < arrI(rankPtr, best));
}

/**
 * Among the nodes of a bitset, the one with the highest key fmix32(salt ^ nodeHash); equal keys: lower name rank.
 * Dense words hash four nodes per SIMD step and only drop to scalar code for lanes that could beat the best so far
 * (which happens O(log n) times for random keys); sparse words are walked bit by bit.
 */
export function bestOfBitset(bits: usize, words: i32, salt: u32): i32 {
  let best: i32 = -1;
  let bestKey: u32 = 0;
  const saltV = i32x4.splat(salt);
  const laneBits = i32x4(1, 2, 4, 8);
  const zero = i32x4.splat(0);
  for (let w = 0; w < words; w++) {
    let word = load<u32>(bits + ((<usize>w) << 2));
    if (word == 0) continue;
    if (popcnt(word) <= 6) {
      while (word != 0) {
        const n = (w << 5) + <i32>ctz(word);
        word &= word - 1;
        const key = fmix32(salt ^ load<u32>(hashPtr + ((<usize>n) << 2)));
        if (beatsBest(key, n, best, bestKey)) {
          best = n;
          bestKey = key;
        }
      }
      continue;
    }
    for (let j = 0; j < 8; j++) {
      const nib = (word >> ((<u32>j) << 2)) & 0xf;
      if (nib == 0) continue;
      const n0 = (w << 5) + (j << 2);
      const h = fmix32x4(v128.xor(v128.load(hashPtr + ((<usize>n0) << 2)), saltV));
      const member = i32x4.ne(v128.and(i32x4.splat(nib), laneBits), zero);
      const masked = v128.and(h, member);
      if (best >= 0 && !v128.any_true(i32x4.ge_u(masked, i32x4.splat(bestKey)))) continue;
      for (let k = 0; k < 4; k++) {
        if ((nib & (1 << k)) == 0) continue;
        const n = n0 + k;
        const key = fmix32(salt ^ load<u32>(hashPtr + ((<usize>n) << 2)));
        if (beatsBest(key, n, best, bestKey)) {
          best = n;
          bestKey = key;
        }
      }
    }
  }
  return best;
}

// ---- full scan ------------------------------------------------------------------------------------------------------

/**
 * Evaluates every node for class c as the framework would for one pod: filters, then scores of the feasible nodes
 * normalised over them. Fills C_FAIL, C_SCORE (-1 infeasible) and the per-plugin outputs; returns the chosen node
 * (-1 when none is feasible). Absent slots get fail -1.
 */
export function scanClass(c: usize, salt: u32): i32 {
  const fail = gp(c, C_FAIL);
  const score = gp(c, C_SCORE);
  const taintRaw = gp(c, C_TAINT_RAW);
  const affRaw = gp(c, C_AFF_RAW);
  let maxT: i32 = 0;
  let maxA: i32 = 0;
  let feasible: i32 = 0;
  for (let n = 0; n < nCap; n++) {
    if (!present(n)) {
      setI(fail, n, -1);
      continue;
    }
    const f = failure(c, n);
    setI(fail, n, f);
    if (f == 0) {
      feasible++;
      const t = arrI(taintRaw, n);
      if (t > maxT) maxT = t;
      const a = arrI(affRaw, n);
      if (a > maxA) maxA = a;
    }
  }
  let best: i32 = -1;
  let bestScore: i32 = 0;
  let bestKey: u32 = 0;
  for (let n = 0; n < nCap; n++) {
    if (arrI(fail, n) != 0) {
      setI(score, n, -1);
      continue;
    }
    const s = totalOf(c, n, maxT, maxA, true);
    setI(score, n, s);
    const key = fmix32(salt ^ load<u32>(hashPtr + ((<usize>n) << 2)));
    if (
      best < 0 ||
      s > bestScore ||
      (s == bestScore && (key > bestKey || (key == bestKey && arrI(rankPtr, n) < arrI(rankPtr, best))))
    ) {
      best = n;
      bestScore = s;
      bestKey = key;
    }
  }
  si(c, C_FEASIBLE, feasible);
  si(c, C_MAX_T, maxT);
  si(c, C_MAX_A, maxA);
  return best;
}

/** Filters only: fills C_FAIL for every slot (-1 absent) and returns the number of feasible nodes. */
export function filterClass(c: usize): i32 {
  const fail = gp(c, C_FAIL);
  let feasible: i32 = 0;
  for (let n = 0; n < nCap; n++) {
    if (!present(n)) {
      setI(fail, n, -1);
      continue;
    }
    const f = failure(c, n);
    setI(fail, n, f);
    if (f == 0) feasible++;
  }
  return feasible;
}

/**
 * The decision for a pod whose PodTopologySpread/InterPodAffinity results (C_PD_STATUS, C_PD_SCORE) were computed
 * outside, on top of an up-to-date index (C_FAIL and C_SCORE of every node). Returns the chosen node, -1 when none
 * is feasible, or -2 when the final feasible set normalises TaintToleration/NodeAffinity differently from the
 * index (the caller then scans in full). SIMD: one pass for the maxima, one for the tie-break among the top nodes.
 */
export function bestWithPodScores(c: usize, salt: u32): i32 {
  const fail = gp(c, C_FAIL);
  const pdStatus = gp(c, C_PD_STATUS);
  const pdScore = gp(c, C_PD_SCORE);
  const score = gp(c, C_SCORE);
  const taintRaw = gp(c, C_TAINT_RAW);
  const affRaw = gp(c, C_AFF_RAW);
  const zero = i32x4.splat(0);
  const none = i32x4.splat(i32.MIN_VALUE);
  let maxTV = zero;
  let maxAV = zero;
  let topV = none;
  for (let n = 0; n < nScan; n += 4) {
    const o = (<usize>n) << 2;
    const feasible = v128.and(i32x4.eq(v128.load(fail + o), zero), i32x4.eq(v128.load(pdStatus + o), zero));
    maxTV = i32x4.max_s(maxTV, v128.and(v128.load(taintRaw + o), feasible));
    maxAV = i32x4.max_s(maxAV, v128.and(v128.load(affRaw + o), feasible));
    const total = i32x4.add(v128.load(score + o), v128.load(pdScore + o));
    topV = i32x4.max_s(topV, v128.bitselect(total, none, feasible));
  }
  if (hmaxS(maxTV) != gi(c, C_MAX_T) || hmaxS(maxAV) != gi(c, C_MAX_A)) return -2;
  const top = hmaxS(topV);
  if (top == i32.MIN_VALUE) return -1;
  if (hashDuplicates == 0) {
    const best = bestKeyAtTotal(c, salt, top);
    if (best >= 0) return best;
  }
  // Exact scalar walk (equal keys possible, or the only top node has key 0).
  let best: i32 = -1;
  let bestKey: u32 = 0;
  for (let n = 0; n < nScan; n++) {
    if (arrI(fail, n) != 0 || arrI(pdStatus, n) != 0) continue;
    if (arrI(score, n) + arrI(pdScore, n) != top) continue;
    const key = fmix32(salt ^ load<u32>(hashPtr + ((<usize>n) << 2)));
    if (beatsBest(key, n, best, bestKey)) {
      best = n;
      bestKey = key;
    }
  }
  return best;
}

function hmaxS(v: v128): i32 {
  const a = max<i32>(i32x4.extract_lane(v, 0), i32x4.extract_lane(v, 1));
  const b = max<i32>(i32x4.extract_lane(v, 2), i32x4.extract_lane(v, 3));
  return max<i32>(a, b);
}

/**
 * The highest-key node among the feasible ones whose total is `top` (distinct keys assumed: no duplicate hashes);
 * lane-wise maxima of the keys and their nodes, merged at the end. -1 when the only candidates have key 0.
 */
function bestKeyAtTotal(c: usize, salt: u32, top: i32): i32 {
  const fail = gp(c, C_FAIL);
  const pdStatus = gp(c, C_PD_STATUS);
  const pdScore = gp(c, C_PD_SCORE);
  const score = gp(c, C_SCORE);
  const zero = i32x4.splat(0);
  const topV = i32x4.splat(top);
  const saltV = i32x4.splat(salt);
  const four = i32x4.splat(4);
  let cur = i32x4(0, 1, 2, 3);
  let maxV = zero;
  let idxV = i32x4.splat(-1);
  for (let n = 0; n < nScan; n += 4) {
    const o = (<usize>n) << 2;
    const feasible = v128.and(i32x4.eq(v128.load(fail + o), zero), i32x4.eq(v128.load(pdStatus + o), zero));
    const member = v128.and(feasible, i32x4.eq(i32x4.add(v128.load(score + o), v128.load(pdScore + o)), topV));
    if (v128.any_true(member)) {
      const h = fmix32x4(v128.xor(v128.load(hashPtr + o), saltV));
      const gt = v128.and(i32x4.gt_u(h, maxV), member);
      maxV = v128.bitselect(h, maxV, gt);
      idxV = v128.bitselect(cur, idxV, gt);
    }
    cur = i32x4.add(cur, four);
  }
  return mergeLanes(idxV, maxV);
}

// ---- pod-dependent filters (src/scheduler/engine/pod-relations.ts writes the programs) ----------------------------
//
// For a pod decided on its class index: which nodes that pass every other filter (C_FAIL 0) PodTopologySpread or
// InterPodAffinity rejects. Only the decision needs them, so a rejection is recorded as C_PD_STATUS 1 whatever the
// plugin (the TS twin with reasons runs for explain and unschedulable messages). Programs are i32 words; every per-node
// array has nCap entries, domain maps hold a topology domain id per node (-1: the node lacks the key).

/**
 * PodTopologySpread's Filter (DoNotSchedule constraints). Program:
 * [constraints K, keys Kk, includedByAffinity ptr u8[n], includedByTaints ptr u8[n],
 *  Kk × (domains ptr, domain count, counts scratch ptr i32[count], present scratch ptr i32[count]),
 *  K × (key index, matching pods ptr i32[n], honor affinity, honor taints, maxSkew, minDomains, self match)]
 */
export function spreadFilter(c: usize, prog: usize): void {
  const k = arrI(prog, 0);
  const kk = arrI(prog, 1);
  if (k == 1) {
    spreadFilterOne(c, prog);
    return;
  }
  const incAff = <usize>arrI(prog, 2);
  const incTaint = <usize>arrI(prog, 3);
  const keys = prog + 16;
  const cons = keys + ((<usize>kk) << 4);
  for (let j = 0; j < kk; j++) {
    const kp = keys + ((<usize>j) << 4);
    const count = arrI(kp, 1);
    memory.fill(<usize>arrI(kp, 2), 0, (<usize>count) << 2);
    memory.fill(<usize>arrI(kp, 3), 0, (<usize>count) << 2);
  }
  // pairCounts: matching pods per domain over the nodes that have every key and are included (the last included
  // constraint of a key counts a node, as upstream overwrites the per-node entry).
  for (let n = 0; n < nScan; n++) {
    if (!present(n)) continue;
    let all = true;
    for (let i = 0; i < k; i++) {
      const cp = cons + <usize>(i * 28);
      const kp = keys + ((<usize>arrI(cp, 0)) << 4);
      if (arrI(<usize>arrI(kp, 0), n) < 0) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    const aff = load<u8>(incAff + <usize>n) != 0;
    const taint = load<u8>(incTaint + <usize>n) != 0;
    for (let i = 0; i < k; i++) {
      const cp = cons + <usize>(i * 28);
      if ((arrI(cp, 2) != 0 && !aff) || (arrI(cp, 3) != 0 && !taint)) continue;
      const key = arrI(cp, 0);
      let overwritten = false;
      for (let j = i + 1; j < k; j++) {
        const cj = cons + <usize>(j * 28);
        if (arrI(cj, 0) == key && !((arrI(cj, 2) != 0 && !aff) || (arrI(cj, 3) != 0 && !taint))) {
          overwritten = true;
          break;
        }
      }
      if (overwritten) continue;
      const kp = keys + ((<usize>key) << 4);
      const d = arrI(<usize>arrI(kp, 0), n);
      const counts = <usize>arrI(kp, 2);
      setI(counts, d, arrI(counts, d) + arrI(<usize>arrI(cp, 1), n));
      setI(<usize>arrI(kp, 3), d, 1);
    }
  }
  // Per constraint: maxSkew + minMatch - self as one bound (minMatch 0 below minDomains), over its self word.
  for (let i = 0; i < k; i++) {
    const cp = cons + <usize>(i * 28);
    const kp = keys + ((<usize>arrI(cp, 0)) << 4);
    const count = arrI(kp, 1);
    const counts = <usize>arrI(kp, 2);
    const pres = <usize>arrI(kp, 3);
    let domains: i32 = 0;
    let min: i32 = i32.MAX_VALUE;
    for (let d = 0; d < count; d++)
      if (arrI(pres, d) != 0) {
        domains++;
        const x = arrI(counts, d);
        if (x < min) min = x;
      }
    const minMatch = domains < arrI(cp, 5) || domains == 0 ? 0 : min;
    setI(cp, 6, arrI(cp, 4) + minMatch - arrI(cp, 6));
  }
  const fail = gp(c, C_FAIL);
  const pd = gp(c, C_PD_STATUS);
  for (let n = 0; n < nScan; n++) {
    if (!present(n) || arrI(fail, n) != 0 || arrI(pd, n) != 0) continue;
    for (let i = 0; i < k; i++) {
      const cp = cons + <usize>(i * 28);
      const kp = keys + ((<usize>arrI(cp, 0)) << 4);
      const d = arrI(<usize>arrI(kp, 0), n);
      if (d < 0) {
        setI(pd, n, 1);
        break;
      }
      const matchNum = arrI(<usize>arrI(kp, 3), d) != 0 ? arrI(<usize>arrI(kp, 2), d) : 0;
      if (matchNum > arrI(cp, 6)) {
        setI(pd, n, 1);
        break;
      }
    }
  }
}

/** spreadFilter for one constraint: the same steps without the per-key bookkeeping, in tight loops. */
function spreadFilterOne(c: usize, prog: usize): void {
  const incAff = <usize>arrI(prog, 2);
  const incTaint = <usize>arrI(prog, 3);
  const kp = prog + 16;
  const cp = kp + 16;
  const dom = <usize>arrI(kp, 0);
  const count = arrI(kp, 1);
  const counts = <usize>arrI(kp, 2);
  const pres = <usize>arrI(kp, 3);
  const matching = <usize>arrI(cp, 1);
  const honorAff = arrI(cp, 2) != 0;
  const honorTaint = arrI(cp, 3) != 0;
  memory.fill(counts, 0, (<usize>count) << 2);
  memory.fill(pres, 0, (<usize>count) << 2);
  for (let n = 0; n < nScan; n++) {
    if (!present(n)) continue;
    const d = arrI(dom, n);
    if (d < 0) continue;
    if (honorAff && load<u8>(incAff + <usize>n) == 0) continue;
    if (honorTaint && load<u8>(incTaint + <usize>n) == 0) continue;
    setI(counts, d, arrI(counts, d) + arrI(matching, n));
    setI(pres, d, 1);
  }
  let domains: i32 = 0;
  let min: i32 = i32.MAX_VALUE;
  for (let d = 0; d < count; d++)
    if (arrI(pres, d) != 0) {
      domains++;
      const x = arrI(counts, d);
      if (x < min) min = x;
    }
  const minMatch = domains < arrI(cp, 5) || domains == 0 ? 0 : min;
  const bound = arrI(cp, 4) + minMatch - arrI(cp, 6);
  const fail = gp(c, C_FAIL);
  const pd = gp(c, C_PD_STATUS);
  for (let n = 0; n < nScan; n++) {
    if (arrI(fail, n) != 0 || arrI(pd, n) != 0) continue;
    const d = arrI(dom, n);
    if (d < 0 || (arrI(pres, d) != 0 ? arrI(counts, d) : 0) > bound) setI(pd, n, 1);
  }
}

/**
 * PodTopologySpread's Filter when the matching pods per domain are already known (constraints on distinct keys).
 * Program: [K, K × (domains ptr, matching pods per domain ptr, bound = maxSkew + minMatch - self)]. A node fails
 * when it lacks a key or its domain's count exceeds the bound.
 */
export function spreadCheck(c: usize, prog: usize): void {
  const k = arrI(prog, 0);
  const fail = gp(c, C_FAIL);
  const pd = gp(c, C_PD_STATUS);
  for (let i = 0; i < k; i++) {
    const cp = prog + 4 + <usize>(i * 12);
    const dom = <usize>arrI(cp, 0);
    const counts = <usize>arrI(cp, 1);
    const bound = arrI(cp, 2);
    for (let n = 0; n < nScan; n++) {
      if (arrI(fail, n) != 0 || arrI(pd, n) != 0) continue;
      const d = arrI(dom, n);
      if (d < 0 || arrI(counts, d) > bound) setI(pd, n, 1);
    }
  }
}

/**
 * InterPodAffinity's Filter. Program: [affinity keys A, anti-affinity keys B, existing anti-affinity keys E,
 * allowFirst, (A + B + E) × (domains ptr, matching pods per domain ptr, domain count, domain starts ptr, domain
 * members ptr)]. A node fails when an affinity key is missing, or when some affinity key's domain has no matching pod
 * (unless allowFirst), or when an (existing) anti-affinity domain has one. The outcome is one bit per node, so the
 * terms are walked one at a time: affinity over all nodes (C_PD_STATUS 2 marks "no matching pod yet" until they are
 * done), anti-affinity over the domains that have matching pods (skipped four empty ones per SIMD step), marking
 * their nodes.
 */
export function affinityFilter(c: usize, prog: usize): void {
  const a = arrI(prog, 0);
  const b = arrI(prog, 1);
  const e = arrI(prog, 2);
  const allowFirst = arrI(prog, 3) != 0;
  const terms = prog + 16;
  const fail = gp(c, C_FAIL);
  const pd = gp(c, C_PD_STATUS);
  for (let i = 0; i < a; i++) {
    const tp = terms + <usize>(i * 20);
    const dom = <usize>arrI(tp, 0);
    const counts = <usize>arrI(tp, 1);
    for (let n = 0; n < nScan; n++) {
      if (arrI(fail, n) != 0 || (arrI(pd, n) & 1) != 0) continue;
      const d = arrI(dom, n);
      if (d < 0) setI(pd, n, 1);
      else if (arrI(counts, d) <= 0) setI(pd, n, 2);
    }
  }
  if (a > 0)
    for (let n = 0; n < nScan; n++) {
      const v = arrI(pd, n);
      if (v == 2) setI(pd, n, allowFirst ? 0 : 1);
    }
  for (let i = a; i < a + b + e; i++) {
    const tp = terms + <usize>(i * 20);
    const counts = <usize>arrI(tp, 1);
    const domains = arrI(tp, 2);
    const starts = <usize>arrI(tp, 3);
    const members = <usize>arrI(tp, 4);
    let d: i32 = 0;
    for (; d + 4 <= domains; d += 4) {
      if (!v128.any_true(v128.load(counts + ((<usize>d) << 2)))) continue;
      for (let k = d; k < d + 4; k++) if (arrI(counts, k) > 0) markDomain(pd, starts, members, k);
    }
    for (; d < domains; d++) if (arrI(counts, d) > 0) markDomain(pd, starts, members, d);
  }
}

function markDomain(pd: usize, starts: usize, members: usize, d: i32): void {
  const end = arrI(starts, d + 1);
  for (let j = arrI(starts, d); j < end; j++) setI(pd, arrI(members, j), 1);
}

// ---- incremental index ----------------------------------------------------------------------------------------------

function words(): i32 {
  return (nCap + 31) >> 5;
}

function bucketAdd(c: usize, s: i32, n: i32): void {
  const bits = gp(c, C_BUCKETS) + ((<usize>(s * words() + (n >> 5))) << 2);
  store<u32>(bits, load<u32>(bits) | (1 << ((<u32>n) & 31)));
  const counts = gp(c, C_BUCKET_COUNT);
  setI(counts, s, arrI(counts, s) + 1);
  const top = gi(c, C_TOP);
  if (s > top) {
    si(c, C_TOP, s);
    si(c, C_TOP_VALID, 0);
  } else if (s == top && gi(c, C_TOP_VALID) != 0) {
    const len = gi(c, C_TOP_LEN);
    setI(gp(c, C_TOP_NODES), len, n);
    store<u32>(gp(c, C_TOP_HASH) + ((<usize>len) << 2), load<u32>(hashPtr + ((<usize>n) << 2)));
    setI(gp(c, C_TOP_POS), n, len);
    si(c, C_TOP_LEN, len + 1);
  }
}

function bucketRemove(c: usize, s: i32, n: i32): void {
  const bits = gp(c, C_BUCKETS) + ((<usize>(s * words() + (n >> 5))) << 2);
  store<u32>(bits, load<u32>(bits) & ~(1 << ((<u32>n) & 31)));
  const counts = gp(c, C_BUCKET_COUNT);
  const left = arrI(counts, s) - 1;
  setI(counts, s, left);
  if (s == gi(c, C_TOP) && gi(c, C_TOP_VALID) != 0) {
    // Swap-remove n from the list.
    const nodes = gp(c, C_TOP_NODES);
    const hashes = gp(c, C_TOP_HASH);
    const pos = gp(c, C_TOP_POS);
    const last = gi(c, C_TOP_LEN) - 1;
    const at = arrI(pos, n);
    const moved = arrI(nodes, last);
    setI(nodes, at, moved);
    store<u32>(hashes + ((<usize>at) << 2), load<u32>(hashes + ((<usize>last) << 2)));
    setI(pos, moved, at);
    si(c, C_TOP_LEN, last);
  }
  if (left == 0 && s == gi(c, C_TOP)) {
    si(c, C_TOP_VALID, 0);
    let top = s - 1;
    while (top >= 0 && arrI(counts, top) == 0) top--;
    si(c, C_TOP, top);
  }
}

function histAdd(p: usize, v: i32, d: i32): void {
  setI(p, v, arrI(p, v) + d);
}

function histMax(p: usize, len: i32): i32 {
  for (let v = len - 1; v > 0; v--) if (arrI(p, v) != 0) return v;
  return 0;
}

/** Rebuilds class c's index from scratch (a full scan); the index then equals scanClass's result. */
export function rebuildIndex(c: usize): void {
  const maxTotal = gi(c, C_MAX_TOTAL);
  memory.fill(gp(c, C_BUCKETS), 0, (<usize>((maxTotal + 1) * words())) << 2);
  memory.fill(gp(c, C_BUCKET_COUNT), 0, (<usize>(maxTotal + 1)) << 2);
  memory.fill(gp(c, C_HIST_T), 0, (<usize>gi(c, C_HIST_T_LEN)) << 2);
  memory.fill(gp(c, C_HIST_A), 0, (<usize>gi(c, C_HIST_A_LEN)) << 2);
  si(c, C_TOP, -1);
  si(c, C_TOP_VALID, 0);
  scanClass(c, 0);
  const score = gp(c, C_SCORE);
  const histT = gp(c, C_HIST_T);
  const histA = gp(c, C_HIST_A);
  for (let n = 0; n < nCap; n++) {
    const s = arrI(score, n);
    if (s < 0) continue;
    bucketAdd(c, s, n);
    histAdd(histT, arrI(gp(c, C_TAINT_RAW), n), 1);
    histAdd(histA, arrI(gp(c, C_AFF_RAW), n), 1);
  }
}

/**
 * Re-evaluates node n for class c after its state changed. Returns 1 when the normalisation maxima moved (the caller
 * must rebuild: every node's normalised scores changed), else 0 with the index updated in O(1).
 */
export function refreshNode(c: usize, n: i32): i32 {
  const score = gp(c, C_SCORE);
  const old = arrI(score, n);
  const f = present(n) ? failure(c, n) : -1;
  setI(gp(c, C_FAIL), n, f);
  const histT = gp(c, C_HIST_T);
  const histA = gp(c, C_HIST_A);
  const t = arrI(gp(c, C_TAINT_RAW), n);
  const a = arrI(gp(c, C_AFF_RAW), n);
  const wasFeasible = old >= 0;
  const isFeasible = f == 0;
  if (wasFeasible != isFeasible) {
    const d: i32 = isFeasible ? 1 : -1;
    histAdd(histT, t, d);
    histAdd(histA, a, d);
    si(c, C_FEASIBLE, gi(c, C_FEASIBLE) + d);
    if (
      histMax(histT, gi(c, C_HIST_T_LEN)) != gi(c, C_MAX_T) ||
      histMax(histA, gi(c, C_HIST_A_LEN)) != gi(c, C_MAX_A)
    ) {
      return 1;
    }
  }
  if (wasFeasible) bucketRemove(c, old, n);
  if (isFeasible) {
    const s = totalOf(c, n, gi(c, C_MAX_T), gi(c, C_MAX_A), false);
    setI(score, n, s);
    bucketAdd(c, s, n);
  } else {
    setI(score, n, -1);
  }
  return 0;
}

/** The node the index chooses for a pod with this tie salt (-1 when no node is feasible). */
export function bestIndexed(c: usize, salt: u32): i32 {
  const top = gi(c, C_TOP);
  if (top < 0) return -1;
  if (hashDuplicates != 0) return bestOfBitset(gp(c, C_BUCKETS) + ((<usize>(top * words())) << 2), words(), salt);
  if (gi(c, C_TOP_VALID) == 0) listTop(c, top);
  const best = bestOfList(gp(c, C_TOP_NODES), gp(c, C_TOP_HASH), gi(c, C_TOP_LEN), salt);
  if (best >= 0) return best;
  // Only a key-0 node was left out by the lane maxima: the exact walk.
  return bestOfBitset(gp(c, C_BUCKETS) + ((<usize>(top * words())) << 2), words(), salt);
}

/** Lists the nodes of bucket `top` (and their hashes) for bestOfList; kept by bucketAdd/bucketRemove after. */
function listTop(c: usize, top: i32): void {
  const bits = gp(c, C_BUCKETS) + ((<usize>(top * words())) << 2);
  const nodes = gp(c, C_TOP_NODES);
  const hashes = gp(c, C_TOP_HASH);
  const pos = gp(c, C_TOP_POS);
  let len: i32 = 0;
  for (let w = 0; w < words(); w++) {
    let word = load<u32>(bits + ((<usize>w) << 2));
    while (word != 0) {
      const n = (w << 5) + <i32>ctz(word);
      word &= word - 1;
      setI(nodes, len, n);
      store<u32>(hashes + ((<usize>len) << 2), load<u32>(hashPtr + ((<usize>n) << 2)));
      setI(pos, n, len);
      len++;
    }
  }
  si(c, C_TOP_LEN, len);
  si(c, C_TOP_VALID, 1);
}

/**
 * The node with the highest key fmix32(salt ^ hash) among `len` listed nodes, assuming distinct keys (no duplicate
 * hashes). Sixteen keys per step: four SIMD hashes folded into one lane-wise maximum that is compared with the best
 * key so far; only a block holding a better key is walked by scalar code (for random keys a new best appears
 * O(log len) times), so the loop carries no compare-and-select chain from one step to the next. -1 when the only
 * candidate has key 0 (never above the initial best) or the list is empty.
 */
export function bestOfList(nodes: usize, hashes: usize, len: i32, salt: u32): i32 {
  const saltV = i32x4.splat(salt);
  let bestV = i32x4.splat(0);
  let best: i32 = -1;
  let bestKey: u32 = 0;
  const whole = len & ~15;
  for (let i = 0; i < whole; i += 16) {
    const p = hashes + ((<usize>i) << 2);
    const h0 = fmix32x4(v128.xor(v128.load(p), saltV));
    const h1 = fmix32x4(v128.xor(v128.load(p, 16), saltV));
    const h2 = fmix32x4(v128.xor(v128.load(p, 32), saltV));
    const h3 = fmix32x4(v128.xor(v128.load(p, 48), saltV));
    const m = i32x4.max_u(i32x4.max_u(h0, h1), i32x4.max_u(h2, h3));
    if (!v128.any_true(i32x4.gt_u(m, bestV))) continue;
    for (let k = 0; k < 16; k++) {
      const key = fmix32(salt ^ load<u32>(p + ((<usize>k) << 2)));
      if (key > bestKey) {
        best = i + k;
        bestKey = key;
      }
    }
    bestV = i32x4.splat(bestKey);
  }
  for (let i = whole; i < len; i++) {
    const key = fmix32(salt ^ load<u32>(hashes + ((<usize>i) << 2)));
    if (key > bestKey) {
      best = i;
      bestKey = key;
    }
  }
  return best < 0 ? -1 : arrI(nodes, best);
}

/**
 * Adds (sign 1) or removes (sign -1) a pod on node n: podReq is i64[MAX_SLOTS] of its requests by slot (slot 3 is
 * ignored: every pod counts 1 there), nzReq i64[2] its non-zero cpu and memory requests.
 */
export function applyPod(podReq: usize, nzReq: usize, n: i32, sign: i32): void {
  const d = <i64>sign;
  for (let s: i32 = 0; s < MAX_SLOTS; s++) {
    const q = s == SLOT_PODS ? 1 : arrL(podReq, s);
    if (q != 0) {
      const p = reqPtr + ((<usize>(s * nCap + n)) << 3);
      store<i64>(p, load<i64>(p) + d * q);
    }
  }
  for (let s: i32 = 0; s < 2; s++) {
    const p = nzPtr + ((<usize>(s * nCap + n)) << 3);
    store<i64>(p, load<i64>(p) + d * arrL(nzReq, s));
  }
}

/** A pod's tie salt from the seed and its key hash: the kernel twin of podTieSalt (src/scheduler/tiebreak.ts). */
export function tieSalt(seed: u32, podHash: u32): u32 {
  return fmix32(seed ^ podHash);
}

/**
 * Schedules `count` pods of class c one after another on its index (the class must not depend on other pods: no
 * host ports, spread constraints or pod affinity): pod i, whose key hash is podHashes[i], takes the best node for its
 * tie salt, is added to that node and the node re-indexed before pod i + 1 is decided. Writes the chosen slots to
 * out[i] and returns how many pods were placed; it stops at the first pod no node fits (the caller explains that one
 * with a full scan).
 */
export function scheduleRun(c: usize, podHashes: usize, seed: u32, out: usize, count: i32): i32 {
  const podReq = gp(c, C_POD_REQ);
  const nzReq = gp(c, C_NZ_REQ);
  for (let i = 0; i < count; i++) {
    const n = bestIndexed(c, tieSalt(seed, load<u32>(podHashes + ((<usize>i) << 2))));
    if (n < 0) return i;
    setI(out, i, n);
    applyPod(podReq, nzReq, n, 1);
    if (refreshNode(c, n) != 0) rebuildIndex(c);
  }
  return count;
}

/** First byte the TS side may lay data out from (the module has no managed heap: --runtime stub, no data). */
export function heapBase(): usize {
  return __heap_base;
}
