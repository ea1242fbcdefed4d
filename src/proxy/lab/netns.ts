// Throwaway network namespaces, links and processes inside them, for native tests and benchmarks; all removed
// by cleanup() and, should the process exit first, by an exit hook. Nothing here touches the root namespace's
// links, routes or firewall: links are created directly inside the namespaces they belong to.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Why native tests can't run here, or undefined when they can. */
export function nativeSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `native tests need Linux (this is ${process.platform})`;
  if (!isRoot()) return 'native tests need root (network namespaces, nftables); run as root to include them';
  return undefined;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command to completion with a time bound; never throws for a non-zero exit (callers assert). */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and throws with its stderr when it fails. */
export async function must(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Namespaces still owned by this process; removed synchronously if the process exits without teardown. */
const liveNamespaces = new Set<string>();
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const sweep = () => {
    for (const c of liveChildren) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const ns of liveNamespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', sweep);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      sweep();
      process.exit(130);
    });
  }
}

export interface SpawnedProcess {
  child: ChildProcess;
  /** Everything written to stdout so far. */
  output(): string;
  /** Resolves when a line of stdout matches, rejects on exit or after the time bound. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

/** One test's namespaces, links and processes. */
export class Netns {
  /** Random per harness, so concurrent tests (and other engineers' runs) never collide. */
  readonly id = randomBytes(3).toString('hex');
  /** Names are `<prefix>-<label>`: `skiff-t-<id>` unless given (a bench names them after its own namespace). */
  readonly prefix: string;

  constructor(prefix?: string) {
    this.prefix = prefix ?? `skiff-t-${this.id}`;
  }
  private readonly namespaces: string[] = [];
  private readonly children: SpawnedProcess[] = [];
  private linkCounter = 0;

  /** Creates namespace `<prefix>-<label>` with loopback up; returns its name. */
  async add(label: string): Promise<string> {
    const name = `${this.prefix}-${label}`;
    installExitHook();
    await must('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    liveNamespaces.add(name);
    await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A short interface name unique to this harness (IFNAMSIZ allows 15 characters). */
  ifname(prefix: string): string {
    return `${prefix.slice(0, 4)}${this.id}${(this.linkCounter++).toString(36)}`.slice(0, 15);
  }

  /** Runs `ip <args>` inside a namespace. */
  ip(ns: string, ...args: string[]): Promise<string> {
    return must('ip', ['-n', ns, ...args]);
  }

  /**
   * A veth pair with one end in each namespace, created inside `a` (never in the root namespace) and set up.
   * Addresses are CIDR strings ("10.200.0.1/24"), optional.
   */
  async veth(
    a: string,
    b: string,
    opts: { nameA?: string; nameB?: string; addrA?: string; addrB?: string } = {},
  ): Promise<{ a: string; b: string }> {
    const nameA = opts.nameA ?? this.ifname('va');
    const nameB = opts.nameB ?? this.ifname('vb');
    await this.ip(a, 'link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB, 'netns', b);
    if (opts.addrA) await this.ip(a, 'addr', 'add', opts.addrA, 'dev', nameA);
    if (opts.addrB) await this.ip(b, 'addr', 'add', opts.addrB, 'dev', nameB);
    await this.ip(a, 'link', 'set', nameA, 'up');
    await this.ip(b, 'link', 'set', nameB, 'up');
    return { a: nameA, b: nameB };
  }

  /** A bridge inside `ns`, up, with an optional address. */
  async bridge(ns: string, opts: { name?: string; addr?: string } = {}): Promise<string> {
    const name = opts.name ?? this.ifname('br');
    await this.ip(ns, 'link', 'add', name, 'type', 'bridge');
    if (opts.addr) await this.ip(ns, 'addr', 'add', opts.addr, 'dev', name);
    await this.ip(ns, 'link', 'set', name, 'up');
    return name;
  }

  /** Attaches an interface in `ns` to a bridge in the same namespace. */
  async attach(ns: string, ifname: string, bridge: string): Promise<void> {
    await this.ip(ns, 'link', 'set', ifname, 'master', bridge);
  }

  /** sysctl inside a namespace (e.g. net.ipv4.ip_forward=1); per-namespace keys only. */
  async sysctl(ns: string, key: string, value: string): Promise<void> {
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
  }

  /** Runs a command to completion inside a namespace. */
  exec(
    ns: string,
    cmd: string,
    args: string[] = [],
    opts: { timeoutMs?: number; input?: string } = {},
  ): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /** Like exec, but throws on a non-zero exit. */
  mustExec(
    ns: string,
    cmd: string,
    args: string[] = [],
    opts: { timeoutMs?: number; input?: string } = {},
  ): Promise<string> {
    return must('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /** Starts a long-running process inside a namespace; it is killed on teardown. */
  spawn(ns: string, cmd: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): SpawnedProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    liveChildren.add(child);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = once(child, 'exit').then(() => liveChildren.delete(child));
    const proc: SpawnedProcess = {
      child,
      output: () => out,
      waitFor(pattern, timeoutMs = 15_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            const m = pattern.exec(out);
            if (m) {
              cleanup();
              resolve(m[0]);
            }
          };
          const onExit = () => {
            cleanup();
            reject(new Error(`${cmd} exited before printing ${pattern}: ${err.trim() || out.trim()}`));
          };
          const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`${cmd} did not print ${pattern} within ${timeoutMs} ms: ${err.trim()}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            child.off('exit', onExit);
          };
          child.stdout!.on('data', check);
          child.once('exit', onExit);
          check();
        });
      },
      async kill() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      },
    };
    this.children.push(proc);
    return proc;
  }

  /**
   * A tiny HTTP server in `ns` on ip:port answering every request with `name` (a node child under
   * `ip netns exec`). Resolves once it listens.
   */
  async httpServer(ns: string, ip: string, port: number, name: string): Promise<SpawnedProcess> {
    const script = `
      const http = require('node:http');
      const name = process.argv[1];
      const srv = http.createServer((req, res) => {
        // An explicit length keeps keep-alive replies unchunked, simple for raw-socket clients.
        res.writeHead(200, {
          'content-type': 'text/plain',
          'content-length': Buffer.byteLength(name),
          'x-peer': req.socket.remoteAddress,
        });
        res.end(name);
      });
      srv.keepAliveTimeout = 60000;
      srv.listen(Number(process.argv[3]), process.argv[2], () => console.log('ready ' + name));
      process.on('SIGTERM', () => process.exit(0));
    `;
    const p = this.spawn(ns, process.execPath, ['-e', script, name, ip, String(port)]);
    await p.waitFor(/ready /);
    return p;
  }

  /** Kills every child, then deletes every namespace (which destroys the links inside them). */
  async cleanup(): Promise<void> {
    await Promise.all(this.children.map((c) => c.kill().catch(() => undefined)));
    for (const ns of this.namespaces.reverse()) {
      await run('ip', ['netns', 'del', ns]);
      liveNamespaces.delete(ns);
    }
    this.namespaces.length = 0;
  }
}
