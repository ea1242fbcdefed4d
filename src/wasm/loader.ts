// Loads build/<name>.wasm (compiled once per process), instantiates it with minimal imports and gives typed views.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root: this file sits at src/wasm/loader.ts under tap and at dist/wasm/loader.js when built. */
const packageRoot = new URL('../../', import.meta.url);

/** Absolute path of build/<name>.wasm, whether the caller runs from src/ (tap) or dist/. */
export function wasmPath(name: string): string {
  if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`invalid wasm module name "${name}"`);
  return fileURLToPath(new URL(`build/${name}.wasm`, packageRoot));
}

const modules = new Map<string, WebAssembly.Module>();

/** The compiled module for build/<name>.wasm; compiled on first use and cached for the process (per thread). */
export function compileWasm(name: string): WebAssembly.Module {
  let mod = modules.get(name);
  if (!mod) {
    const path = wasmPath(name);
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build:wasm\``);
    mod = new WebAssembly.Module(readFileSync(path));
    modules.set(name, mod);
  }
  return mod;
}

/** Typed-array views over a memory that are re-created after memory.grow() detaches the old buffer. */
export class MemoryViews {
  #buffer: ArrayBuffer | undefined;
  #u8: Uint8Array | undefined;
  #shared = false;
  #i32!: Int32Array;
  #u32!: Uint32Array;
  #f64!: Float64Array;
  #i64!: BigInt64Array;

  constructor(readonly memory: WebAssembly.Memory) {}

  #refresh(): void {
    // memory.buffer is a slow getter; growing a non-shared memory detaches the old buffer, which empties its views,
    // so a non-empty view proves the cached buffer is current. (Shared memories never detach: compare buffers.)
    if (this.#u8 !== undefined && this.#u8.length !== 0 && !this.#shared) return;
    const buf = this.memory.buffer;
    if (buf === this.#buffer) return;
    this.#shared = typeof SharedArrayBuffer !== 'undefined' && (buf as unknown) instanceof SharedArrayBuffer;
    this.#buffer = buf;
    this.#u8 = new Uint8Array(buf);
    this.#i32 = new Int32Array(buf);
    this.#u32 = new Uint32Array(buf);
    this.#f64 = new Float64Array(buf);
    this.#i64 = new BigInt64Array(buf);
  }
  get u8(): Uint8Array {
    this.#refresh();
    return this.#u8!;
  }
  get i32(): Int32Array {
    this.#refresh();
    return this.#i32;
  }
  get u32(): Uint32Array {
    this.#refresh();
    return this.#u32;
  }
  get f64(): Float64Array {
    this.#refresh();
    return this.#f64;
  }
  get i64(): BigInt64Array {
    this.#refresh();
    return this.#i64;
  }
}

export interface WasmInstance<E> {
  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;
  /** The module's exports (functions and globals) as typed by the caller. */
  readonly exports: E;
  readonly memory: WebAssembly.Memory;
  /** Views over memory; always use them through this object, never keep a view across a call that may grow. */
  readonly views: MemoryViews;
}

export interface LoadOptions {
  /** A memory to import as env.memory (modules built with --importMemory), e.g. a shared one. */
  memory?: WebAssembly.Memory;
  /** Extra imports merged into the defaults. */
  imports?: WebAssembly.Imports;
}

function abort(msgPtr: number, filePtr: number, line: number, column: number): never {
  throw new Error(`wasm abort at ${line}:${column} (message @${msgPtr}, file @${filePtr})`);
}

/** Instantiates an already compiled module (e.g. one passed to a worker through workerData). */
export function instantiateWasm<E = Record<string, unknown>>(
  module: WebAssembly.Module,
  options: LoadOptions = {},
): WasmInstance<E> {
  const env: Record<string, WebAssembly.ImportValue> = { abort, seed: () => 0 };
  if (options.memory) env.memory = options.memory;
  const imports: WebAssembly.Imports = { ...options.imports, env: { ...env, ...options.imports?.env } };
  const instance = new WebAssembly.Instance(module, imports);
  const memory = (options.memory ?? instance.exports.memory) as WebAssembly.Memory | undefined;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('wasm module has no memory');
  return { module, instance, exports: instance.exports as E, memory, views: new MemoryViews(memory) };
}

/** Compiles (once) and instantiates build/<name>.wasm. Each call is a new instance with its own memory. */
export function loadWasm<E = Record<string, unknown>>(name: string, options: LoadOptions = {}): WasmInstance<E> {
  return instantiateWasm<E>(compileWasm(name), options);
}
