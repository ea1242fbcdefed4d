// The embedded library API: createScheduler() picks an engine (Wasm when built, else the TypeScript reference)
// behind the shared Engine interface.
import { resolveProfile } from './profile.js';
import { ReferenceEngine } from './reference.js';
import type { Engine, Profile } from './types.js';

export interface SchedulerOptions {
  /** Overrides of the default profile (kube-scheduler's default plugins and weights). */
  profile?: Partial<Profile>;
  /** Tie-break seed (see tiebreak.ts); the same seed and inputs give the same placements. Default 0. */
  seed?: number;
  /** 'wasm' requires the Wasm engine; 'ts' is the reference; unset uses Wasm when available. */
  engine?: 'wasm' | 'ts';
}

export interface Scheduler extends Engine {
  /** Which engine is running. */
  readonly engine: 'wasm' | 'ts';
}

/** The Wasm engine module's contract (src/scheduler/engine/index.ts). */
interface WasmEngineModule {
  createWasmEngine(profile: Profile, seed: number): Promise<Engine> | Engine;
}

async function loadWasm(): Promise<WasmEngineModule | undefined> {
  try {
    // A variable specifier keeps tsc from requiring the module while the engine is being built.
    const specifier = './engine/index.js';
    const mod = (await import(specifier)) as Partial<WasmEngineModule>;
    return typeof mod.createWasmEngine === 'function' ? (mod as WasmEngineModule) : undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT') return undefined;
    throw err;
  }
}

function withEngineName(engine: Engine, name: 'wasm' | 'ts'): Scheduler {
  return Object.assign(engine, { engine: name }) as Scheduler;
}

export async function createScheduler(options: SchedulerOptions = {}): Promise<Scheduler> {
  const profile = resolveProfile(options.profile);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError('seed must be an integer in 0..4294967295');
  if (options.engine !== undefined && options.engine !== 'wasm' && options.engine !== 'ts')
    throw new RangeError(`engine must be "wasm" or "ts", not "${String(options.engine)}"`);
  if (options.engine !== 'ts') {
    const wasm = await loadWasm();
    if (wasm) return withEngineName(await wasm.createWasmEngine(profile, seed), 'wasm');
    if (options.engine === 'wasm') throw new Error('the Wasm scheduler engine is not available in this build');
  }
  return withEngineName(new ReferenceEngine({ profile, seed }), 'ts');
}
