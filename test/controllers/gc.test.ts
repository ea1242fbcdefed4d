// The garbage collector against a real API server through the in-process client: background, foreground and
// orphan propagation, dangling and mismatched-uid owners, several owners, and a restart in the middle of a deletion.
import t from 'tap';
import { resources } from '../../src/client/index.js';
import type { Client } from '../../src/client/types.js';
import type { GarbageCollector } from '../../src/controllers/index.js';
import { controllerEnv, eventually, getOrUndefined, ownerRef, type Obj } from './fixtures/env.js';

const ns = 'default';
const cms = resources.configmaps(ns);
const rss = resources.replicasets(ns);
const pods = resources.pods(ns);
const deps = resources.deployments(ns);

function deployment(name: string): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };
}

function replicaSet(name: string, owner?: Obj, block = true): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      ...(owner ? { ownerReferences: [ownerRef(owner, { controller: true, blockOwnerDeletion: block })] } : {}),
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };
}

function pod(name: string, owners: Obj[] = [], block = true): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ownerReferences: owners.map((o) => ownerRef(o, { blockOwnerDeletion: block })) },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  };
}

/** Deployment → ReplicaSet → two Pods, with real uids. */
async function chain(client: Client, prefix: string, block = true) {
  const d = (await client.create(deps, deployment(prefix))) as Obj;
  const rs = (await client.create(rss, replicaSet(`${prefix}-rs`, d, block))) as Obj;
  const p1 = (await client.create(pods, pod(`${prefix}-a`, [rs], block))) as Obj;
  const p2 = (await client.create(pods, pod(`${prefix}-b`, [rs], block))) as Obj;
  return { d, rs, p1, p2 };
}

t.test('watches every deletable resource but events', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const gc = env.controllers!.controllers[0] as GarbageCollector;
  t.ok(gc.watched.includes('v1/pods'), 'pods watched');
  t.ok(gc.watched.includes('apps/v1/replicasets'), 'replicasets watched');
  t.ok(gc.watched.includes('v1/namespaces'), 'cluster-scoped namespaces watched');
  t.notOk(gc.watched.includes('v1/events'), 'events ignored like upstream');
  t.notOk(
    gc.watched.some((r) => r.startsWith('metrics.k8s.io')),
    'read-only metrics are not deletable',
  );
});

t.test('background: dependents of a deleted owner go, transitively', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  const c = await chain(client, 'bg');
  const keep = (await client.create(pods, pod('unowned'))) as Obj;
  await client.delete(deps, 'bg', { propagationPolicy: 'Background' });
  t.notOk(await getOrUndefined(client, deps, 'bg'), 'owner deleted at once');
  await eventually('replicaset and pods collected', async () => {
    for (const [res, name] of [
      [rss, 'bg-rs'],
      [pods, 'bg-a'],
      [pods, 'bg-b'],
    ] as const)
      if (await getOrUndefined(client, res, name)) return false;
    return true;
  });
  const still = await getOrUndefined(client, pods, 'unowned');
  t.equal(still?.metadata.uid, keep.metadata.uid, 'objects without owners stay');
  t.not(c.p1.metadata.uid, keep.metadata.uid, 'a different pod');
});

