import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createInformer, resources, type Client, type WatchEvent } from '../../src/client/index.js';
import { StatusError } from '../../src/api/status.js';
import { startFakeServer, type FakeServer } from './fixtures/fake-server.js';

const token = 'tok-123';
const pods = resources.pods('default');
const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const transports: [string, (f: FakeServer) => Client][] = [
  ['http', (f) => createClient({ server: f.url, token })],
  ['inject', (f) => createClient({ inject: f.app, token })],
  [
    'kubeconfig',
    (f) => {
      const dir = mkdtempSync(join(tmpdir(), 'skiff-kc-'));
      const path = join(dir, 'config');
      writeFileSync(
        path,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "' + f.url + '"}}]',
          'users: [{name: u, user: {token: ' + token + '}}]',
          'contexts: [{name: x, context: {cluster: c, user: u, namespace: team}}]',
          'current-context: x',
        ].join('\n'),
      );
      const c = createClient({ kubeconfig: path });
      rmSync(dir, { recursive: true });
      return c;
    },
  ],
];

for (const [name, make] of transports) {
  t.test(`${name} transport`, async (t) => {
    const fake = await startFakeServer({ token });
    const client = make(fake);
    t.teardown(async () => {
      await client.close();
      await fake.close();
    });

    t.test('CRUD and subresources', async (t) => {
      const created = await client.create<any>(pods, pod('a', { app: 'web' }), { fieldManager: 'test' });
      t.equal(created.metadata.namespace, 'default');
      t.ok(fake.log.some((l) => l === 'POST /api/v1/namespaces/default/pods?fieldManager=test'));
      const got = await client.get<any>(pods, 'a');
      t.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
      const patched = await client.patch<any>(
        pods,
        'a',
        { metadata: { labels: { tier: 'fe' } } },
        { type: 'strategic' },
      );
      t.equal(patched.patchedWith, 'application/strategic-merge-patch+json');
      t.same(patched.metadata.labels, { app: 'web', tier: 'fe' });
      const applied = await client.patch<any>(pods, 'a', pod('a'), { type: 'apply', fieldManager: 'me', force: true });
      t.equal(applied.patchedWith, 'application/apply-patch+yaml');
      t.same(applied.query, { fieldManager: 'me', force: 'true' });
      await client.create(
        pods,
        { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'a' }, target: { kind: 'Node', name: 'n1' } },
        { subresource: 'binding' },
      );
      t.equal((await client.get<any>(pods, 'a')).spec.nodeName, 'n1');
      const withStatus = await client.update<any>(
        pods,
        { ...got, status: { phase: 'Running' } },
        { subresource: 'status' },
      );
      t.equal(withStatus.status.phase, 'Running');
      const deleted = await client.delete<any>(pods, 'a', { propagationPolicy: 'Background', gracePeriodSeconds: 0 });
      t.same(deleted.deleteOptions, {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        propagationPolicy: 'Background',
        gracePeriodSeconds: 0,
      });
    });

    t.test('errors surface as StatusError with the server Status', async (t) => {
      await t.rejects(client.get(pods, 'missing'), {
        code: 404,
        reason: 'NotFound',
        message: 'pods "missing" not found',
      });
      await client.create(pods, pod('dup'));
      await t.rejects(client.create(pods, pod('dup')), { code: 409, reason: 'AlreadyExists' });
      const stale = await client.get<any>(pods, 'dup');
      await client.update(pods, stale);
      const err = await client.update(pods, stale).catch((e) => e);
      t.ok(err instanceof StatusError);
      t.equal(err.code, 409);
      t.match(err.message, /the object has been modified/);
      await t.rejects(client.create(pods, { metadata: {} }), { code: 422 });
      const anonymous = createClient({ server: fake.url });
      await t.rejects(anonymous.get(pods, 'dup'), { code: 401, reason: 'Unauthorized' });
      await anonymous.close();
    });

    t.test('list pages and watch from a version', async (t) => {
      for (let i = 0; i < 7; i++) await client.create(pods, pod(`p${i}`, { batch: 'x' }));
      const first = await client.list<any>(pods, { limit: 3, labelSelector: 'batch=x' });
      t.equal(first.items.length, 3);
      t.ok(first.metadata.continue);
      const rest = await client.list<any>(pods, { continue: first.metadata.continue, labelSelector: 'batch=x' });
      t.equal(rest.items.length, 4);
      const from = first.metadata.resourceVersion!;
      const ac = new AbortController();
      const seen: WatchEvent<any>[] = [];
      const done = (async () => {
        for await (const ev of client.watch<any>(pods, {
          resourceVersion: from,
          allowWatchBookmarks: true,
          signal: ac.signal,
        })) {
          seen.push(ev);
          if (ev.type === 'DELETED') ac.abort();
        }
      })();
      await until(() => seen.some((e) => e.type === 'BOOKMARK'), 'bookmark');
      await client.patch(pods, 'p1', { metadata: { labels: { changed: 'yes' } } });
      await client.delete(pods, 'p2');
      await done;
      t.same(
        seen.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata.name]),
        [
          ['MODIFIED', 'p1'],
          ['DELETED', 'p2'],
        ],
      );
      await until(() => fake.openWatches() === 0, 'server sees the watch closed');
    });

    t.test('informer: cache, indexes, handlers, resume and relist on 410', async (t) => {
      const inf = createInformer<any>(client, resources.pods(), {
        indexers: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
      });
      const events: string[] = [];
      inf
        .onAdd((o) => events.push(`add ${o.metadata.name}`))
        .onUpdate((_a, b) => events.push(`update ${b.metadata.name}`))
        .onDelete((o) => events.push(`delete ${o.metadata.name}`));
      await inf.start();
      t.teardown(() => inf.stop());
      t.ok(inf.hasSynced);
      const initial = inf.list().length;
      t.equal(initial, (await client.list(pods)).items.length, 'cache holds the list');
      fake.put({ metadata: { name: 'n1-pod', namespace: 'other' }, spec: { nodeName: 'n1' } });
      await until(() => inf.get('other/n1-pod') !== undefined, 'watch add');
      t.same(
        inf.byIndex('node', 'n1').map((p) => p.metadata.name),
        ['n1-pod'],
      );
      t.same(
        inf.byNamespace('other').map((p) => p.metadata.name),
        ['n1-pod'],
      );
      // The watch ends: the informer resumes from its last version without relisting.
      const relists = inf.relists;
      fake.cutWatches();
      fake.put({ metadata: { name: 'n1-pod', namespace: 'other' }, spec: { nodeName: 'n2' } });
      await until(() => inf.get('other/n1-pod')?.spec.nodeName === 'n2', 'update after reconnect');
      t.equal(inf.relists, relists, 'resumed without a relist');
      t.same(inf.byIndex('node', 'n1'), [], 'old index entry gone');
      t.equal(inf.byIndex('node', 'n2').length, 1);
      // Changes while disconnected and a compacted version: the informer relists and reports the difference.
      await until(() => fake.openWatches() > 0, 'rewatch');
      fake.compactedBelow = fake.rv() + 1;
      fake.cutWatches();
      fake.remove('other', 'n1-pod');
      fake.put({ metadata: { name: 'late', namespace: 'other' } });
      await until(() => inf.get('other/late') !== undefined && inf.get('other/n1-pod') === undefined, 'relist diff');
      t.ok(inf.relists > relists, 'relisted after 410');
      t.ok(events.includes('delete n1-pod'));
      t.ok(events.includes('add late'));
      fake.compactedBelow = 0;
      inf.stop();
      await until(() => fake.openWatches() === 0, 'watch closed on stop');
      // Periodic resync re-delivers cached objects as updates with the same object.
      const resynced: string[] = [];
      const inf2 = createInformer<any>(client, resources.pods('other'), { resyncMs: 20 });
      inf2.onUpdate((a, b) => {
        if (a === b) resynced.push(b.metadata.name);
      });
      await inf2.start();
      await until(() => resynced.includes('late'), 'resync');
      inf2.stop();
      await until(() => fake.openWatches() === 0, 'watch closed on stop');
    });
  });
}
