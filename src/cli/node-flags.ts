// The V8 heap settings skiff runs with. Serving the API allocates a few KB per request that stay alive until the
// watch cache and informers have taken them (tens of milliseconds), so with V8's default 16 MiB semi-spaces a
// scavenge comes every few hundred requests and copies much of what it finds; on this kind of VM, where fresh heap
// pages cost a fault each, that was a third of the API server's time. Measured with `skiff bench scheduler --mode
// api` (10,000 bindings, three runs each): defaults 7,950-8,812 pods/s; --max-semi-space-size=32 9,442-10,449;
// with --no-memory-reducer as well (the heap is not shrunk between bursts) 10,215-10,856.
//
// Besides, glibc's malloc is told to ask for transparent huge pages (GLIBC_TUNABLES glibc.malloc.hugetlb=1, glibc
// 2.35+; used where the kernel's THP mode is madvise or always, as on Debian): SQLite's page cache, Buffers and V8's
// own malloc'd memory then fault 2 MiB at a time. Same bench, six interleaved pairs: 10,480 → 11,650 pods/s median,
// 8% less CPU. V8's heap pages are mapped directly and not affected.
//
// The same settings are spelled in bin/skiff.js's #! line and in package.json's start script; a benchmark started
// without them runs itself again with them (rerunWithNodeFlags), so its figures do not depend on how it was started.
import { spawn } from 'node:child_process';

export const NODE_FLAGS = ['--max-semi-space-size=32', '--no-memory-reducer'];

/** The glibc tunable skiff runs with (see above). */
export const MALLOC_TUNABLE = 'glibc.malloc.hugetlb=1';

/** GLIBC_TUNABLES with MALLOC_TUNABLE added to whatever the caller set. */
function tunables(current: string | undefined): string {
  return current ? `${current}:${MALLOC_TUNABLE}` : MALLOC_TUNABLE;
}

/** Whether this process was started without MALLOC_TUNABLE (glibc reads tunables only at start). */
export function missingMallocTunable(): boolean {
  return !(process.env.GLIBC_TUNABLES ?? '').split(':').includes(MALLOC_TUNABLE);
}

/** The flags this process was not started with (on the command line or in NODE_OPTIONS). */
export function missingNodeFlags(): string[] {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const name = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-');
  return NODE_FLAGS.filter((f) => !given.some((g) => name(g) === name(f)));
}

/**
 * Runs this CLI again (or `args`), with the same arguments, in a child process started with NODE_FLAGS and
 * MALLOC_TUNABLE; resolves with its exit
 * code. For finite commands only (benchmarks): a long-running server must not sit behind a parent that a SIGKILL
 * would take away alone.
 */
export function rerunWithNodeFlags(args = process.argv.slice(1)): Promise<number> {
  const env = missingMallocTunable()
    ? { ...process.env, GLIBC_TUNABLES: tunables(process.env.GLIBC_TUNABLES) }
    : process.env;
  const child = spawn(process.execPath, [...NODE_FLAGS, ...process.execArgv, ...args], { stdio: 'inherit', env });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