t.test('foreground: the owner waits for blocking dependents, then its finalizer goes', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  await chain(client, 'fg');
  // Watch the order of deletions.
  const order: string[] = [];
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const list = (await client.list(deps)) as Obj;
  const watchOne = async (res: typeof deps) => {
    for await (const ev of client.watch(res, { resourceVersion: list.metadata.resourceVersion, signal: ac.signal }))
      if (ev.type === 'DELETED') order.push(String(ev.object.metadata?.name));
  };
  for (const res of [deps, rss, pods]) void watchOne(res).catch(() => {});
  await client.delete(deps, 'fg', { propagationPolicy: 'Foreground' });
  const marked = await getOrUndefined(client, deps, 'fg');
  t.ok(marked?.metadata.deletionTimestamp, 'owner is kept with a deletionTimestamp');
  t.ok(marked?.metadata.finalizers.includes('foregroundDeletion'), 'and the foregroundDeletion finalizer');
  await eventually('deployment gone', async () => !(await getOrUndefined(client, deps, 'fg')));
  t.notOk(await getOrUndefined(client, rss, 'fg-rs'), 'replicaset gone');
  t.notOk(await getOrUndefined(client, pods, 'fg-a'), 'pod gone');
  t.notOk(await getOrUndefined(client, pods, 'fg-b'), 'pod gone');
  await eventually('four deletions seen', async () => order.length >= 4);
  t.equal(order.at(-1), 'fg', `the owner is deleted last (${order.join(', ')})`);
  t.ok(
    order.indexOf('fg-rs') > order.indexOf('fg-a') && order.indexOf('fg-rs') > order.indexOf('fg-b'),
    'pods before their replicaset',
  );
});

t.test('foreground: dependents without blockOwnerDeletion do not hold the owner, but are still deleted', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  const owner = (await client.create(cms, { metadata: { name: 'nb-owner' } })) as Obj;
  await client.create(cms, {
    metadata: {
      name: 'nb-dep',
      ownerReferences: [ownerRef({ ...owner, apiVersion: 'v1', kind: 'ConfigMap' }, { blockOwnerDeletion: false })],
    },
  });
  await client.delete(cms, 'nb-owner', { propagationPolicy: 'Foreground' });
  await eventually('owner gone', async () => !(await getOrUndefined(client, cms, 'nb-owner')));
  t.pass('owner deleted');
  await eventually('dependent gone', async () => !(await getOrUndefined(client, cms, 'nb-dep')));
  t.pass('non-blocking dependent deleted');
});

t.test('orphan: dependents lose the ownerReference and stay; the owner goes', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  const c = await chain(client, 'or');
  await client.delete(deps, 'or', { propagationPolicy: 'Orphan' });
  await eventually('deployment gone', async () => !(await getOrUndefined(client, deps, 'or')));
  const rs = await getOrUndefined(client, rss, 'or-rs');
  t.equal(rs?.metadata.uid, c.rs.metadata.uid, 'replicaset kept');
  t.notOk(rs?.metadata.ownerReferences, 'without the reference to the deleted owner');
  const p = await getOrUndefined(client, pods, 'or-a');
  t.same(
    p?.metadata.ownerReferences.map((r: Obj) => r.uid),
    [c.rs.metadata.uid],
    'pods keep their reference to the surviving replicaset',
  );
});

t.test('dangling and mismatched owners: collected only after a live check', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  const real = (await client.create(cms, { metadata: { name: 'real' } })) as Obj;
  const realRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'real', uid: real.metadata.uid };
  await client.create(cms, { metadata: { name: 'good', ownerReferences: [realRef] } });
  await client.create(cms, {
    metadata: { name: 'wrong-uid', ownerReferences: [{ ...realRef, uid: '00000000-0000-0000-0000-000000000001' }] },
  });
  await client.create(cms, {
    metadata: {
      name: 'missing',
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'nope', uid: '00000000-0000-0000-0000-000000000002' },
      ],
    },
  });
  // Right uid, wrong kind: the Secret "real" does not exist, so that reference is dangling.
  await client.create(cms, { metadata: { name: 'wrong-kind', ownerReferences: [{ ...realRef, kind: 'Secret' }] } });
  // One solid and one dangling owner: the dangling reference is removed, the object stays.
  await client.create(cms, {
    metadata: {
      name: 'two-owners',
      ownerReferences: [
        realRef,
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: '00000000-0000-0000-0000-000000000003' },
      ],
    },
  });
  await eventually('dangling dependents collected', async () => {
    for (const n of ['wrong-uid', 'missing', 'wrong-kind']) if (await getOrUndefined(client, cms, n)) return false;
    return true;
  });
  const two = await eventually('dangling reference dropped', async () => {
    const o = await getOrUndefined(client, cms, 'two-owners');
    return o && o.metadata.ownerReferences?.length === 1 ? o : undefined;
  });
  t.equal(two.metadata.ownerReferences[0].uid, real.metadata.uid, 'the solid reference stays');
  t.ok(await getOrUndefined(client, cms, 'good'), 'a dependent of an existing owner stays');
  t.ok(await getOrUndefined(client, cms, 'real'), 'the owner stays');
});

