// The pod garbage collector with short periods: pods bound to missing nodes (after quarantine and a live check),
// terminating pods on out-of-service nodes, and terminated pods beyond the threshold.
import t, { type Test } from 'tap';
import { resources } from '../../src/client/index.js';
import { PodGarbageCollector } from '../../src/controllers/index.js';
import { controllerEnv, eventually, getOrUndefined, type Obj } from './fixtures/env.js';

const pods = resources.pods('default');
const nodes = resources.nodes();

function pod(name: string, nodeName?: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...(nodeName ? { nodeName } : {}) },
  };
}

function node(name: string, ready: boolean, taints: Obj[] = []): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { taints },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

async function setup(t: Test, opts: ConstructorParameters<typeof PodGarbageCollector>[1] = {}) {
  const env = await controllerEnv(t);
  const gc = new PodGarbageCollector(
    { client: env.client, log: (l) => env.logs.push(l) },
    { checkPeriodMs: 50, quarantineMs: 200, ...opts },
  );
  return { env, gc, start: async () => (await gc.start(), t.teardown(() => gc.stop())) };
}

/** Waits for `n` more completed passes. */
const passes = (gc: PodGarbageCollector, n: number) => {
  const target = gc.passes + n;
  return eventually(`${n} podgc passes`, async () => gc.passes >= target);
};

t.test('pods bound to a node that does not exist are marked Failed and deleted', async (t) => {
  const { env, gc, start } = await setup(t);
  const { client } = env;
  await client.create(nodes, node('n1', true));
  await client.create(pods, pod('on-ghost', 'ghost'));
  await client.create(pods, pod('on-n1', 'n1'));
  const list = (await client.list(pods)) as Obj;
  const seen: Obj[] = [];
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  void (async () => {
    for await (const ev of client.watch(pods, { resourceVersion: list.metadata.resourceVersion, signal: ac.signal }))
      if (ev.object.metadata?.name === 'on-ghost') seen.push({ type: ev.type, obj: ev.object });
  })().catch(() => {});
  await start();
  await eventually('orphaned pod deleted', async () => !(await getOrUndefined(client, pods, 'on-ghost')));
  const failed = seen.find((e) => e.type === 'MODIFIED' && e.obj.status?.phase === 'Failed');
  t.ok(failed, 'marked Failed before deletion');
  t.match(failed?.obj.status.conditions, [
    { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' },
  ]);
  t.match(env.logs.join('\n'), /on-ghost is bound to node ghost, which no longer exists/);
  await passes(gc, 2);
  t.ok(await getOrUndefined(client, pods, 'on-n1'), 'a pod on an existing node stays');
  // Delete the node: after the quarantine its pod goes too.
  await client.delete(nodes, 'n1');
  await eventually('pod of the deleted node collected', async () => !(await getOrUndefined(client, pods, 'on-n1')));
});

t.test('a node that comes back within the quarantine keeps its pods', async (t) => {
  const { env, gc, start } = await setup(t, { quarantineMs: 400 });
  const { client } = env;
  await client.create(pods, pod('waits', 'late-node'));
  await start();
  await passes(gc, 1);
  await client.create(nodes, node('late-node', true));
  // Passes are at least 50 ms apart: 20 of them outlast the quarantine.
  await passes(gc, 20);
  t.ok(await getOrUndefined(client, pods, 'waits'), 'still there');
});

t.test('terminating pods on not-ready out-of-service nodes are force-deleted', async (t) => {
  const { env, gc, start } = await setup(t);
  const { client } = env;
  await client.create(
    nodes,
    node('broken', false, [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }]),
  );
  await client.create(nodes, node('fine', true, [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }]));
  await client.create(pods, pod('stuck', 'broken'));
  await client.create(pods, pod('healthy', 'fine'));
  await client.delete(pods, 'stuck');
  await client.delete(pods, 'healthy');
  t.ok((await getOrUndefined(client, pods, 'stuck'))?.metadata.deletionTimestamp, 'graceful: waits for its kubelet');
  await start();
  await eventually('stuck pod force-deleted', async () => !(await getOrUndefined(client, pods, 'stuck')));
  await passes(gc, 2);
  t.ok(await getOrUndefined(client, pods, 'healthy'), 'a ready node still gets to finish its own pod');
});

t.test('terminated pods beyond the threshold: the oldest go first', async (t) => {
  const { env, gc, start } = await setup(t, { terminatedPodThreshold: 2 });
  const { client } = env;
  await client.create(nodes, node('n', true));
  for (const name of ['t1', 't2', 't3', 't4']) {
    await client.create(pods, pod(name, 'n'));
    // Creation timestamps have one-second resolution; names break ties (t1 < t2 < …).
    await client.patch(pods, name, { status: { phase: 'Succeeded' } }, { subresource: 'status' });
  }
  await client.create(pods, pod('running', 'n'));
  await start();
  await eventually('two oldest terminated pods deleted', async () => {
    const names = ((await client.list(pods)) as Obj).items.map((p: Obj) => p.metadata.name).sort();
    return names.join(',') === 'running,t3,t4';
  });
  await passes(gc, 2);
  t.same(((await client.list(pods)) as Obj).items.map((p: Obj) => p.metadata.name).sort(), ['running', 't3', 't4']);
});
