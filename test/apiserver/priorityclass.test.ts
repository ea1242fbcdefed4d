// scheduling.k8s.io/v1 PriorityClasses, the Priority admission of pods, and a second delete that drops the last finalizer.
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, pod } from './helpers.js';

const run = promisify(execFile);

const pcs = '/apis/scheduling.k8s.io/v1/priorityclasses';
const pods = '/api/v1/namespaces/default/pods';
const pc = (name: string, value: number, extra: object = {}) => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
  ...extra,
});

t.test('PriorityClass resource: discovery, system classes, validation, table', async (t) => {
  const s = await startTestServer(t);
  const disc = await s.req('GET', '/apis/scheduling.k8s.io/v1');
  t.equal(disc.status, 200, disc.text);
  const res = disc.body.resources.find((r: { name: string }) => r.name === 'priorityclasses');
  t.ok(res, 'priorityclasses listed');
  t.same(res.shortNames, ['pc']);
  t.equal(res.namespaced, false);
  t.equal(res.kind, 'PriorityClass');

  const sys = await s.req('GET', pcs);
  const byName = Object.fromEntries(sys.body.items.map((i: { metadata: { name: string } }) => [i.metadata.name, i]));
  t.equal(byName['system-cluster-critical']?.value, 2000000000);
  t.equal(byName['system-node-critical']?.value, 2000001000);
  t.equal(byName['system-node-critical']?.preemptionPolicy, 'PreemptLowerPriority');

  const high = await s.req('POST', pcs, pc('high', 1000, { description: 'important' }));
  t.equal(high.status, 201, high.text);
  t.equal(high.body.preemptionPolicy, 'PreemptLowerPriority');
  t.equal(high.body.metadata.namespace, undefined);
  const never = await s.req('POST', pcs, pc('never', 5, { preemptionPolicy: 'Never' }));
  t.equal(never.status, 201, never.text);
  t.equal(never.body.preemptionPolicy, 'Never');

  const badPolicy = await s.req('POST', pcs, pc('bad-policy', 5, { preemptionPolicy: 'Sometimes' }));
  t.equal(badPolicy.status, 422, badPolicy.text);
  const noValue = await s.req('POST', pcs, {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'nv' },
  });
  t.equal(noValue.status, 422);
  t.match(noValue.body.message, /value: Required value/);
  const tooHigh = await s.req('POST', pcs, pc('too-high', 1000000001));
  t.equal(tooHigh.status, 422);
  t.match(tooHigh.body.message, /maximum allowed value of a user defined priority is 1000000000/);
  t.equal((await s.req('POST', pcs, pc('max-user', 1000000000))).status, 201);
  const reserved = await s.req('POST', pcs, pc('system-mine', 10));
  t.equal(reserved.status, 422);
  t.match(reserved.body.message, /prefix are reserved for system use only/);

  // value is immutable; description may change.
  const cur = (await s.req('GET', `${pcs}/high`)).body;
  const changed = await s.req('PUT', `${pcs}/high`, { ...cur, value: 2000 });
  t.equal(changed.status, 422);
  t.match(changed.body.message, /value: Forbidden: may not be changed in an update/);
  const described = await s.req('PUT', `${pcs}/high`, { ...cur, description: 'still important' });
  t.equal(described.status, 200, described.text);
  t.equal((await s.req('GET', `${pcs}/high`)).body.value, 1000);

  // At most one global default.
  t.equal((await s.req('POST', pcs, pc('default-a', 100, { globalDefault: true }))).status, 201);
  const second = await s.req('POST', pcs, pc('default-b', 200, { globalDefault: true }));
  t.equal(second.status, 403, second.text);
  t.match(second.body.message, /PriorityClass default-a is already marked as default. Only one default can exist/);
  t.equal((await s.req('GET', `${pcs}/default-b`)).status, 404);

  const table = await s.req('GET', `${pcs}/never`, undefined, {
    accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
  });
  t.same(
    table.body.columnDefinitions.map((c: { name: string }) => c.name),
    ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy'],
  );
  t.same(table.body.rows[0].cells.slice(0, 3), ['never', 5, false]);
  t.equal(table.body.rows[0].cells[4], 'Never');
});