t.test('an owner whose informer has not seen it is verified, not deleted-for', async (t) => {
  const env = await controllerEnv(t);
  const { client } = env;
  // Created while no collector runs: at start the dependents and owners arrive in any order.
  const c = await chain(client, 'early');
  await env.startControllers(['garbagecollector']);
  await new Promise((r) => setTimeout(r, 500));
  for (const [res, name] of [
    [deps, 'early'],
    [rss, 'early-rs'],
    [pods, 'early-a'],
  ] as const)
    t.ok(await getOrUndefined(client, res, name), `${name} stays`);
  // The collector did see the chain: deleting the top collects the rest.
  await client.delete(deps, 'early');
  await eventually('chain collected', async () => !(await getOrUndefined(client, pods, 'early-b')));
  t.notOk(await getOrUndefined(client, rss, c.rs.metadata.name), 'replicaset collected');
});

t.test('restart-safe: deletions left half-done while no collector ran are finished from lists', async (t) => {
  const env = await controllerEnv(t);
  const { client } = env;
  await chain(client, 'rs1');
  await chain(client, 'rs2');
  await chain(client, 'rs3');
  // No collector: nothing acts on these yet.
  await client.delete(deps, 'rs1', { propagationPolicy: 'Background' });
  await client.delete(deps, 'rs2', { propagationPolicy: 'Foreground' });
  await client.delete(deps, 'rs3', { propagationPolicy: 'Orphan' });
  await new Promise((r) => setTimeout(r, 200));
  t.ok(await getOrUndefined(client, rss, 'rs1-rs'), 'without a collector the orphaned replicaset stays');
  t.ok((await getOrUndefined(client, deps, 'rs2'))?.metadata.deletionTimestamp, 'and the foreground owner waits');
  await env.startControllers(['garbagecollector']);
  await eventually('background dependents collected', async () => !(await getOrUndefined(client, pods, 'rs1-a')));
  await eventually('foreground owner finished', async () => !(await getOrUndefined(client, deps, 'rs2')));
  t.notOk(await getOrUndefined(client, pods, 'rs2-b'), 'its pods went first');
  await eventually('orphan owner finished', async () => !(await getOrUndefined(client, deps, 'rs3')));
  const rs3 = await getOrUndefined(client, rss, 'rs3-rs');
  t.ok(rs3, 'orphaned replicaset kept');
  t.notOk(rs3?.metadata.ownerReferences, 'without its reference');
  // A collector stopped in the middle and started again finishes too.
  await chain(client, 'rs4');
  await env.stopControllers();
  await client.delete(deps, 'rs4', { propagationPolicy: 'Foreground' });
  await env.startControllers(['garbagecollector']);
  await eventually('restarted collector finishes', async () => !(await getOrUndefined(client, deps, 'rs4')));
  t.notOk(await getOrUndefined(client, rss, 'rs4-rs'), 'with its replicaset');
});

t.test('cluster-scoped owner of namespaced dependents', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  const nsObj = (await client.create(resources.namespaces(), { metadata: { name: 'owner-ns' } })) as Obj;
  // A namespace (cluster-scoped) owning a config map in another namespace: references to cluster-scoped owners
  // are valid from any namespace.
  await client.create(cms, {
    metadata: { name: 'owned-by-ns', ownerReferences: [ownerRef({ ...nsObj, apiVersion: 'v1', kind: 'Namespace' })] },
  });
  await new Promise((r) => setTimeout(r, 300));
  t.ok(await getOrUndefined(client, cms, 'owned-by-ns'), 'kept while the owner exists');
  await client.delete(resources.namespaces(), 'owner-ns');
  await eventually('dependent collected', async () => !(await getOrUndefined(client, cms, 'owned-by-ns')));
});

