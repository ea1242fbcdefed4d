// Starts `skiff up` from source (tsx, so no stale dist/) in a temp data dir for a tap test, and gives a runner for
// the real kubectl pointed at its kubeconfig. Everything is torn down with the test.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.ts');

interface Teardown {
  teardown(fn: () => void): void;
}

export interface KubectlOptions {
  input?: string;
  env?: Record<string, string>;
}

export interface SkiffUp {
  dir: string;
  /** What skiff up wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Runs kubectl; resolves stdout, rejects with kubectl's and skiff's output. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<string>;
  /** Runs kubectl expecting failure; resolves stdout + stderr. */
  kubectlFails(args: string[], opts?: KubectlOptions): Promise<string>;
  /** Polls until `cond` holds (bounded: 60 s, every 250 ms). */
  until(what: string, cond: () => Promise<boolean>): Promise<void>;
  /** Sends SIGTERM and resolves the exit code. */
  stop(): Promise<number | null>;
}

export async function startSkiffUp(t: Teardown, prefix: string, extraArgs: string[] = []): Promise<SkiffUp> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'up', '--data', dir, '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line: ${out}${stderr}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`skiff up exited ${code}: ${stderr}`)));
  });

  const base = ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache')];
  const start = (args: string[], opts: KubectlOptions) => {
    const p = run('kubectl', [...base, ...args], { timeout: 60_000, env: { ...process.env, ...(opts.env ?? {}) } });
    p.child.stdin!.end(opts.input ?? '');
    return p;
  };
  return {
    dir,
    stderr: () => stderr,
    async kubectl(args, opts = {}) {
      try {
        return (await start(args, opts)).stdout;
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        throw new Error(`kubectl ${args.join(' ')} failed: ${err.stderr ?? ''}${err.stdout ?? ''}\nskiff: ${stderr}`);
      }
    },
    async kubectlFails(args, opts = {}) {
      try {
        await start(args, opts);
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        return `${err.stdout ?? ''}${err.stderr ?? ''}`;
      }
      throw new Error(`kubectl ${args.join(' ')} unexpectedly succeeded`);
    },
    async until(what, cond) {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (await cond()) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`timed out waiting for ${what}; skiff stderr:\n${stderr}`);
    },
    stop() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
