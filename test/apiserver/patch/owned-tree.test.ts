// The create fast path of field ownership (ownedTree / recordUpdate with no previous object) must build exactly what
// the general path builds: collect every field, add it to a fieldsV1 tree path by path, diff against {}.
import t from 'tap';
import { collect, ownedTree, treeAdd } from '../../../src/apiserver/patch/fields.js';
import { recordUpdate } from '../../../src/apiserver/patch/index.js';
import { schemaForKind } from '../../../src/apiserver/patch/schema.js';
import { mulberry32 } from '../../lib/rng.js';

const rng = mulberry32;

type R = () => number;
const pick = <T>(r: R, xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
const maybe = (r: R, p = 0.5) => r() < p;

function scalar(r: R): unknown {
  return pick(r, [null, 'a', 'b', '', 0, 1, 2.5, true, false, 'TCP', 'x y']);
}

/** Arbitrary JSON: nested maps, lists, nulls and empties, keys that look like fieldsV1 syntax. */
function anyValue(r: R, depth: number): unknown {
  const c = r();
  if (depth <= 0 || c < 0.4) return scalar(r);
  if (c < 0.7) {
    const o: Record<string, unknown> = {};
    const n = Math.floor(r() * 4);
    for (let i = 0; i < n; i++)
      o[pick(r, ['a', 'b', 'c', '.', 'f:x', 'k:y', 'name', 'containers'])] = anyValue(r, depth - 1);
    return o;
  }
  return Array.from({ length: Math.floor(r() * 3) }, () => anyValue(r, depth - 1));
}

function container(r: R): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  if (maybe(r, 0.9)) c.name = pick(r, ['a', 'b', 'c']);
  if (maybe(r, 0.8)) c.image = pick(r, ['nginx', 'busybox:1.36']);
  if (maybe(r))
    c.ports = Array.from({ length: Math.floor(r() * 3) }, () => {
      const p: Record<string, unknown> = {};
      if (maybe(r, 0.8)) p.containerPort = pick(r, [80, 443, 8080]);
      if (maybe(r)) p.protocol = pick(r, ['TCP', 'UDP']);
      if (maybe(r, 0.3)) p.name = 'http';
      return p;
    });
  if (maybe(r))
    c.env = Array.from({ length: Math.floor(r() * 3) }, () => ({ name: pick(r, ['A', 'B']), value: scalar(r) }));
  if (maybe(r)) c.resources = maybe(r) ? {} : { requests: { cpu: '10m', memory: maybe(r) ? '16Mi' : null } };
  if (maybe(r, 0.2)) c.args = ['x', 'y'];
  if (maybe(r, 0.2)) c.extra = anyValue(r, 3);
  return c;
}

function podSpec(r: R): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  if (maybe(r, 0.9)) s.containers = Array.from({ length: Math.floor(r() * 4) }, () => container(r));
  if (maybe(r, 0.3)) s.initContainers = [container(r)];
  if (maybe(r)) s.nodeSelector = maybe(r) ? {} : { disk: 'ssd', zone: pick(r, ['a', 'b']) };
  if (maybe(r)) s.tolerations = [{ key: 'k', operator: 'Exists' }];
  if (maybe(r, 0.3)) s.volumes = [{ name: 'v', emptyDir: {} }, { name: pick(r, ['v', 'w']) }];
  if (maybe(r, 0.3)) s.securityContext = {};
  if (maybe(r, 0.2)) s.restartPolicy = null;
  if (maybe(r, 0.2)) s.other = anyValue(r, 4);
  return s;
}

function metadata(r: R): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'resourceVersion', 'managedFields'])
    if (maybe(r, 0.4)) m[k] = k === 'managedFields' ? [{ manager: 'x', fieldsV1: {} }] : 'v';
  if (maybe(r)) m.labels = maybe(r, 0.2) ? {} : { app: 'web', tier: pick(r, ['a', 'b']) };
  if (maybe(r, 0.3)) m.annotations = { 'a/b': 'c' };
  if (maybe(r, 0.3)) m.finalizers = maybe(r, 0.2) ? [] : ['x', pick(r, ['x', 'y']), { odd: 1 }];
  if (maybe(r, 0.3)) m.ownerReferences = [{ uid: 'u1', name: 'o' }, { name: 'no-uid' }, { uid: pick(r, ['u1', 'u2']) }];
  return m;
}

