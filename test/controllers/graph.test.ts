// The ownership graph alone: virtual owners, dependents queued when owners go, foreground/orphan transitions,
// reference changes that unblock owners, and coordinates that disagree with what a uid is known as.
import t from 'tap';
import {
  OwnershipGraph,
  type GraphNode,
  type ObjectIdentity,
  type ObservedObject,
  type OwnerReference,
} from '../../src/controllers/gc/graph.js';

const clusterScoped = new Set(['Namespace', 'Node']);
const scopeOf = (_apiVersion: string, kind: string) => !clusterScoped.has(kind);

function setup() {
  const deletes: string[] = [];
  const orphans: string[] = [];
  const name = (n: GraphNode) => `${n.identity.kind}/${n.identity.name}`;
  const graph = new OwnershipGraph(
    { attemptToDelete: (n) => deletes.push(name(n)), attemptToOrphan: (n) => orphans.push(name(n)) },
    scopeOf,
  );
  const drain = () => {
    const out = { deletes: [...new Set(deletes)].sort(), orphans: [...new Set(orphans)].sort() };
    deletes.length = 0;
    orphans.length = 0;
    return out;
  };
  return { graph, drain };
}

function id(kind: string, name: string, uid: string, namespace = 'ns'): ObjectIdentity {
  const apiVersion = kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps/v1' : 'v1';
  return { apiVersion, kind, name, uid, namespace: clusterScoped.has(kind) ? '' : namespace };
}

function ref(owner: ObjectIdentity, block = true): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    blockOwnerDeletion: block,
  };
}

function obj(identity: ObjectIdentity, owners: OwnerReference[] = [], deleting?: string[]): ObservedObject {
  return { identity, owners, beingDeleted: deleting !== undefined, finalizers: deleting ?? [] };
}

const D = id('Deployment', 'd', 'u-d');
const RS = id('ReplicaSet', 'rs', 'u-rs');
const P1 = id('Pod', 'p1', 'u-p1');
const P2 = id('Pod', 'p2', 'u-p2');

t.test('an owner seen only through a reference is virtual and queued for verification', async (t) => {
  const { graph, drain } = setup();
  graph.upsert(obj(RS, [ref(D)]));
  t.ok(graph.get('u-d')?.virtual, 'virtual owner');
  t.same(drain().deletes, ['Deployment/d'], 'queued so a worker checks it exists');
  graph.upsert(obj(D));
  t.notOk(graph.get('u-d')?.virtual, 'observed now');
  t.same(drain().deletes, [], 'matching coordinates: nothing suspicious');
  t.same(
    [...graph.get('u-d')!.dependents].map((n) => n.identity.name),
    ['rs'],
    'the dependent edge survives the observation',
  );
});

t.test('deleting an owner queues its dependents; the graph forgets it', async (t) => {
  const { graph, drain } = setup();
  graph.upsert(obj(D));
  graph.upsert(obj(RS, [ref(D)]));
  graph.upsert(obj(P1, [ref(RS)]));
  graph.upsert(obj(P2, [ref(RS)]));
  drain();
  graph.remove(obj(RS, [ref(D)]));
  t.same(drain().deletes, ['Pod/p1', 'Pod/p2']);
  t.equal(graph.get('u-rs'), undefined);
  t.equal(graph.get('u-d')!.dependents.size, 0, 'edge from the owner removed');
  t.ok(graph.absentOwners.has(RS), 'remembered as absent for its dependents');
});

t.test('foreground: dependents and the owner are queued; a dependent going re-queues the owner', async (t) => {
  const { graph, drain } = setup();
  graph.upsert(obj(RS));
  graph.upsert(obj(P1, [ref(RS)]));
  graph.upsert(obj(P2, [ref(RS, false)]));
  drain();
  graph.upsert(obj(RS, [], ['foregroundDeletion']), obj(RS));
  t.ok(graph.get('u-rs')!.deletingDependents);
  t.same(drain().deletes, ['Pod/p1', 'Pod/p2', 'ReplicaSet/rs']);
  t.same(
    graph
      .get('u-rs')!
      .blockingDependents()
      .map((n) => n.identity.name),
    ['p1'],
    'only blockOwnerDeletion dependents block',
  );
  graph.upsert(obj(RS, [], ['foregroundDeletion']), obj(RS, [], ['foregroundDeletion']));
  t.same(drain().deletes, [], 'an update that stays in foreground deletion queues nothing new');
  graph.remove(obj(P1, [ref(RS)]));
  t.same(drain().deletes, ['ReplicaSet/rs'], 'the waiting owner is checked again');
});