t.test('foreground deletion of an ownership cycle does not deadlock', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  const cm = (o: Obj) => ({ ...o, apiVersion: 'v1', kind: 'ConfigMap' });
  const a = (await client.create(cms, { metadata: { name: 'cycle-a' } })) as Obj;
  const b = (await client.create(cms, {
    metadata: { name: 'cycle-b', ownerReferences: [ownerRef(cm(a), { blockOwnerDeletion: true })] },
  })) as Obj;
  await client.patch(cms, 'cycle-a', {
    metadata: { ownerReferences: [ownerRef(cm(b), { blockOwnerDeletion: true })] },
  });
  await client.delete(cms, 'cycle-a', { propagationPolicy: 'Foreground' });
  await eventually('both gone', async () => {
    const [x, y] = await Promise.all([getOrUndefined(client, cms, 'cycle-a'), getOrUndefined(client, cms, 'cycle-b')]);
    return !x && !y;
  });
  t.pass('the cycle was collected');
});

t.test('many owners deleted at once', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  const owners: Obj[] = [];
  for (let i = 0; i < 6; i++) owners.push((await client.create(deps, deployment(`many${i}`))) as Obj);
  for (let i = 0; i < 6; i++) {
    const rs = (await client.create(rss, replicaSet(`many${i}-rs`, owners[i]))) as Obj;
    for (const p of ['a', 'b', 'c']) await client.create(pods, pod(`many${i}-${p}`, [rs]));
  }
  // A pod owned by two replica sets survives while one of them does.
  const rs0 = (await client.get(rss, 'many0-rs')) as Obj;
  const rs5 = (await client.get(rss, 'many5-rs')) as Obj;
  await client.create(pods, pod('shared', [rs0, rs5]));
  await Promise.all(
    owners
      .slice(0, 5)
      .map((o, i) => client.delete(deps, o.metadata.name, { propagationPolicy: i % 2 ? 'Foreground' : 'Background' })),
  );
  await eventually('dependents of the five collected', async () => {
    const left = ((await client.list(pods)) as Obj).items.map((p: Obj) => p.metadata.name).sort();
    return left.join(',') === 'many5-a,many5-b,many5-c,shared';
  });
  const shared = await eventually('the dangling reference of the shared pod dropped', async () => {
    const p = await getOrUndefined(client, pods, 'shared');
    return p?.metadata.ownerReferences?.length === 1 ? p : undefined;
  });
  t.equal(shared.metadata.ownerReferences[0].uid, rs5.metadata.uid);
  await eventually('only the untouched replicaset and deployment left', async () => {
    const left = [...((await client.list(rss)) as Obj).items, ...((await client.list(deps)) as Obj).items].map(
      (r: Obj) => r.metadata.name,
    );
    return left.sort().join(',') === 'many5,many5-rs';
  });
  t.pass('owners and replicasets of the five are gone');
});

t.test('a cluster-scoped object naming a namespaced owner is left alone', async (t) => {
  const env = await controllerEnv(t, ['garbagecollector']);
  const { client } = env;
  await client.create(resources.nodes(), {
    metadata: {
      name: 'odd-node',
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg', uid: '00000000-0000-0000-0000-00000000000a' },
      ],
    },
  });
  await eventually('the collector reports the invalid reference', async () =>
    env.logs.some((l) => /odd-node.*cluster-scoped object names a namespaced owner/.test(l)),
  );
  t.ok(await getOrUndefined(client, resources.nodes(), 'odd-node'), 'not deleted (upstream reports and skips it)');
});
