// Runs a throwaway single-member etcd (the Debian etcd-server binary) on free loopback ports with a temp data dir,
// for tests and benchmarks; stop() kills it and removes the data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface EtcdProcess {
  /** Client URL, e.g. http://127.0.0.1:40123. */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly pid: number;
  /** Stops etcd (SIGTERM, then SIGKILL after 5 s) and removes its data dir. */
  stop(): Promise<void>;
  /** Kills etcd with SIGKILL, keeping its data (an outage); restart() brings it back. */
  kill(): Promise<void>;
  /** Starts etcd again (stopping it first if running) on the same ports and data. */
  restart(): Promise<void>;
}

export interface StartEtcdOptions {
  /** The etcd binary; default $SKIFF_ETCD_BIN or /usr/bin/etcd. */
  binary?: string;
  /** How long to wait for /health (ms); default 20 s. */
  readyTimeoutMs?: number;
}

/** Finds a free loopback TCP port (the kernel picks it; a race with other processes is retried by the caller). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Spawns etcd with `args` and waits for /health; on failure kills it and throws with etcd's last stderr lines. */
async function launch(binary: string, args: string[], endpoint: string, readyTimeoutMs: number): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + readyTimeoutMs;
  let problem: string | undefined;
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    if (failed) {
      problem = `cannot run ${binary}: ${failed.message} (install etcd-server: scripts/install-system-deps.sh)`;
      break;
    }
    if (child.exitCode !== null) {
      problem = `etcd exited with code ${child.exitCode}: ${stderr.trim()}`;
      break;
    }
    if (await healthy(endpoint)) return child;
  }
  problem ??= `etcd on ${endpoint} was not healthy within ${readyTimeoutMs} ms: ${stderr.trim()}`;
  child.kill('SIGKILL');
  await waitExit(child, 5000);
  throw new Error(problem);
}

async function startOnce(binary: string, readyTimeoutMs: number): Promise<EtcdProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name=skiff',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=skiff=${peer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-level=error',
  ];
  let child: ChildProcess;
  // Never leave an etcd behind when this process exits without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  const remove = () => fs.rmSync(dataDir, { recursive: true, force: true });
  try {
    child = await launch(binary, args, endpoint, readyTimeoutMs);
  } catch (err) {
    remove();
    throw err;
  }
  process.once('exit', killOnExit);

  const halt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 5000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5000);
      }
    }
  };
  return {
    endpoint,
    dataDir,
    get pid() {
      return child.pid!;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await halt();
      remove();
    },
    async kill() {
      child.kill('SIGKILL');
      await waitExit(child, 5000);
    },
    async restart() {
      await halt();
      child = await launch(binary, args, endpoint, readyTimeoutMs);
    },
  };
}

/** Starts etcd and resolves once it answers /health; retries twice if a port was taken meanwhile. */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const binary = options.binary ?? process.env.SKIFF_ETCD_BIN ?? '/usr/bin/etcd';
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, readyTimeoutMs);
    } catch (err) {
      lastError = err as Error;
      if (!/address already in use/i.test(lastError.message)) break;
    }
  }
  throw lastError!;
}
