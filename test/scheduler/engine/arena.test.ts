// The bump allocator hands out zeroed, aligned regions: fresh memory (grown or never used) and memory reused after
// reset() alike, although it clears only what was handed out before.
import t from 'tap';
import { loadWasm } from '../../../src/wasm/loader.js';
import { Arena, type SchedulerKernels } from '../../../src/scheduler/engine/layout.js';

t.test('every region is zero when handed out, before and after reset()', (t) => {
  const w = loadWasm<SchedulerKernels>('scheduler');
  const arena = new Arena(w);
  const dirty = (ptr: number, bytes: number) => w.views.u8.fill(0xab, ptr, ptr + bytes);
  const zero = (ptr: number, bytes: number) => w.views.u8.subarray(ptr, ptr + bytes).every((b) => b === 0);
  const a = arena.alloc(1000);
  const b = arena.alloc(3 * 65536); // grows the memory
  t.equal(a % 16, 0, 'aligned');
  t.ok(b >= a + 1000, 'regions do not overlap');
  t.ok(zero(a, 1000) && zero(b, 3 * 65536), 'fresh regions are zero');
  dirty(a, 1000);
  dirty(b, 3 * 65536);
  arena.reset();
  // Reused regions, one straddling the end of what was handed out before.
  const c = arena.alloc(500);
  const d = arena.alloc(4 * 65536);
  t.equal(c, a, 'reset starts over');
  t.ok(zero(c, 500), 'a reused region is cleared');
  t.ok(zero(d, 4 * 65536), 'a region reaching past the old end is cleared where it was used');
  dirty(d, 4 * 65536);
  arena.reset();
  const e = arena.alloc(5 * 65536);
  t.ok(zero(e, 5 * 65536), 'cleared again after a second reset');
  t.end();
});
