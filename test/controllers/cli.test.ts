// `skiff controller-manager` as a process against an API server: --controllers selection, the
// kube-controller-manager Lease, garbage collection through the kubeconfig, clean stop that releases the lease.
import t from 'tap';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/client/create.js';
import { resources } from '../../src/client/index.js';
import { selectControllers } from '../../src/controllers/cli.js';
import { startTestServer } from '../apiserver/helpers.js';
import { eventually, getOrUndefined, type Obj } from './fixtures/env.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.ts');

t.test('--controllers selection', async (t) => {
  t.same(selectControllers('*'), ['garbagecollector', 'podgc']);
  t.same(selectControllers('*,-podgc'), ['garbagecollector']);
  t.same(selectControllers('podgc'), ['podgc']);
  t.throws(() => selectControllers('nope'), /unknown controller "nope"/);
});

t.test('runs the controllers behind the kube-controller-manager lease', async (t) => {
  const ts = await startTestServer(t);
  const client = createClient({ kubeconfig: ts.server.kubeconfigPath });
  t.teardown(() => client.close());
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', main, 'controller-manager', '--kubeconfig', ts.server.kubeconfigPath],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await eventually('controllers started', async () => stderr.includes('started garbagecollector, podgc'), 60_000).catch(
    (e) => {
      throw new Error(`${(e as Error).message}\n${stderr}`);
    },
  );
  const lease = (await client.get(resources.leases('kube-system'), 'kube-controller-manager')) as Obj;
  t.match(lease.spec.holderIdentity, /_/, 'lease held');

  const cms = resources.configmaps('default');
  const owner = (await client.create(cms, { metadata: { name: 'owner' } })) as Obj;
  await client.create(cms, {
    metadata: {
      name: 'dep',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }],
    },
  });
  await client.delete(cms, 'owner');
  await eventually('dependent collected', async () => !(await getOrUndefined(client, cms, 'dep')));
  t.pass('garbage collected through the kubeconfig client');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit on SIGTERM');
  const after = (await client.get(resources.leases('kube-system'), 'kube-controller-manager')) as Obj;
  t.equal(after.spec.holderIdentity ?? '', '', 'lease released');
});

t.test('bad flags', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'controller-manager', '--controllers', 'bogus'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.equal(code, 2);
  t.match(stderr, /unknown controller "bogus"/);
});