function object(r: R): { kind: string; obj: Record<string, unknown> } {
  const kind = pick(r, ['Pod', 'Deployment', 'Service', 'ConfigMap', 'Node', 'Namespace']);
  const obj: Record<string, unknown> = { apiVersion: 'v1', kind };
  if (maybe(r, 0.9)) obj.metadata = metadata(r);
  if (kind === 'Pod') {
    obj.spec = podSpec(r);
    if (maybe(r, 0.3))
      obj.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }, { type: 'Ready' }] };
  } else if (kind === 'Deployment') {
    obj.spec = {
      replicas: maybe(r) ? 1 : null,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: maybe(r) ? metadata(r) : {}, spec: podSpec(r) },
    };
  } else if (kind === 'Service') {
    obj.spec = {
      selector: maybe(r) ? {} : { app: 'web' },
      ports: Array.from({ length: Math.floor(r() * 3) }, () => ({
        port: pick(r, [80, 443]),
        protocol: maybe(r) ? 'UDP' : undefined,
      })),
    };
  } else if (kind === 'Node') {
    obj.spec = { podCIDRs: ['10.0.0.0/24', pick(r, ['10.0.0.0/24', 'fd00::/64'])] };
    obj.status = { addresses: [{ type: 'InternalIP', address: '1.2.3.4' }] };
  } else {
    obj.data = anyValue(r, 3);
  }
  if (maybe(r, 0.2)) obj.extra = anyValue(r, 4);
  return { kind, obj };
}

function referenceTree(obj: unknown, kind: string): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  collect(obj, schemaForKind(kind), (p) => treeAdd(tree, p), true);
  return tree;
}

t.test('ownedTree equals the path-by-path tree on 3,000 varied objects (same members, same key order)', (t) => {
  const r = rng(20261127);
  let nonTrivial = 0;
  for (let i = 0; i < 3000; i++) {
    const { kind, obj } = object(r);
    const want = JSON.stringify(referenceTree(obj, kind));
    const got = JSON.stringify(ownedTree(obj, schemaForKind(kind)));
    if (got !== want) {
      t.equal(got, want, `object ${i}: ${JSON.stringify(obj)}`);
      break;
    }
    if (want.includes('"k:') && want.includes('"."')) nonTrivial++;
  }
  t.ok(nonTrivial > 500, `keyed lists and member markers exercised (${nonTrivial} objects)`);
  t.end();
});

t.test('recordUpdate on create (fast path) equals the general diff path byte for byte', (t) => {
  const r = rng(7);
  const gvk = { group: '', version: 'v1', kind: '' };
  for (let i = 0; i < 1000; i++) {
    const { kind, obj } = object(r);
    const opts = { manager: pick(r, ['kubectl-create', '']), gvk: { ...gvk, kind }, now: '2026-01-01T00:00:00Z' };
    const sub = maybe(r, 0.1) ? { subresource: 'status' } : {};
    const before = JSON.stringify(obj);
    const fast = JSON.stringify(recordUpdate(undefined, obj, { ...opts, ...sub }));
    // An empty previous object takes the general path (diff against {}, then tree adds).
    const general = JSON.stringify(recordUpdate({}, obj, { ...opts, ...sub }));
    if (fast !== general) {
      t.equal(fast, general, `object ${i}: ${before}`);
      break;
    }
    t.equal(JSON.stringify(obj), before, 'the input object is not mutated');
  }
  t.end();
});

t.test('recordUpdate on create: a pod owns its fields with "." markers on members that have children', (t) => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'd', uid: 'u', labels: { app: 'x' } },
    spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }], nodeSelector: { a: 'b' } },
  };
  const out = recordUpdate(undefined, pod, {
    manager: 'm',
    gvk: { group: '', version: 'v1', kind: 'Pod' },
    now: 'T',
  }) as any;
  t.same(out.metadata.managedFields, [
    {
      manager: 'm',
      operation: 'Update',
      apiVersion: 'v1',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { '.': {}, 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          '.': {},
          'f:containers': {
            '.': {},
            'k:{"name":"c"}': {
              '.': {},
              'f:name': {},
              'f:image': {},
              'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
          'f:nodeSelector': {},
        },
      },
      time: 'T',
    },
  ]);
  const bare = recordUpdate(
    undefined,
    { apiVersion: 'v1', kind: 'Pod' },
    {
      manager: 'm',
      gvk: { group: '', version: 'v1', kind: 'Pod' },
    },
  ) as any;
  t.same(bare.metadata.managedFields, undefined, 'nothing tracked: no entry');
  t.end();
});