t.test('a dependent dropping its blocking reference unblocks a foreground owner', async (t) => {
  const { graph, drain } = setup();
  graph.upsert(obj(RS, [], ['foregroundDeletion']));
  graph.upsert(obj(P1, [ref(RS)]));
  drain();
  graph.upsert(obj(P1, [ref(RS, false)]), obj(P1, [ref(RS)]));
  t.same(drain().deletes, ['ReplicaSet/rs'], 'blockOwnerDeletion true → false');
  graph.upsert(obj(P1, []), obj(P1, [ref(RS, false)]));
  t.same(drain().deletes, ['ReplicaSet/rs'], 'reference removed');
  t.equal(graph.get('u-rs')!.dependents.size, 0);
});

t.test('orphan finalizer: queued for orphaning once', async (t) => {
  const { graph, drain } = setup();
  graph.upsert(obj(D));
  drain();
  graph.upsert(obj(D, [], ['orphan']), obj(D));
  t.same(drain().orphans, ['Deployment/d']);
  graph.upsert(obj(D, [], ['orphan']), obj(D, [], ['orphan']));
  t.same(drain().orphans, [], 'not again on later updates');
  // After a restart the first sight of such an object is enough.
  const { graph: g2, drain: d2 } = setup();
  g2.upsert(obj(D, [], ['orphan']));
  t.same(d2().orphans, ['Deployment/d']);
});

t.test('references whose coordinates disagree with the observed owner are verified', async (t) => {
  const { graph, drain } = setup();
  graph.upsert(obj(D));
  drain();
  // Same uid, but named as a ConfigMap: the dependent must be checked.
  const wrongKind = { ...ref(D), kind: 'ConfigMap', apiVersion: 'v1' };
  graph.upsert(obj(P1, [wrongKind]));
  t.same(drain().deletes, ['Pod/p1']);
  // Virtual owner named one way by a dependent, observed another way: that dependent is suspicious.
  const { graph: g2, drain: d2 } = setup();
  g2.upsert(obj(P1, [wrongKind]));
  g2.upsert(obj(P2, [ref(D)]));
  d2();
  g2.upsert(obj(D));
  t.same(d2().deletes, ['Pod/p1'], 'only the dependent that used other coordinates');
});

t.test('virtual delete: removes an unconfirmed owner, or keeps it for dependents naming it otherwise', async (t) => {
  const { graph, drain } = setup();
  graph.upsert(obj(P1, [ref(RS)]));
  drain();
  graph.virtualDelete(RS);
  t.equal(graph.get('u-rs'), undefined, 'gone from the graph');
  t.same(drain().deletes, ['Pod/p1'], 'its dependent is checked');
  // Two dependents name the same uid differently; the one confirmed absent is handled, the node stays.
  const { graph: g2, drain: d2 } = setup();
  const other = { ...ref(RS), kind: 'Deployment', name: 'd' };
  g2.upsert(obj(P1, [ref(RS)]));
  g2.upsert(obj(P2, [other]));
  d2();
  g2.virtualDelete(RS);
  t.ok(g2.get('u-rs'), 'kept while another identity is possible');
  t.equal(g2.get('u-rs')!.identity.kind, 'Deployment', 'and now verified under that identity');
  t.same(d2().deletes, ['Deployment/d', 'Pod/p1']);
  // A real (observed) node is never removed by a virtual delete under other coordinates.
  const { graph: g3, drain: d3 } = setup();
  g3.upsert(obj(RS));
  g3.upsert(obj(P1, [other]));
  d3();
  g3.virtualDelete({ ...RS, kind: 'Deployment', name: 'd', apiVersion: 'apps/v1' });
  t.ok(g3.get('u-rs'), 'observed node stays');
  t.same(d3().deletes, ['Pod/p1'], 'the dependent that used the absent coordinates is checked');
});

t.test('cluster-scoped owners are named without a namespace', async (t) => {
  const { graph, drain } = setup();
  const N = id('Namespace', 'team', 'u-ns');
  graph.upsert(obj(P1, [ref(N)]));
  t.equal(graph.get('u-ns')!.identity.namespace, '', 'virtual cluster-scoped owner');
  drain();
  graph.upsert(obj(N));
  t.same(drain().deletes, [], 'a namespaced dependent of a cluster-scoped owner is fine');
});
