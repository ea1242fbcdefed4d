// The real kubectl (1.32 on PATH) against skiff with a generated kubeconfig and default (strict) validation.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startApiServer } from '../../src/apiserver/server.js';

const run = promisify(execFile);

const manifest = (image: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: fe}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: ${image}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: shop
data:
  a: "1"
`;

t.test('kubectl drives skiff', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-kubectl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
  t.teardown(() => s.close());
  const base = ['--kubeconfig', s.kubeconfigPath, '--cache-dir', join(dir, 'cache')];
  const k = async (...args: string[]) => {
    try {
      const r = await run('kubectl', [...base, ...args], { timeout: 60_000 });
      return r.stdout;
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`kubectl ${args.join(' ')} failed: ${err.stderr ?? ''}${err.stdout ?? ''}`);
    }
  };
  const kFail = async (...args: string[]) => {
    try {
      await run('kubectl', [...base, ...args], { timeout: 60_000 });
    } catch (e) {
      return (e as { stderr: string }).stderr;
    }
    throw new Error(`kubectl ${args.join(' ')} unexpectedly succeeded`);
  };

  const resources = await k('api-resources');
  for (const r of [
    'pods',
    'deployments',
    'replicasets',
    'services',
    'endpointslices',
    'leases',
    'horizontalpodautoscalers',
    'events',
  ])
    t.match(resources, new RegExp(`^${r}\\s`, 'm'), `api-resources lists ${r}`);
  t.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);

  const m1 = join(dir, 'm1.yaml');
  const m2 = join(dir, 'm2.yaml');
  writeFileSync(m1, manifest('nginx:1.25'));
  writeFileSync(m2, manifest('nginx:1.26'));
  t.equal(
    await k('apply', '-f', m1),
    'namespace/shop created\ndeployment.apps/web created\nservice/web created\nconfigmap/cfg created\n',
  );
  t.equal(
    await k('apply', '-f', m1),
    'namespace/shop unchanged\ndeployment.apps/web unchanged\nservice/web unchanged\nconfigmap/cfg unchanged\n',
  );
  t.match(await k('apply', '-f', m2), /deployment\.apps\/web configured/);

  const deploys = await k('get', 'deploy', '-n', 'shop');
  t.match(deploys, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
  t.match(deploys, /^web\s+0\/2\s+0\s+0\s+\d+s$/m);
  const wide = await k('get', 'deploy', '-n', 'shop', '-o', 'wide');
  t.match(wide, /CONTAINERS\s+IMAGES\s+SELECTOR/);
  t.match(wide, /nginx\s+nginx:1\.26\s+app=web/);
  const svc = await k('get', 'svc', '-n', 'shop');
  t.match(svc, /^web\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/m);
  t.match(await k('get', 'cm', '-n', 'shop', '--show-labels'), /LABELS/);
  t.equal(await k('get', 'deploy', '-n', 'shop', '-o', 'name'), 'deployment.apps/web\n');
  const asJson = JSON.parse(await k('get', 'deploy', 'web', '-n', 'shop', '-o', 'json'));
  t.equal(asJson.spec.template.spec.containers[0].image, 'nginx:1.26');
  t.equal(asJson.spec.strategy.rollingUpdate.maxSurge, '25%');
  t.match(await k('get', 'deploy', 'web', '-n', 'shop', '-o', 'yaml'), /progressDeadlineSeconds: 600/);
  t.equal(await k('get', 'deploy', '-n', 'shop', '-l', 'app in (web),tier!=be', '-o', 'name'), 'deployment.apps/web\n');
  t.equal(await k('get', 'deploy', '-n', 'shop', '-l', 'tier notin (fe)', '-o', 'name'), '');
  t.match(await k('get', 'ns', '--field-selector', 'metadata.name=shop'), /^shop\s+Active/m);

  t.match(await k('create', 'namespace', 'made'), /namespace\/made created/);
  t.match(await k('create', 'configmap', 'cm2', '-n', 'made', '--from-literal=k=v'), /configmap\/cm2 created/);
  t.match(await k('create', 'deployment', 'd2', '-n', 'made', '--image=busybox:1.36'), /deployment\.apps\/d2 created/);
  t.match(await k('label', 'deploy', 'web', '-n', 'shop', 'team=blue'), /labeled/);
  t.match(await k('annotate', 'deploy', 'web', '-n', 'shop', 'note=hello'), /annotated/);
  t.match(await k('scale', 'deploy', 'web', '-n', 'shop', '--replicas=4'), /scaled/);
  const after = JSON.parse(await k('get', 'deploy', 'web', '-n', 'shop', '-o', 'json'));
  t.equal(after.spec.replicas, 4);
  t.equal(after.metadata.labels.team, 'blue');
  t.equal(after.metadata.annotations.note, 'hello');
  t.match(
    await k(
      'patch',
      'deploy',
      'web',
      '-n',
      'shop',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/replicas","value":3}]',
    ),
    /patched/,
  );
  t.match(await k('apply', '--server-side', '--force-conflicts', '-f', m1), /deployment\.apps\/web serverside-applied/);
  t.match(await kFail('create', 'configmap', 'bad_name', '-n', 'made'), /Invalid value: "bad_name"/);
  t.match(
    await kFail('get', 'deploy', 'nope', '-n', 'shop'),
    /Error from server \(NotFound\): deployments\.apps "nope" not found/,
  );

  // get -w streams a change.
  const watcher = spawn('kubectl', [...base, 'get', 'cm', '-n', 'shop', '-w', '--no-headers']);
  let out = '';
  watcher.stdout.on('data', (d) => (out += d));
  for (let i = 0; i < 100 && !out.includes('cfg'); i++) await new Promise((r) => setTimeout(r, 100));
  await k('create', 'configmap', 'streamed', '-n', 'shop');
  for (let i = 0; i < 100 && !out.includes('streamed'); i++) await new Promise((r) => setTimeout(r, 100));
  watcher.kill();
  t.match(out, /streamed/, 'get -w shows the new object');

  t.match(await k('delete', 'deploy', 'web', '-n', 'shop'), /deployment\.apps "web" deleted/);
  t.match(await k('delete', 'ns', 'shop'), /namespace "shop" deleted/);
  t.match(await kFail('get', 'ns', 'shop'), /NotFound/);
});
