import t from 'tap';
import { createPool, resolveWorker } from '../../src/wasm/pool.js';
import { tinyWasmBytes } from './fixtures/tiny-wasm.js';

t.test('resolveWorker falls back from .js to the .ts twin', (t) => {
  const url = new URL('./fixtures/tiny-worker.js', import.meta.url);
  t.match(resolveWorker(url), /tiny-worker\.ts$/);
  t.throws(() => resolveWorker(new URL('./fixtures/missing.js', import.meta.url)), /not found/);
  t.end();
});

t.test('a pool runs tasks in a worker with a compiled module from workerData', async (t) => {
  const pool = createPool({
    worker: new URL('./fixtures/tiny-worker.js', import.meta.url),
    workerData: { module: new WebAssembly.Module(tinyWasmBytes), offset: 1000 },
    threads: 1,
  });
  try {
    t.equal(pool.options.minThreads, 1);
    t.equal(pool.options.maxThreads, 1);
    t.equal(pool.options.idleTimeout, Infinity);
    const results = await Promise.all([1, 2, 3].map((a) => pool.run({ a, b: 10 })));
    t.same(results, [1011, 1012, 1013]);
  } finally {
    await pool.destroy();
  }
});
