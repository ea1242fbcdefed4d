// `skiff up` as a process: flags, kubeconfig, the "ready" line, clean SIGTERM shutdown.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerFlags } from '../../src/cli/apiserver.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.ts');

t.test('flag parsing', async (t) => {
  const f = parseServerFlags([
    '--data',
    '/x',
    '--port=7000',
    '--nodes',
    '0',
    '--store',
    'sqlite',
    '--service-node-port-range',
    '30000-30010',
  ]);
  t.equal(f.options.dataDir, '/x');
  t.equal(f.options.port, 7000);
  t.equal(f.nodes, 0);
  t.same(f.options.nodePortRange, [30000, 30010]);
  t.equal(f.options.storeOptions?.backend, 'sqlite');
  t.throws(() => parseServerFlags(['--port', 'x']), /--port must be an integer/);
  t.throws(() => parseServerFlags(['--store', 'mysql']), /sqlite or etcd/);
});

t.test('skiff up prints ready, writes the kubeconfig and stops on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-up-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'up', '--data', dir, '--port', '0', '--nodes', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
  t.match(line, /ready/);
  t.ok(existsSync(join(dir, 'kubeconfig')));
  t.match(readFileSync(join(dir, 'kubeconfig'), 'utf8'), /server: https:\/\/127\.0\.0\.1:\d+/);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.equal(code, 0, 'clean exit on SIGTERM');
});