t.test('Priority admission resolves the class of a pod', async (t) => {
  const s = await startTestServer(t);
  // No class and no default: priority 0.
  const plain = await s.req('POST', pods, pod('plain'));
  t.equal(plain.status, 201, plain.text);
  t.equal(plain.body.spec.priority, 0);
  t.equal(plain.body.spec.preemptionPolicy, 'PreemptLowerPriority');
  t.equal(plain.body.spec.priorityClassName, undefined);

  t.equal((await s.req('POST', pcs, pc('batch', 50, { preemptionPolicy: 'Never' }))).status, 201);
  const p = pod('batch-pod');
  p.spec.priorityClassName = 'batch';
  const r = await s.req('POST', pods, p);
  t.equal(r.status, 201, r.text);
  t.equal(r.body.spec.priority, 50);
  t.equal(r.body.spec.preemptionPolicy, 'Never');

  const crit = pod('crit');
  crit.spec.priorityClassName = 'system-node-critical';
  t.equal((await s.req('POST', pods, crit)).body.spec.priority, 2000001000);

  const missing = pod('missing');
  missing.spec.priorityClassName = 'nope';
  const m = await s.req('POST', pods, missing);
  t.equal(m.status, 403, m.text);
  t.equal(m.body.reason, 'Forbidden');
  t.equal(m.body.message, 'pods "missing" is forbidden: no PriorityClass with name nope was found');
  t.equal((await s.req('GET', `${pods}/missing`)).status, 404);

  const bare = pod('bare');
  bare.spec.priority = 1000;
  const b = await s.req('POST', pods, bare);
  t.equal(b.status, 403, b.text);
  t.match(
    b.body.message,
    'the integer value of priority (1000) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name',
  );
  // The same value as the class computes is accepted.
  const same = pod('same');
  same.spec.priorityClassName = 'batch';
  same.spec.priority = 50;
  t.equal((await s.req('POST', pods, same)).status, 201);

  // An update that leaves priority out keeps what create computed.
  const got = (await s.req('GET', `${pods}/batch-pod`)).body;
  delete got.spec.priority;
  delete got.spec.preemptionPolicy;
  got.metadata.labels = { touched: 'yes' };
  const up = await s.req('PUT', `${pods}/batch-pod`, got);
  t.equal(up.status, 200, up.text);
  t.equal(up.body.spec.priority, 50);
  t.equal(up.body.spec.preemptionPolicy, 'Never');

  // A global default class applies to pods without a class name.
  t.equal((await s.req('POST', pcs, pc('everyone', 7, { globalDefault: true }))).status, 201);
  const d = await s.req('POST', pods, pod('defaulted'));
  t.equal(d.status, 201, d.text);
  t.equal(d.body.spec.priorityClassName, 'everyone');
  t.equal(d.body.spec.priority, 7);
});

t.test('a Background delete of an object in foreground deletion deletes it', async (t) => {
  const s = await startTestServer(t);
  const cms = '/api/v1/namespaces/default/configmaps';
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fg' }, data: { a: '1' } };
  t.equal((await s.req('POST', cms, cm)).status, 201);
  const fg = await s.req('DELETE', `${cms}/fg`, {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    propagationPolicy: 'Foreground',
  });
  t.equal(fg.status, 200, fg.text);
  const held = await s.req('GET', `${cms}/fg`);
  t.equal(held.status, 200);
  t.ok(held.body.metadata.deletionTimestamp);
  t.same(held.body.metadata.finalizers, ['foregroundDeletion']);
  const bg = await s.req('DELETE', `${cms}/fg`, {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    propagationPolicy: 'Background',
  });
  t.equal(bg.status, 200, bg.text);
  t.equal((await s.req('GET', `${cms}/fg`)).status, 404);

  // Another finalizer still holds the object after the foregroundDeletion one goes.
  const kept = { ...cm, metadata: { name: 'kept', finalizers: ['example.com/hold'] } };
  t.equal((await s.req('POST', cms, kept)).status, 201);
  await s.req('DELETE', `${cms}/kept`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' });
  await s.req('DELETE', `${cms}/kept`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
  const still = await s.req('GET', `${cms}/kept`);
  t.equal(still.status, 200);
  t.same(still.body.metadata.finalizers, ['example.com/hold']);
});

t.test('kubectl creates and lists PriorityClasses (protobuf create, short name, table)', async (t) => {
  const s = await startTestServer(t, { insecureHttp: false });
  const base = ['--kubeconfig', s.server.kubeconfigPath, '--cache-dir', join(s.dir, 'cache')];
  const k = async (...args: string[]) => (await run('kubectl', [...base, ...args], { timeout: 60_000 })).stdout;
  await k('create', 'priorityclass', 'batch', '--value=42', '--preemption-policy=Never', '--description=for batch');
  const got = JSON.parse(await k('get', 'pc', 'batch', '-o', 'json'));
  t.match(got, { value: 42, preemptionPolicy: 'Never', description: 'for batch' });
  t.notOk(got.globalDefault);
  const table = await k('get', 'priorityclasses');
  t.match(table, /NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY\n/);
  t.match(table, /\nbatch\s+42\s+false\s+\S+\s+Never\n/);
  t.match(table, /\nsystem-node-critical\s+2000001000\s+false\s+\S+\s+PreemptLowerPriority\n/);
  const err = await run('kubectl', [...base, 'create', 'priorityclass', 'system-x', '--value=1']).then(
    () => '',
    (e: { stderr: string }) => e.stderr,
  );
  t.match(err, /prefix are reserved for system use only/);
});
