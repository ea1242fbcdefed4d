// Maglev table population (Eisenbud et al., NSDI 2016, §3.4) over flat i32 arrays; twin of src/proxy/maglev.ts.
//
// Memory layout is chosen by the caller (JS): a batch descriptor of `count` records
// [m, n, offsetsPtr, skipsPtr, weightsPtr, outPtr] (i32 each) and one scratch area of 2·maxN i32 for the
// per-endpoint permutation position and weight credit. Built with the stub runtime: no allocator, no GC.

/** First free byte after static data: the caller lays out its buffers from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** Fills one table of m slots with endpoint indexes (−1 when no endpoint has weight); returns filled slots. */
export function fillTable(
  m: i32,
  n: i32,
  offsets: usize,
  skips: usize,
  weights: usize,
  out: usize,
  scratch: usize,
): i32 {
  for (let s = 0; s < m; s++) store<i32>(out + ((<usize>s) << 2), -1);
  let maxWeight: i32 = 0;
  for (let i = 0; i < n; i++) {
    const w = load<i32>(weights + ((<usize>i) << 2));
    if (w > maxWeight) maxWeight = w;
  }
  if (n == 0 || maxWeight <= 0) return 0;
  const position = scratch;
  const credit = scratch + ((<usize>n) << 2);
  for (let i = 0; i < n; i++) {
    store<i32>(position + ((<usize>i) << 2), load<i32>(offsets + ((<usize>i) << 2)));
    store<i32>(credit + ((<usize>i) << 2), 0);
  }
  let filled: i32 = 0;
  while (true) {
    for (let i = 0; i < n; i++) {
      const ci = credit + ((<usize>i) << 2);
      const c0 = load<i32>(ci) + load<i32>(weights + ((<usize>i) << 2));
      if (c0 < maxWeight) {
        store<i32>(ci, c0);
        continue;
      }
      store<i32>(ci, c0 - maxWeight);
      const skip = load<i32>(skips + ((<usize>i) << 2));
      const pi = position + ((<usize>i) << 2);
      let c = load<i32>(pi);
      // Prime m and 1 ≤ skip < m: every permutation visits every slot, so a free one is always found.
      while (load<i32>(out + ((<usize>c) << 2)) >= 0) {
        c += skip;
        if (c >= m) c -= m;
      }
      store<i32>(out + ((<usize>c) << 2), i);
      c += skip;
      if (c >= m) c -= m;
      store<i32>(pi, c);
      filled++;
      if (filled == m) return m;
    }
  }
  return filled;
}

/** Fills `count` tables described at `batch` (6 i32 per table, see above); returns the total filled slots. */
export function fillBatch(batch: usize, count: i32, scratch: usize): i32 {
  let total: i32 = 0;
  for (let t = 0; t < count; t++) {
    const d = batch + <usize>t * 24;
    total += fillTable(
      load<i32>(d),
      load<i32>(d + 4),
      <usize>load<i32>(d + 8),
      <usize>load<i32>(d + 12),
      <usize>load<i32>(d + 16),
      <usize>load<i32>(d + 20),
      scratch,
    );
  }
  return total;
}
