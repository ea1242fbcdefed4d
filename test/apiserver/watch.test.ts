import t from 'tap';
import { startTestServer, pod, sleep } from './helpers.js';

const ns = '/api/v1/namespaces/default';

t.test('watch: initial ADDED, then live MODIFIED/DELETED in order', async (t) => {
  const s = await startTestServer(t);
  await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'a' } });
  const w = s.watch(`${ns}/configmaps?watch=true`);
  t.equal(await w.status, 200);
  const [first] = await w.next(1);
  t.equal(first!.type, 'ADDED');
  t.equal(first!.object.metadata.name, 'a');
  await s.req('PATCH', `${ns}/configmaps/a`, { data: { x: '1' } }, { 'content-type': 'application/merge-patch+json' });
  await s.req('DELETE', `${ns}/configmaps/a`);
  const evs = await w.next(3);
  t.same(
    evs.map((e) => e.type),
    ['ADDED', 'MODIFIED', 'DELETED'],
  );
  t.equal(evs[1]!.object.data.x, '1');
  t.ok(Number(evs[2]!.object.metadata.resourceVersion) > Number(evs[1]!.object.metadata.resourceVersion));
});

t.test('watch from a resourceVersion: no synthetic adds, exactly the later changes', async (t) => {
  const s = await startTestServer(t);
  const a = await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'a' } });
  await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'b' } });
  await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'c' } });
  const w = s.watch(`${ns}/configmaps?watch=true&resourceVersion=${a.body.metadata.resourceVersion}`);
  const evs = await w.next(2);
  t.same(
    evs.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'b'],
      ['ADDED', 'c'],
    ],
  );
  await sleep(200);
  t.equal(w.events.length, 2, 'nothing else');
  const list = await s.req('GET', `${ns}/configmaps`);
  const w2 = s.watch(`${ns}/configmaps?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
  await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'd' } });
  const [e] = await w2.next(1);
  t.equal(e!.object.metadata.name, 'd', 'list RV then watch misses nothing');
});

t.test('selectors turn leaving objects into DELETED and entering ones into ADDED', async (t) => {
  const s = await startTestServer(t);
  await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'a', labels: { tier: 'fe' } } });
  const w = s.watch(`${ns}/configmaps?watch=true&labelSelector=tier%3Dfe`);
  await w.next(1);
  const merge = { 'content-type': 'application/merge-patch+json' };
  await s.req('PATCH', `${ns}/configmaps/a`, { metadata: { labels: { tier: 'be' } } }, merge);
  await s.req('PATCH', `${ns}/configmaps/a`, { data: { ignored: 'yes' } }, merge);
  await s.req('PATCH', `${ns}/configmaps/a`, { metadata: { labels: { tier: 'fe' } } }, merge);
  const evs = await w.next(3);
  t.same(
    evs.map((e) => e.type),
    ['ADDED', 'DELETED', 'ADDED'],
  );
  t.equal(evs[1]!.object.metadata.labels.tier, 'fe', 'DELETED carries the last matching state');
  t.ok(
    Number(evs[1]!.object.metadata.resourceVersion) > Number(evs[0]!.object.metadata.resourceVersion),
    '... at the new RV',
  );
  // Field selectors work the same way (spec.nodeName as the kubelet watches).
  const pw = s.watch(`${ns}/pods?watch=true&fieldSelector=spec.nodeName%3Dn1`);
  await s.req('POST', `${ns}/pods`, pod('p'));
  await s.req('POST', `${ns}/pods/p/binding`, { target: { name: 'n1' } });
  const [pe] = await pw.next(1);
  t.equal(pe!.type, 'ADDED', 'binding makes the pod enter the node watch');
  t.equal(pe!.object.spec.nodeName, 'n1');
});

t.test('bookmarks, timeoutSeconds, 410 for compacted history, Table rows', async (t) => {
  const s = await startTestServer(t, { bookmarkIntervalMs: 100, watchHistory: 5 });
  const first = await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'old' } });
  const bw = s.watch(
    `${ns}/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=${first.body.metadata.resourceVersion}&timeoutSeconds=1`,
  );
  const [bm] = await bw.next(1);
  t.equal(bm!.type, 'BOOKMARK');
  t.equal(bm!.object.kind, 'ConfigMap');
  t.ok(bm!.object.metadata.resourceVersion);
  await bw.ended;
  t.pass('watch ended after timeoutSeconds');

  for (let i = 0; i < 10; i++) await s.req('POST', `${ns}/configmaps`, { metadata: { name: `c${i}` } });
  const w = s.watch(`${ns}/configmaps?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`);
  t.equal(await w.status, 200);
  const [err] = await w.next(1);
  t.equal(err!.type, 'ERROR');
  t.equal(err!.object.code, 410);
  t.equal(err!.object.reason, 'Expired');
  t.match(err!.object.message, /^too old resource version: \d+ \(\d+\)$/);
  await w.ended;

  const tw = await new Promise<string[]>((resolve) => {
    const lines: string[] = [];
    const w2 = s.watch(`${ns}/configmaps?watch=true&labelSelector=tab%3D1`);
    void w2.status.then(async () => {
      await s.req('POST', `${ns}/configmaps`, { metadata: { name: 't1', labels: { tab: '1' } } });
      await s.req('POST', `${ns}/configmaps`, { metadata: { name: 't2', labels: { tab: '1' } } });
    });
    void w2.next(2).then((evs) => {
      for (const e of evs) lines.push(JSON.stringify(e));
      resolve(lines);
    });
  });
  t.same(
    tw.map((l) => JSON.parse(l).object.metadata.name),
    ['t1', 't2'],
    'a watch with no initial events still gets later ones',
  );
});

t.test('Table watch: first event carries column definitions', async (t) => {
  const s = await startTestServer(t);
  const http = await import('node:http');
  const url = new URL(s.server.url);
  const events = await new Promise<Record<string, any>[]>((resolve, reject) => {
    // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `${ns}/pods?watch=true`,
        headers: {
          authorization: `Bearer ${s.server.adminToken}`,
          accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
        },
      },
      (res) => {
        let buf = '';
        const out: Record<string, any>[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
        res.on('data', (d) => {
          buf += d;
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            out.push(JSON.parse(buf.slice(0, nl)));
            buf = buf.slice(nl + 1);
          }
          if (out.length >= 2) {
            r.destroy();
            resolve(out);
          }
        });
      },
    );
    r.on('error', reject);
    r.end();
    setTimeout(async () => {
      await s.req('POST', `${ns}/pods`, pod('x'));
      await s.req('POST', `${ns}/pods`, pod('y'));
    }, 100);
  });
  t.equal(events[0]!.object.kind, 'Table');
  t.same(
    events[0]!.object.columnDefinitions.slice(0, 6).map((c: { name: string }) => c.name),
    ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP'],
  );
  t.same(events[0]!.object.rows[0].cells.slice(0, 3), ['x', '0/1', 'Pending']);
  t.notOk(events[1]!.object.columnDefinitions, 'later events have no headers');
  t.equal(events[1]!.object.rows[0].object.kind, 'PartialObjectMetadata');
});
