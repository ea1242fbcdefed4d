// The scheduler daemon against skiff's real API server (SQLite in a temp dir, loopback HTTP) with the real client
// and informers: pods are bound through pods/binding; an unschedulable pod gets FailedScheduling and
// PodScheduled=False, then is bound when a fitting node is created.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../../src/apiserver/server.js';
import { createClient } from '../../../src/client/create.js';
import { resources, type Client } from '../../../src/client/index.js';
import { SchedulerDaemon } from '../../../src/scheduler/daemon/daemon.js';
import { runScheduler } from '../../../src/scheduler/daemon/run.js';
import { SchedulingQueue } from '../../../src/scheduler/daemon/queue.js';
import { resolveProfile } from '../../../src/scheduler/profile.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function node(name: string, cpu: string) {
  const res = { cpu, memory: '8Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { capacity: res, allocatable: res, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, cpu: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
  };
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The FailedScheduling event of pod `name` in default, once there is one. */
async function failedScheduling(client: Client, name: string): Promise<Obj> {
  const find = async () =>
    (await client.list<Obj>(resources.events('default'))).items.find(
      (e) => e.reason === 'FailedScheduling' && e.involvedObject?.name === name,
    );
  await until(async () => !!(await find()), `FailedScheduling event for ${name}`);
  return (await find())!;
}

/** An API server in a temp dir and a daemon (not started) on a client of it; all torn down with the test. */
async function daemonOnServer(t: Test, transport: 'http' | 'direct', engine: 'ts' | 'wasm') {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-scheduler-api-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  const client =
    transport === 'http'
      ? createClient({ server: server.url, token: server.adminToken })
      : createClient({ inject: server.fastify, token: server.adminToken });
  const daemon = new SchedulerDaemon({
    client,
    profiles: [resolveProfile()],
    engine,
    queue: new SchedulingQueue({ initialBackoffMs: 50, maxBackoffMs: 200 }),
  });
  t.teardown(async () => {
    await daemon.stop();
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { client, daemon };
}

t.test('binds pods created through the API and reports unschedulable ones', async (t) => {
  const { client, daemon } = await daemonOnServer(t, 'http', 'ts');

  const created = await client.create<Obj>(resources.nodes(), node('n1', '1'));
  t.equal(created.status?.allocatable?.cpu, '1', 'node status kept on create');
  await daemon.start();
  await client.create(resources.pods('default'), pod('web', '500m'));
  const nodeOf = async (name: string) => (await client.get<Obj>(resources.pods('default'), name)).spec?.nodeName;
  await until(async () => (await nodeOf('web')) === 'n1', 'web bound to n1');
  t.pass('web bound');

  await client.create(resources.pods('default'), pod('big', '2'));
  const failed = await failedScheduling(client, 'big');
  t.match(failed.message, /^0\/1 nodes are available: 1 Insufficient cpu\./);
  await until(
    async () =>
      ((await client.get<Obj>(resources.pods('default'), 'big')).status?.conditions ?? []).some(
        (c: Obj) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
      ),
    'PodScheduled=False on big',
  );
  t.pass('PodScheduled=False recorded');

  await client.create(resources.nodes(), node('n2', '4'));
  await until(async () => (await nodeOf('big')) === 'n2', 'big bound once n2 exists');
  // Events are written in the background, after the binding.
  await daemon.recorder.flush();
  const scheduled = (await client.list<Obj>(resources.events('default'))).items.filter((e) => e.reason === 'Scheduled');
  t.same(scheduled.map((e) => e.message).sort(), [
    'Successfully assigned default/big to n2',
    'Successfully assigned default/web to n1',
  ]);
});

t.test('two replicas with leader election: one schedules, the other takes over when it stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-scheduler-le-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  const client = createClient({ server: server.url, token: server.adminToken });
  const leaderElection = {
    leaderElect: true,
    resourceName: 'kube-scheduler',
    resourceNamespace: 'kube-system',
    leaseDurationMs: 1500,
    renewDeadlineMs: 1000,
    retryPeriodMs: 200,
  };
  const start = () => runScheduler({ client, engine: 'ts', config: { profiles: [resolveProfile()], leaderElection } });
  const a = start();
  const b = start();
  t.teardown(async () => {
    await a.stop();
    await b.stop();
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await client.create(resources.nodes(), node('n1', '4'));
  await client.create(resources.pods('default'), pod('first', '100m'));
  const nodeOf = async (name: string) => (await client.get<Obj>(resources.pods('default'), name)).spec?.nodeName;
  await until(async () => (await nodeOf('first')) === 'n1', 'first bound');
  const lease = async () =>
    (
      await client.get<Obj>(
        { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' },
        'kube-scheduler',
      )
    ).spec;
  const holder = (await lease()).holderIdentity as string;
  t.ok(holder, 'a replica holds the lease');
  // Stop whichever replica leads; the other must take over and keep scheduling.
  const [leader, other] = a.daemon.stats.scheduled > 0 ? [a, b] : [b, a];
  t.equal(leader.daemon.stats.scheduled, 1);
  t.equal(other.daemon.stats.scheduled, 0, 'the standby did not schedule');
  await leader.stop();
  await client.create(resources.pods('default'), pod('second', '100m'));
  await until(async () => (await nodeOf('second')) === 'n1', 'second bound by the new leader');
  t.equal(other.daemon.stats.scheduled, 1);
  t.not((await lease()).holderIdentity, holder, 'the lease changed hands');
});

t.test('in process (shared objects): a bound pod keeps holding its node in the engine', async (t) => {
  const { client, daemon } = await daemonOnServer(t, 'direct', 'wasm');
  t.ok(client.inProcess, 'the direct transport');
  await client.create(resources.nodes(), node('n1', '1'));
  await daemon.start();
  const nodeOf = async (name: string) => (await client.get<Obj>(resources.pods('default'), name)).spec?.nodeName;
  for (const name of ['a', 'b']) {
    await client.create(resources.pods('default'), pod(name, '400m'));
    await until(async () => (await nodeOf(name)) === 'n1', `${name} bound to n1`);
  }
  // 800m of 1 cpu are taken by pods whose bound copies the engine did not need to take again.
  await client.create(resources.pods('default'), pod('c', '400m'));
  const failed = await failedScheduling(client, 'c');
  t.match(failed.message, /^0\/1 nodes are available: 1 Insufficient cpu\./);
  t.equal(await nodeOf('c'), undefined);
});
