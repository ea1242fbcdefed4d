import t from 'tap';
import { existsSync } from 'node:fs';
import { instantiateWasm, wasmPath, loadWasm, compileWasm } from '../../src/wasm/loader.js';
import { tinyWasmBytes, type TinyExports } from './fixtures/tiny-wasm.js';

t.test('instantiates a module and exposes its exports and memory', (t) => {
  const wasm = instantiateWasm<TinyExports>(new WebAssembly.Module(tinyWasmBytes));
  t.equal(wasm.exports.add(2, 40), 42);
  t.equal(wasm.memory.buffer.byteLength, 65536);
  t.end();
});

t.test('typed views follow memory growth', (t) => {
  const wasm = instantiateWasm<TinyExports>(new WebAssembly.Module(tinyWasmBytes));
  wasm.views.i32[10] = 7;
  const before = wasm.views.i32;
  t.equal(wasm.exports.grow(2), 1, 'grow returns the old size in pages');
  t.equal(before.length, 0, 'the old view is detached');
  t.equal(wasm.views.i32.length, (3 * 65536) / 4);
  t.equal(wasm.views.i32[10], 7, 'contents survive growth');
  wasm.views.f64[1] = 0.5;
  t.equal(wasm.views.u8[15], 0x3f, 'views alias the same bytes');
  wasm.views.i64[2] = -1n;
  t.equal(wasm.views.u32[4], 0xffffffff);
  t.end();
});

t.test('module paths resolve to build/<name>.wasm at the package root', (t) => {
  t.match(wasmPath('scheduler'), /\/build\/scheduler\.wasm$/);
  t.throws(() => wasmPath('../etc/passwd'), /invalid wasm module name/);
  t.throws(() => loadWasm('no-such-kernel'), /no-such-kernel\.wasm is missing/);
  t.end();
});

t.test('a built kernel compiles once per process', { skip: !existsSync(wasmPath('scheduler')) && 'not built' }, (t) => {
  t.equal(compileWasm('scheduler'), compileWasm('scheduler'));
  const a = loadWasm('scheduler');
  const b = loadWasm('scheduler');
  t.not(a.memory, b.memory, 'each load is its own instance');
  t.end();
});
