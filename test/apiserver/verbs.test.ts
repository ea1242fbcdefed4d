import t from 'tap';
import { startTestServer, pod, deployment } from './helpers.js';

t.test('create, get, list, update, delete', async (t) => {
  const s = await startTestServer(t);
  const c = await s.req('POST', '/api/v1/namespaces/default/pods', pod('a'));
  t.equal(c.status, 201);
  t.ok(c.body.metadata.uid, 'uid assigned');
  t.match(c.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.equal(c.body.metadata.generation, 1);
  t.ok(Number(c.body.metadata.resourceVersion) > 0);
  t.equal(c.body.status.phase, 'Pending');

  const dup = await s.req('POST', '/api/v1/namespaces/default/pods', pod('a'));
  t.equal(dup.status, 409);
  t.equal(dup.body.reason, 'AlreadyExists');
  t.equal(dup.body.message, 'pods "a" already exists');

  const g = await s.req('GET', '/api/v1/namespaces/default/pods/a');
  t.same(g.body, c.body, 'get returns what create returned');

  const missing = await s.req('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
  t.equal(missing.status, 404);
  t.equal(missing.body.message, 'deployments.apps "nope" not found');
  t.same(missing.body.details, { name: 'nope', group: 'apps', kind: 'deployments' });

  const gen = await s.req('POST', '/api/v1/namespaces/default/pods', {
    ...pod(''),
    metadata: { generateName: 'web-' },
  });
  t.equal(gen.status, 201);
  t.match(gen.body.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);

  const list = await s.req('GET', '/api/v1/namespaces/default/pods');
  t.equal(list.body.kind, 'PodList');
  t.equal(list.body.items.length, 2);
  t.ok(Number(list.body.metadata.resourceVersion) >= Number(gen.body.metadata.resourceVersion));

  // Update with a stale resourceVersion: 409 with upstream's message.
  const d = await s.req('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('web'));
  t.equal(d.status, 201);
  const upd = structuredClone(d.body);
  upd.spec.replicas = 5;
  const ok = await s.req('PUT', '/apis/apps/v1/namespaces/default/deployments/web', upd);
  t.equal(ok.status, 200);
  t.equal(ok.body.spec.replicas, 5);
  t.equal(ok.body.metadata.generation, 2, 'spec change bumps generation');
  const stale = await s.req('PUT', '/apis/apps/v1/namespaces/default/deployments/web', upd);
  t.equal(stale.status, 409);
  t.equal(
    stale.body.message,
    'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
  );
  t.same(stale.body.details, { name: 'web', group: 'apps', kind: 'deployments' });

  // Status is ignored on the main resource and written through /status.
  const withStatus = { ...ok.body, status: { replicas: 9 } };
  const ignored = await s.req('PUT', '/apis/apps/v1/namespaces/default/deployments/web', withStatus);
  t.same(ignored.body.status, {}, 'status change on main resource ignored');
  const st = await s.req('PUT', '/apis/apps/v1/namespaces/default/deployments/web/status', {
    ...ignored.body,
    status: { replicas: 9 },
    spec: { ...ignored.body.spec, replicas: 1 },
  });
  t.equal(st.status, 200);
  t.equal(st.body.status.replicas, 9);
  t.equal(st.body.spec.replicas, 5, 'status write leaves spec alone');
  t.equal(st.body.metadata.generation, 2, 'status write does not bump generation');

  const del = await s.req('DELETE', '/apis/apps/v1/namespaces/default/deployments/web');
  t.equal(del.status, 200);
  t.equal((await s.req('GET', '/apis/apps/v1/namespaces/default/deployments/web')).status, 404);
});

t.test('namespace must exist; terminating namespaces refuse content and are emptied', async (t) => {
  const s = await startTestServer(t);
  const r = await s.req('POST', '/api/v1/namespaces/nope/configmaps', { metadata: { name: 'x' } });
  t.equal(r.status, 404);
  t.equal(r.body.message, 'namespaces "nope" not found');
  t.equal((await s.req('POST', '/api/v1/namespaces', { metadata: { name: 'shop' } })).status, 201);
  t.equal(
    (await s.req('POST', '/api/v1/namespaces/shop/configmaps', { metadata: { name: 'x' }, data: { a: 'b' } })).status,
    201,
  );
  t.equal((await s.req('POST', '/api/v1/namespaces/shop/pods', pod('p'))).status, 201);
  t.equal((await s.req('POST', '/apis/apps/v1/namespaces/shop/deployments', deployment('d'))).status, 201);
  const del = await s.req('DELETE', '/api/v1/namespaces/shop');
  t.equal(del.status, 200);
  t.equal(del.body.status.phase, 'Terminating');
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    gone = (await s.req('GET', '/api/v1/namespaces/shop')).status === 404;
    if (!gone) {
      const late = await s.req('POST', '/api/v1/namespaces/shop/configmaps', { metadata: { name: 'late' } });
      if (late.status !== 404) {
        t.equal(late.status, 403, 'no new content while terminating');
        t.match(late.body.message, /because it is being terminated/);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.ok(gone, 'namespace deleted after its content');
  t.equal(
    (await s.req('GET', '/api/v1/configmaps')).body.items.filter(
      (i: { metadata: { namespace: string } }) => i.metadata.namespace === 'shop',
    ).length,
    0,
  );
  t.equal((await s.req('GET', '/apis/apps/v1/deployments')).body.items.length, 0);
});

t.test('graceful pod deletion, finalizers, preconditions, propagation', async (t) => {
  const s = await startTestServer(t);
  // An unscheduled pod goes at once; a scheduled one gets deletionTimestamp and the grace period.
  await s.req('POST', '/api/v1/namespaces/default/pods', pod('u'));
  t.equal((await s.req('DELETE', '/api/v1/namespaces/default/pods/u')).status, 200);
  t.equal((await s.req('GET', '/api/v1/namespaces/default/pods/u')).status, 404);

  await s.req(
    'POST',
    '/api/v1/namespaces/default/pods',
    pod('b', { spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } }),
  );
  const del = await s.req('DELETE', '/api/v1/namespaces/default/pods/b', { gracePeriodSeconds: 20 });
  t.equal(del.status, 200);
  t.ok(del.body.metadata.deletionTimestamp);
  t.equal(del.body.metadata.deletionGracePeriodSeconds, 20);
  t.equal((await s.req('GET', '/api/v1/namespaces/default/pods/b')).status, 200, 'still there while terminating');
  const force = await s.req('DELETE', '/api/v1/namespaces/default/pods/b', { gracePeriodSeconds: 0 });
  t.equal(force.status, 200);
  t.equal((await s.req('GET', '/api/v1/namespaces/default/pods/b')).status, 404, 'grace 0 finishes it');

  // Preconditions.
  const cm = await s.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm' } });
  const pre = await s.req('DELETE', '/api/v1/namespaces/default/configmaps/cm', { preconditions: { uid: 'other' } });
  t.equal(pre.status, 409);
  t.match(pre.body.message, /Precondition failed: UID in precondition: other, UID in object meta: /);
  const preRv = await s.req('DELETE', '/api/v1/namespaces/default/configmaps/cm', {
    preconditions: { resourceVersion: '1' },
  });
  t.equal(preRv.status, 409);
  t.equal(
    (
      await s.req('DELETE', '/api/v1/namespaces/default/configmaps/cm', {
        preconditions: { uid: cm.body.metadata.uid },
      })
    ).status,
    200,
  );

  // A finalizer holds the object until it is removed.
  await s.req('POST', '/api/v1/namespaces/default/configmaps', {
    metadata: { name: 'f', finalizers: ['example.com/hold'] },
  });
  const held = await s.req('DELETE', '/api/v1/namespaces/default/configmaps/f');
  t.ok(held.body.metadata.deletionTimestamp);
  const cur = (await s.req('GET', '/api/v1/namespaces/default/configmaps/f')).body;
  t.equal(cur.metadata.finalizers[0], 'example.com/hold');
  const addFin = await s.req(
    'PATCH',
    '/api/v1/namespaces/default/configmaps/f',
    { metadata: { finalizers: ['example.com/hold', 'x.io/new'] } },
    { 'content-type': 'application/merge-patch+json' },
  );
  t.equal(addFin.status, 422, 'no new finalizers while deleting');
  const rel = await s.req(
    'PATCH',
    '/api/v1/namespaces/default/configmaps/f',
    { metadata: { finalizers: null } },
    { 'content-type': 'application/merge-patch+json' },
  );
  t.equal(rel.status, 200);
  t.equal(
    (await s.req('GET', '/api/v1/namespaces/default/configmaps/f')).status,
    404,
    'removing the last finalizer deletes',
  );

  // Propagation policies become finalizers for the garbage collector.
  await s.req('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('fg'));
  const fg = await s.req('DELETE', '/apis/apps/v1/namespaces/default/deployments/fg', {
    propagationPolicy: 'Foreground',
  });
  t.same(fg.body.metadata.finalizers, ['foregroundDeletion']);
  await s.req('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('or'));
  const or = await s.req('DELETE', '/apis/apps/v1/namespaces/default/deployments/or?propagationPolicy=Orphan');
  t.same(or.body.metadata.finalizers, ['orphan']);
  const bad = await s.req('DELETE', '/apis/apps/v1/namespaces/default/deployments/or', {
    propagationPolicy: 'Sideways',
  });
  t.equal(bad.status, 422);
});

t.test('deletecollection with selectors, list paging', async (t) => {
  const s = await startTestServer(t);
  for (let i = 0; i < 7; i++)
    await s.req('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: `c${i}`, labels: { n: String(i % 2) } },
    });
  const p1 = await s.req('GET', '/api/v1/namespaces/default/configmaps?limit=3');
  t.equal(p1.body.items.length, 3);
  t.ok(p1.body.metadata.continue);
  const p2 = await s.req(
    'GET',
    `/api/v1/namespaces/default/configmaps?limit=3&continue=${encodeURIComponent(p1.body.metadata.continue)}`,
  );
  const p3 = await s.req(
    'GET',
    `/api/v1/namespaces/default/configmaps?limit=3&continue=${encodeURIComponent(p2.body.metadata.continue)}`,
  );
  const names = [...p1.body.items, ...p2.body.items, ...p3.body.items].map(
    (i: { metadata: { name: string } }) => i.metadata.name,
  );
  t.same(names, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
  t.notOk(p3.body.metadata.continue);
  t.equal(p1.body.metadata.resourceVersion, p3.body.metadata.resourceVersion, 'all pages at one revision');
  const badCont = await s.req('GET', '/api/v1/namespaces/default/configmaps?limit=3&continue=garbage');
  t.equal(badCont.status, 400);
  // resourceVersion=0 is served whole from the watch cache, limit or not (upstream's cacher; informers' first list).
  const any = await s.req('GET', '/api/v1/namespaces/default/configmaps?limit=3&resourceVersion=0');
  t.equal(any.body.items.length, 7);
  t.notOk(any.body.metadata.continue, 'no continue token');

  const dc = await s.req('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=n%3D1');
  t.equal(dc.status, 200);
  t.equal(dc.body.items.length, 3);
  const left = await s.req('GET', '/api/v1/namespaces/default/configmaps');
  t.same(
    left.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ['c0', 'c2', 'c4', 'c6'],
  );
  const fsel = await s.req('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%21%3Dc0');
  t.equal(fsel.body.items.length, 3);
  const badField = await s.req('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=spec.foo%3Dx');
  t.equal(badField.status, 400);
  t.equal(badField.body.message, 'field label not supported: spec.foo');
  const podField = await s.req('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3D%2Cstatus.phase%3DPending');
  t.equal(podField.status, 200);
  const exact = await s.req(
    'GET',
    `/api/v1/namespaces/default/configmaps?resourceVersion=${p1.body.metadata.resourceVersion}&resourceVersionMatch=Exact`,
  );
  t.equal(exact.body.items.length, 7, 'Exact reads the past');
});

t.test('patch types, scale, binding, eviction, log', async (t) => {
  const s = await startTestServer(t);
  await s.req('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('web'));
  const base = '/apis/apps/v1/namespaces/default/deployments/web';
  const merge = await s.req(
    'PATCH',
    base,
    { metadata: { labels: { x: 'y' } } },
    { 'content-type': 'application/merge-patch+json' },
  );
  t.equal(merge.body.metadata.labels.x, 'y');
  const smp = await s.req(
    'PATCH',
    base,
    { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } } },
    { 'content-type': 'application/strategic-merge-patch+json' },
  );
  t.equal(smp.body.spec.template.spec.containers[0].image, 'nginx:1.27');
  t.equal(smp.body.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent', 'defaults kept');
  const jp = await s.req('PATCH', base, [{ op: 'replace', path: '/spec/replicas', value: 4 }], {
    'content-type': 'application/json-patch+json',
  });
  t.equal(jp.body.spec.replicas, 4);
  const staleRv = await s.req(
    'PATCH',
    base,
    { metadata: { resourceVersion: '1' }, spec: { replicas: 1 } },
    { 'content-type': 'application/merge-patch+json' },
  );
  t.equal(staleRv.status, 409, 'resourceVersion in a patch is a precondition');
  const noop = await s.req(
    'PATCH',
    base,
    { spec: { replicas: 4 } },
    { 'content-type': 'application/merge-patch+json' },
  );
  t.equal(noop.body.metadata.resourceVersion, jp.body.metadata.resourceVersion, 'no-op patch writes nothing');
  const bad = await s.req('PATCH', base, { spec: { replicas: 1 } }, { 'content-type': 'text/plain' });
  t.equal(bad.status, 415);
  const apply = await s.req(
    'PATCH',
    '/api/v1/namespaces/default/configmaps/ssa?fieldManager=me',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' }, data: { a: '1' } },
    { 'content-type': 'application/apply-patch+yaml' },
  );
  t.equal(apply.status, 201, 'apply creates');
  t.equal(apply.body.metadata.managedFields[0].manager, 'me');

  const scale = await s.req('GET', `${base}/scale`);
  t.same(scale.body.spec, { replicas: 4 });
  t.equal(scale.body.status.selector, 'app=web');
  const sp = await s.req(
    'PATCH',
    `${base}/scale`,
    { spec: { replicas: 7 } },
    { 'content-type': 'application/merge-patch+json' },
  );
  t.equal(sp.body.spec.replicas, 7);
  t.equal((await s.req('GET', base)).body.spec.replicas, 7);
  const neg = await s.req('PUT', `${base}/scale`, { ...sp.body, spec: { replicas: -1 } });
  t.equal(neg.status, 422);
  const staleScale = await s.req('PUT', `${base}/scale`, { ...scale.body, spec: { replicas: 2 } });
  t.equal(staleScale.status, 409);

  await s.req('POST', '/api/v1/namespaces/default/pods', pod('p'));
  const log = await s.req('GET', '/api/v1/namespaces/default/pods/p/log');
  t.equal(log.status, 400);
  t.match(log.body.message, /waiting to start/);
  const bind = await s.req('POST', '/api/v1/namespaces/default/pods/p/binding', {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: 'p' },
    target: { kind: 'Node', name: 'n1' },
  });
  t.equal(bind.status, 201);
  const bound = (await s.req('GET', '/api/v1/namespaces/default/pods/p')).body;
  t.equal(bound.spec.nodeName, 'n1');
  t.ok(
    bound.status.conditions.some(
      (c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'True',
    ),
  );
  const again = await s.req('POST', '/api/v1/namespaces/default/pods/p/binding', { target: { name: 'n2' } });
  t.equal(again.status, 409);
  t.match(again.body.message, /already assigned to node "n1"/);
  const log2 = await s.req('GET', '/api/v1/namespaces/default/pods/p/log');
  t.equal(log2.status, 503, 'no node agent yet: clear error');
  const ev = await s.req('POST', '/api/v1/namespaces/default/pods/p/eviction', {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'p' },
    deleteOptions: { gracePeriodSeconds: 0 },
  });
  t.equal(ev.status, 201);
  t.equal((await s.req('GET', '/api/v1/namespaces/default/pods/p')).status, 404);
});

t.test(
  'a create records the sent and defaulted fields as the manager’s, not what admission or the strategy set',
  async (t) => {
    const s = await startTestServer(t);
    const c = await s.req('POST', '/api/v1/namespaces/default/pods?fieldManager=maker', pod('owned'));
    t.equal(c.status, 201);
    const [entry, ...rest] = c.body.metadata.managedFields;
    t.same(rest, [], 'one entry');
    t.equal(entry.manager, 'maker');
    t.equal(entry.operation, 'Update');
    const f = entry.fieldsV1;
    t.ok(f['f:metadata']['f:labels']['f:app'], 'sent label');
    const container = f['f:spec']['f:containers']['k:{"name":"c"}'];
    t.ok(container['f:image'], 'sent image');
    t.ok(container['f:imagePullPolicy'], 'defaulted on decode, as upstream');
    t.ok(f['f:spec']['f:dnsPolicy'], 'defaulted on decode, as upstream');
    // Set by admission (ServiceAccount, DefaultTolerationSeconds, Priority) or PrepareForCreate (status): unowned.
    t.ok(c.body.spec.serviceAccountName && c.body.spec.tolerations && c.body.status.phase, 'the fields are set');
    for (const k of ['f:serviceAccountName', 'f:serviceAccount', 'f:tolerations', 'f:priority'])
      t.notOk(k in f['f:spec'], `${k} is nobody's`);
    t.notOk('f:status' in f, 'status is nobody’s');
  },
);
