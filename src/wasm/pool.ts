// A piscina pool with fixed threads that never idle out, loading TypeScript workers under tap and .js from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';

export interface PoolOptions {
  /** The worker module, usually `new URL('./worker.js', import.meta.url)`; a .ts twin is used when only it exists. */
  worker: URL | string;
  /** Passed to every worker (structured clone: a WebAssembly.Module or shared memory may go here). */
  workerData?: unknown;
  /** Worker threads, fixed (minThreads = maxThreads); default 1. */
  threads?: number;
}

/**
 * The worker file to load. Callers name the compiled `.js`; running from src/ under tap only the `.ts` exists, and
 * tap's loader hooks apply in workers too. (tsx on Node 20 does not hook workers: run production code from dist/.)
 */
export function resolveWorker(worker: URL | string): string {
  const path =
    worker instanceof URL ? fileURLToPath(worker) : worker.startsWith('file:') ? fileURLToPath(worker) : worker;
  if (existsSync(path)) return path;
  const ts = path.replace(/\.js$/, '.ts');
  if (ts !== path && existsSync(ts)) return ts;
  throw new Error(`worker module ${path} not found`);
}

/** Creates a pool whose threads stay up (piscina's default idleTimeout of 0 would end idle workers at once). */
export function createPool(options: PoolOptions): Piscina {
  const threads = Math.max(1, options.threads ?? 1);
  return new Piscina({
    filename: pathToFileURL(resolveWorker(options.worker)).href,
    workerData: options.workerData,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
  });
}

export { Piscina };
