// The native tests' harness: the namespace lab of src/proxy/lab/netns.ts, with teardown tied to a tap test.
import { execFileSync } from 'node:child_process';
import { Netns, nativeSkipReason } from '../../src/proxy/lab/netns.js';

export {
  isRoot,
  must,
  nativeSkipReason,
  Netns,
  run,
  type ExecResult,
  type SpawnedProcess,
} from '../../src/proxy/lab/netns.js';

/** The bits of a tap Test the harness uses (keeps the lib independent of tap's types). */
export interface TestLike {
  teardown(fn: () => unknown): void;
  comment(...args: unknown[]): void;
}

/** Creates a harness whose teardown is registered on `t` before anything exists, then runs `fn`. */
export async function withNetns<T>(t: TestLike, fn: (h: Netns) => Promise<T>): Promise<T> {
  const h = new Netns();
  t.teardown(() => h.cleanup());
  return fn(h);
}

/** Why a native test needing these programs can't run here (not root, or one is missing), or undefined. */
export function missingTools(...programs: string[]): string | undefined {
  const reason = nativeSkipReason();
  if (reason) return reason;
  for (const bin of programs) {
    try {
      execFileSync('which', [bin], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed`;
    }
  }
  return undefined;
}
