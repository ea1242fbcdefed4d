// @kubernetes/client-node 1.3, unchanged, against the real skiff API server: list, watch through makeInformer,
// create, patch (merge, strategic, JSON, apply) and delete, over TLS with the generated kubeconfig.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startApiServer } from '../../src/apiserver/server.js';

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('client-node against skiff', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-client-node-'));
  const server = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const namespace = 'default';

  // Informer over pods (list + watch), like controllers built on client-node do.
  const informer = k8s.makeInformer<k8s.V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, () =>
    core.listNamespacedPod({ namespace }),
  );
  const seen: string[] = [];
  informer.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
  informer.on('update', (p) => seen.push(`update ${p.metadata?.name} ${p.metadata?.labels?.tier ?? ''}`));
  informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
  const errors: unknown[] = [];
  informer.on('error', (e) => errors.push(e));
  await informer.start();
  t.teardown(() => informer.stop());

  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'cn-pod', labels: { app: 'cn' } },
    spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  };
  const created = await core.createNamespacedPod({ namespace, body: pod });
  t.equal(created.metadata?.name, 'cn-pod');
  t.ok(created.metadata?.uid, 'uid assigned');
  await until(() => seen.includes('add cn-pod'), 'informer add');

  const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=cn' });
  t.same(
    list.items.map((p) => p.metadata?.name),
    ['cn-pod'],
  );

  await core.patchNamespacedPod(
    { name: 'cn-pod', namespace, body: { metadata: { labels: { tier: 'fe' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await until(() => seen.includes('update cn-pod fe'), 'informer update');
  const smp = await core.patchNamespacedPod(
    { name: 'cn-pod', namespace, body: { spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  t.equal(smp.spec?.containers[0]?.image, 'busybox:1.36');
  t.same(smp.spec?.containers[0]?.command, ['sleep', '3600'], 'strategic merge kept the other container fields');
  const jp = await core.patchNamespacedPod(
    { name: 'cn-pod', namespace, body: [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }] },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  t.same(jp.metadata?.annotations, { a: 'b' });

  // Server-side apply creates a deployment.
  const dep: k8s.V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'cn-web', namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'cn-web' } },
      template: { metadata: { labels: { app: 'cn-web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    },
  };
  const applied = await apps.patchNamespacedDeployment(
    { name: 'cn-web', namespace, body: dep, fieldManager: 'client-node' },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
  );
  t.equal(applied.spec?.replicas, 2);
  t.equal(applied.metadata?.managedFields?.[0]?.manager, 'client-node');

  // Errors arrive as ApiException carrying the Status body.
  const err = await core.readNamespacedPod({ name: 'missing', namespace }).catch((e) => e);
  t.ok(err instanceof k8s.ApiException);
  t.equal(err.code, 404);
  t.match(String(err.body), /pods \\?"missing\\?" not found/);

  await core.deleteNamespacedPod({ name: 'cn-pod', namespace, gracePeriodSeconds: 0 });
  await until(() => seen.includes('delete cn-pod'), 'informer delete');
  await apps.deleteNamespacedDeployment({ name: 'cn-web', namespace });
  t.same(errors, [], 'informer reported no errors');
});
