// Runs a TypeScript file as a node child inside a namespace (tsx loader), for code that must live in it.
import type { Netns } from './netns.js';

/** Node arguments that execute `file` (a .ts path) with the tsx loader. */
export function tsNodeArgs(file: string, ...args: string[]): string[] {
  return ['--import', 'tsx', file, ...args];
}

/** Runs `file` to completion in `ns`; returns the last stdout line parsed as JSON. */
export async function runTsInNs<T>(h: Netns, ns: string, file: string, args: string[], timeoutMs = 30_000): Promise<T> {
  const out = await h.mustExec(ns, process.execPath, tsNodeArgs(file, ...args), { timeoutMs });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
