import t from 'tap';
import { recordUpdate, serverSideApply } from '../../../src/apiserver/patch/index.js';
import { StatusError } from '../../../src/api/status.js';

const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
const now = '2026-01-01T00:00:00Z';

function config(image: string, replicas?: number, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }] },
      },
      ...extra,
    },
  };
}

function applyErr(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

t.test('create-or-update records Apply ownership in fieldsV1', (t) => {
  const { object, managedFields } = serverSideApply(undefined, config('nginx:1', 2), {
    manager: 'kubectl',
    force: false,
    gvk,
    now,
  });
  const obj = object as any;
  t.equal(obj.spec.replicas, 2);
  t.equal(managedFields.length, 1);
  const mf = managedFields[0]!;
  t.match(mf, { manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: now, fieldsType: 'FieldsV1' });
  const f = mf.fieldsV1 as any;
  t.same(f['f:spec']['f:replicas'], {});
  t.same(f['f:spec']['f:selector'], {}, 'label selector is atomic');
  const c = f['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}'];
  t.same(c['.'], {});
  t.same(c['f:image'], {});
  t.ok(c['f:ports']['k:{"containerPort":80,"protocol":"TCP"}'], 'port key defaults protocol to TCP');
  t.notOk(f['f:metadata']['f:name'], 'name is not tracked');
  t.same(obj.metadata.managedFields, managedFields);
  t.end();
});

t.test('conflict with another applier, force takes ownership', (t) => {
  const first = serverSideApply(undefined, config('nginx:1', 2), { manager: 'alice', force: false, gvk, now }).object;
  // Same value: shared ownership, no conflict.
  const shared = serverSideApply(first, config('nginx:1', 2), { manager: 'bob', force: false, gvk, now });
  t.equal(shared.managedFields.length, 2);
  const err = applyErr(() =>
    serverSideApply(shared.object, config('nginx:1', 5), { manager: 'bob', force: false, gvk, now }),
  );
  t.equal(err.code, 409);
  t.equal(err.reason, 'Conflict');
  t.equal(err.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas');
  t.same(err.status.details?.causes, [
    { reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' },
  ]);
  const two = applyErr(() =>
    serverSideApply(shared.object, config('nginx:2', 5), { manager: 'bob', force: false, gvk, now }),
  );
  t.equal(
    two.message,
    'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
  );
  const forced = serverSideApply(shared.object, config('nginx:1', 5), { manager: 'bob', force: true, gvk, now });
  t.equal((forced.object as any).spec.replicas, 5);
  const alice = forced.managedFields.find((m) => m.manager === 'alice')!;
  t.notOk((alice.fieldsV1 as any)['f:spec']['f:replicas'], 'alice lost replicas');
  t.end();
});

t.test('fields dropped from the configuration are removed unless someone else owns them', (t) => {
  const a = serverSideApply(undefined, config('nginx:1', 2, { minReadySeconds: 5 }), {
    manager: 'kubectl',
    force: false,
    gvk,
    now,
  }).object;
  const b = serverSideApply(a, config('nginx:1'), { manager: 'kubectl', force: false, gvk, now }).object as any;
  t.notOk('replicas' in b.spec, 'replicas pruned');
  t.notOk('minReadySeconds' in b.spec, 'minReadySeconds pruned');
  t.equal(b.spec.template.spec.containers[0].image, 'nginx:1');
  // A field another manager also owns survives the applier dropping it.
  const c = serverSideApply(a, config('nginx:1', 2), { manager: 'other', force: false, gvk, now }).object;
  const d = serverSideApply(c, config('nginx:1'), { manager: 'kubectl', force: false, gvk, now }).object as any;
  t.equal(d.spec.replicas, 2);
  t.end();
});

t.test('Update ownership (kubectl scale / edit) conflicts with a later apply', (t) => {
  const applied = serverSideApply(undefined, config('nginx:1', 2), { manager: 'kubectl', force: false, gvk, now })
    .object as any;
  const scaled = structuredClone(applied);
  scaled.spec.replicas = 4;
  const recorded = recordUpdate(applied, scaled, { manager: 'kubectl-scale', gvk, now, subresource: 'scale' }) as any;
  const entry = recorded.metadata.managedFields.find((m: any) => m.manager === 'kubectl-scale');
  t.match(entry, { operation: 'Update', subresource: 'scale', time: now });
  t.same(entry.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  const kubectl = recorded.metadata.managedFields.find((m: any) => m.manager === 'kubectl');
  t.notOk(kubectl.fieldsV1['f:spec']['f:replicas'], 'apply manager lost replicas to the update');
  const err = applyErr(() =>
    serverSideApply(recorded, config('nginx:1', 2), { manager: 'kubectl', force: false, gvk, now }),
  );
  t.equal(
    err.message,
    `Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1 at ${now}: .spec.replicas`,
  );
  // Applying without replicas does not touch them.
  const ok = serverSideApply(recorded, config('nginx:1'), { manager: 'kubectl', force: false, gvk, now }).object as any;
  t.equal(ok.spec.replicas, 4);
  t.end();
});

t.test('recordUpdate on create owns every field; objects without managedFields get before-first-apply', (t) => {
  const created = recordUpdate(undefined, config('nginx:1', 1), { manager: 'kubectl-create', gvk, now }) as any;
  t.equal(created.metadata.managedFields.length, 1);
  t.match(created.metadata.managedFields[0], { manager: 'kubectl-create', operation: 'Update' });
  t.ok(created.metadata.managedFields[0].fieldsV1['f:spec']['f:replicas']);
  const untracked = config('nginx:1', 1);
  const err = applyErr(() =>
    serverSideApply(untracked, config('nginx:1', 3), { manager: 'kubectl', force: false, gvk, now }),
  );
  t.match(err.message, /conflict with "before-first-apply"/);
  t.end();
});

t.test('sets and keyed lists merge with live content owned by others', (t) => {
  const live = recordUpdate(
    undefined,
    { ...config('nginx:1'), metadata: { name: 'web', finalizers: ['x'] } },
    { manager: 'ctl', gvk, now },
  );
  const applied = { ...config('nginx:1'), metadata: { name: 'web', finalizers: ['y'] } };
  applied.spec.template.spec.containers = [
    { name: 'side', image: 'b', ports: [] as { containerPort: number }[] },
  ] as any;
  const out = serverSideApply(live, applied, { manager: 'kubectl', force: false, gvk, now }).object as any;
  t.same(out.metadata.finalizers, ['x', 'y']);
  t.same(
    out.spec.template.spec.containers.map((c: any) => c.name),
    ['nginx', 'side'],
  );
  t.end();
});

t.test('bad input', (t) => {
  t.equal(applyErr(() => serverSideApply(undefined, 'x', { manager: 'm', force: false, gvk })).code, 400);
  t.equal(applyErr(() => serverSideApply(undefined, {}, { manager: '', force: false, gvk })).code, 400);
  t.end();
});
