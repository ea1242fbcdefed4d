// @kubernetes/client-node against skiff: list, an informer (list + watch), create, merge/strategic patch, delete.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startApiServer } from '../../src/apiserver/server.js';

t.test('client-node flows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-clientnode-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
  t.teardown(() => s.close());
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);

  const nsList = await core.listNamespace();
  t.same(nsList.items.map((n) => n.metadata?.name).sort(), [
    'default',
    'kube-node-lease',
    'kube-public',
    'kube-system',
  ]);

  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () =>
    core.listNamespacedConfigMap({ namespace: 'default' }),
  );
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
  informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${o.data?.k}`));
  informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
  await informer.start();
  t.teardown(() => informer.stop());

  const created = await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'cm1' }, data: { k: 'v1' } },
  });
  t.ok(created.metadata?.uid);
  const patched = await core.patchNamespacedConfigMap(
    { namespace: 'default', name: 'cm1', body: { data: { k: 'v2' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  t.equal(patched.data?.k, 'v2');

  const dep = await apps.createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } },
      },
    },
  });
  t.equal(dep.spec?.replicas, 1, 'defaulted');
  const smp = await apps.patchNamespacedDeployment(
    {
      namespace: 'default',
      name: 'web',
      body: { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  t.equal(smp.spec?.template.spec?.containers[0]?.image, 'nginx:1.27');
  const scale = await apps.readNamespacedDeploymentScale({ namespace: 'default', name: 'web' });
  t.equal(scale.spec?.replicas, 1);

  await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'cm1' });
  await t.rejects(core.readNamespacedConfigMap({ namespace: 'default', name: 'cm1' }), { code: 404 });
  for (let i = 0; i < 100 && !seen.includes('delete:cm1'); i++) await new Promise((r) => setTimeout(r, 50));
  t.same(seen, ['add:cm1', 'update:cm1:v2', 'delete:cm1'], 'the informer saw every change');
});
