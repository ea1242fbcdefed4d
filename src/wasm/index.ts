// The shared Wasm toolkit: module loading with typed memory views, and the piscina pool helper.
export { wasmPath, compileWasm, instantiateWasm, loadWasm, MemoryViews } from './loader.js';
export type { WasmInstance, LoadOptions } from './loader.js';
export { createPool, resolveWorker, Piscina } from './pool.js';
export type { PoolOptions } from './pool.js';
