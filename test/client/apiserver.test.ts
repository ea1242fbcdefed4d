// The client against the real skiff API server: TLS + token from the generated kubeconfig, and the in-process
// inject transport used by `skiff up`.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../src/apiserver/server.js';
import { createClient, createInformer, resources, type Client } from '../../src/client/index.js';

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const deployment = (name: string, image: string, replicas?: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    ...(replicas === undefined ? {} : { replicas }),
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
  },
});

t.test('real API server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-client-it-'));
  const server = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  t.match(server.url, /^https:/, 'TLS by default');
  const clients: [string, Client][] = [
    ['kubeconfig (TLS, CA, token)', createClient({ kubeconfig: server.kubeconfigPath })],
    ['inject', createClient({ inject: server.fastify, token: server.adminToken })],
  ];
  t.teardown(async () => {
    for (const [, c] of clients) await c.close();
  });

  for (const [name, c] of clients) {
    t.test(name, async (t) => {
      const deps = resources.deployments('default');
      const pods = resources.pods('default');
      const app = name.startsWith('inject') ? 'inj' : 'kc';
      const created = await c.create<any>(deps, deployment(app, 'nginx:1.25', 1));
      t.equal(created.spec.replicas, 1);
      t.equal(created.spec.strategy.type, 'RollingUpdate', 'server defaults applied');

      // Strategic merge of the container list by name, as kubectl set image does.
      const smp = await c.patch<any>(
        deps,
        app,
        {
          spec: {
            template: {
              spec: {
                '$setElementOrder/containers': [{ name: 'main' }],
                containers: [{ name: 'main', image: 'nginx:1.26' }],
              },
            },
          },
        },
        { type: 'strategic' },
      );
      t.equal(smp.spec.template.spec.containers[0].image, 'nginx:1.26');
      t.ok(smp.metadata.generation > created.metadata.generation, 'generation bumped');
      const jp = await c.patch<any>(deps, app, [{ op: 'replace', path: '/spec/replicas', value: 2 }], { type: 'json' });
      t.equal(jp.spec.replicas, 2);
      await t.rejects(c.patch(deps, app, [{ op: 'test', path: '/spec/replicas', value: 9 }], { type: 'json' }), {
        code: 422,
        reason: 'Invalid',
      });
      const merged = await c.patch<any>(deps, app, { metadata: { labels: { tier: 'web' } } });
      t.equal(merged.metadata.labels.tier, 'web');

      // Server-side apply: a second manager changing replicas conflicts, force wins.
      const mine = await c.patch<any>(deps, `${app}-ssa`, deployment(`${app}-ssa`, 'busybox', 3), {
        type: 'apply',
        fieldManager: 'alice',
      });
      t.equal(mine.spec.replicas, 3, 'apply created the object');
      await t.rejects(
        c.patch(deps, `${app}-ssa`, deployment(`${app}-ssa`, 'busybox', 5), { type: 'apply', fieldManager: 'bob' }),
        { code: 409, reason: 'Conflict', message: /Apply failed with 1 conflict: conflict with "alice"/ },
      );
      const forced = await c.patch<any>(deps, `${app}-ssa`, deployment(`${app}-ssa`, 'busybox', 5), {
        type: 'apply',
        fieldManager: 'bob',
        force: true,
      });
      t.equal(forced.spec.replicas, 5);

      // Scale subresource.
      const scale = await c.get<any>(deps, app, { subresource: 'scale' });
      t.equal(scale.kind, 'Scale');
      t.equal(scale.spec.replicas, 2);

      // Watch and informer with a nodeName index; binding moves a pod between index buckets.
      const inf = createInformer<any>(c, resources.pods(), {
        indexers: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
      });
      const adds: string[] = [];
      inf.onAdd((p) => adds.push(p.metadata.name));
      await inf.start();
      t.teardown(() => inf.stop());
      const podName = `${app}-pod`;
      await c.create(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: podName },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      await until(() => inf.get(`default/${podName}`) !== undefined, 'informer add');
      t.same(inf.byIndex('node', 'node-1'), []);
      await c.create(
        pods,
        {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: podName },
          target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' },
        },
        { subresource: 'binding' },
      );
      await until(() => inf.byIndex('node', 'node-1').length === 1, 'binding seen by the informer');
      t.ok(adds.includes(podName));
      await c.delete(pods, podName, { gracePeriodSeconds: 0 });
      await until(() => inf.get(`default/${podName}`) === undefined, 'informer delete');
      await t.rejects(c.get(pods, 'nope'), { code: 404, reason: 'NotFound', message: 'pods "nope" not found' });
      inf.stop();

      // Raw requests and deleteCollection.
      const version = await c.request('GET', '/version');
      t.equal(version.statusCode, 200);
      t.ok(JSON.parse(version.body.toString()).gitVersion);
      const cms = resources.configmaps('default');
      for (const n of ['one', 'two']) {
        await c.create(cms, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `${app}-${n}`, labels: { set: app } },
        });
      }
      await c.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${app}-keep` } });
      await c.deleteCollection(cms, { labelSelector: `set=${app}` });
      const left = await c.list<any>(cms);
      t.same(
        left.items.map((x) => x.metadata.name).filter((n: string) => n.startsWith(`${app}-`)),
        [`${app}-keep`],
      );
    });
  }
});

t.test('watch from a compacted version: ERROR 410 event, and the informer relists', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-client-410-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, watchHistory: 5, log: () => {} });
  const c = createClient({ server: server.url, token: server.adminToken });
  t.teardown(async () => {
    await c.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cms = resources.configmaps('default');
  const first = await c.create<any>(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-0' } });
  for (let i = 1; i < 30; i++)
    await c.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } });
  const events: any[] = [];
  const ac = new AbortController();
  let error: unknown;
  try {
    for await (const ev of c.watch<any>(cms, { resourceVersion: first.metadata.resourceVersion, signal: ac.signal })) {
      events.push(ev);
      if (ev.type === 'ERROR') break;
      if (events.length > 100) break;
    }
  } catch (e) {
    error = e;
  }
  const expired = events.find((e) => e.type === 'ERROR')?.object ?? (error as any)?.status;
  t.equal(expired?.code, 410, 'too old version reported as 410');
  // An informer started now lists and sees everything.
  const inf = createInformer<any>(c, cms);
  await inf.start();
  t.equal(inf.list().filter((x) => x.metadata.name.startsWith('cm-')).length, 30);
  inf.stop();
});
