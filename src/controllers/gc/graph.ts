// The garbage collector's ownership graph: one node per object uid, edges from ownerReferences, virtual nodes for
// owners not seen yet; informer events go in, items to check (attemptToDelete / attemptToOrphan) come out.
//
// Follows upstream's GraphBuilder (k8s.io/kubernetes pkg/controller/garbagecollector/graph_builder.go). Owner
// coordinates are compared by API group (not version), kind, name and namespace, so a reference written with
// another served version of the same kind is not treated as suspicious.
import { splitApiVersion } from '../mapper.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Where an object lives; namespace '' for cluster-scoped objects. */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

/** What the graph needs from an observed object. */
export interface ObservedObject {
  identity: ObjectIdentity;
  owners: OwnerReference[];
  beingDeleted: boolean;
  finalizers: string[];
}

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

export class GraphNode {
  owners: OwnerReference[] = [];
  readonly dependents = new Set<GraphNode>();
  beingDeleted = false;
  /** Deleted in the foreground: waits for blocking dependents to go. */
  deletingDependents = false;

  constructor(
    public identity: ObjectIdentity,
    /** True until an informer reports the object itself (only known from a dependent's ownerReference). */
    public virtual: boolean,
  ) {}

  /** Dependents whose reference to this node has blockOwnerDeletion set. */
  blockingDependents(): GraphNode[] {
    const uid = this.identity.uid;
    return [...this.dependents].filter((d) => d.owners.some((r) => r.uid === uid && r.blockOwnerDeletion === true));
  }
}

/** Receives the items the graph wants checked. */
export interface GraphSink {
  attemptToDelete(node: GraphNode, rateLimited?: boolean): void;
  attemptToOrphan(node: GraphNode): void;
}

/** Bounded set of owner identities confirmed absent, so siblings do not all GET the same missing owner. */
export class AbsentOwnerCache {
  private readonly keys = new Map<string, true>();
  constructor(private readonly size = 500) {}
  static key(id: ObjectIdentity): string {
    return [splitApiVersion(id.apiVersion).group, id.kind, id.namespace, id.name, id.uid].join('|');
  }
  add(id: ObjectIdentity): void {
    const k = AbsentOwnerCache.key(id);
    this.keys.delete(k);
    this.keys.set(k, true);
    if (this.keys.size > this.size) this.keys.delete(this.keys.keys().next().value!);
  }
  has(id: ObjectIdentity): boolean {
    return this.keys.has(AbsentOwnerCache.key(id));
  }
}

/** Is the kind namespaced? undefined when the server does not serve it. */
export type ScopeOf = (apiVersion: string, kind: string) => boolean | undefined;

/** The identity an ownerReference names, seen from a dependent in `namespace`. */
export function ownerIdentity(ref: OwnerReference, dependentNamespace: string, scopeOf: ScopeOf): ObjectIdentity {
  const namespaced = scopeOf(ref.apiVersion, ref.kind);
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    name: ref.name,
    uid: ref.uid,
    namespace: namespaced === false ? '' : dependentNamespace,
  };
}

function sameCoordinates(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return (
    a.uid === b.uid &&
    a.name === b.name &&
    a.kind === b.kind &&
    a.namespace === b.namespace &&
    splitApiVersion(a.apiVersion).group === splitApiVersion(b.apiVersion).group
  );
}

export class OwnershipGraph {
  private readonly nodes = new Map<string, GraphNode>();
  readonly absentOwners = new AbsentOwnerCache();

  constructor(
    private readonly sink: GraphSink,
    private readonly scopeOf: ScopeOf,
  ) {}

  get size(): number {
    return this.nodes.size;
  }

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** Does `dep` reference `owner` by exactly these coordinates? */
  private refersAs(dep: GraphNode, owner: ObjectIdentity): boolean {
    return dep.owners.some(
      (r) => r.uid === owner.uid && sameCoordinates(ownerIdentity(r, dep.identity.namespace, this.scopeOf), owner),
    );
  }

  /** An informer's add or update (also a relist's). */
  upsert(obj: ObservedObject, old?: ObservedObject): void {
    const id = obj.identity;
    let node = this.nodes.get(id.uid);
    if (node && node.virtual) {
      // First sight of an object that dependents already named: dependents that named it differently are suspect.
      node.virtual = false;
      if (!sameCoordinates(node.identity, id)) {
        for (const dep of node.dependents) if (!this.refersAs(dep, id)) this.sink.attemptToDelete(dep);
        node.identity = id;
      }
    }
    if (!node) {
      node = new GraphNode(id, false);
      node.owners = obj.owners;
      node.beingDeleted = obj.beingDeleted;
      node.deletingDependents = obj.beingDeleted && obj.finalizers.includes(FOREGROUND);
      this.nodes.set(id.uid, node);
      this.addDependentToOwners(node, obj.owners);
    } else {
      const { added, removed, changed } = referenceDiffs(node.owners, obj.owners);
      if (added.length || removed.length || changed.length) {
        // An owner waiting for its dependents may be unblocked by a reference that went or stopped blocking.
        for (const r of [...removed, ...changed.filter((c) => c.old.blockOwnerDeletion && !c.now.blockOwnerDeletion)]) {
          const ownerRef = 'old' in r ? r.old : r;
          const owner = this.nodes.get(ownerRef.uid);
          if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
        }
        node.owners = obj.owners;
        this.addDependentToOwners(node, added);
        for (const r of removed) this.nodes.get(r.uid)?.dependents.delete(node);
      }
      if (obj.beingDeleted) node.beingDeleted = true;
    }
    this.processTransitions(old, obj, node);
  }

  /** An informer's delete (or a relist that no longer has the object). */
  remove(obj: ObservedObject): void {
    const node = this.nodes.get(obj.identity.uid);
    if (!node) return;
    this.removeAndNotify(node, obj.identity);
  }

  /** A worker confirmed with a live GET that `identity` does not exist (upstream's virtual delete event). */
  virtualDelete(identity: ObjectIdentity): void {
    const node = this.nodes.get(identity.uid);
    if (!node) return;
    if (node.virtual) {
      const matching = [...node.dependents].filter((d) => this.refersAs(d, identity));
      const other = [...node.dependents].filter((d) => !this.refersAs(d, identity));
      if (other.length) {
        // Some dependents name this uid with other coordinates: only the ones that matched are orphans for sure.
        if (matching.length) {
          this.absentOwners.add(identity);
          for (const d of matching) this.sink.attemptToDelete(d);
        }
        if (sameCoordinates(node.identity, identity)) {
          const ref = other[0]!.owners.find((r) => r.uid === identity.uid)!;
          node.identity = ownerIdentity(ref, other[0]!.identity.namespace, this.scopeOf);
          this.sink.attemptToDelete(node, true);
        }
        return;
      }
    } else if (!sameCoordinates(node.identity, identity)) {
      // The real object exists under other coordinates: dependents that used these are the dangling ones.
      const matching = [...node.dependents].filter((d) => this.refersAs(d, identity));
      if (matching.length) {
        this.absentOwners.add(identity);
        for (const d of matching) this.sink.attemptToDelete(d);
      }
      return;
    }
    this.removeAndNotify(node, identity);
  }

  private removeAndNotify(node: GraphNode, identity: ObjectIdentity): void {
    this.nodes.delete(node.identity.uid);
    for (const r of node.owners) this.nodes.get(r.uid)?.dependents.delete(node);
    if (node.dependents.size) this.absentOwners.add(identity);
    for (const d of node.dependents) this.sink.attemptToDelete(d);
    // Owners deleting in the foreground may have been waiting for this one.
    for (const r of node.owners) {
      const owner = this.nodes.get(r.uid);
      if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
    }
  }

  private addDependentToOwners(node: GraphNode, refs: OwnerReference[]): void {
    let suspicious = false;
    for (const ref of refs) {
      const named = ownerIdentity(ref, node.identity.namespace, this.scopeOf);
      let owner = this.nodes.get(ref.uid);
      if (!owner) {
        // Not seen (yet): a virtual node that a worker verifies with a live GET.
        owner = new GraphNode(named, true);
        this.nodes.set(ref.uid, owner);
        owner.dependents.add(node);
        this.sink.attemptToDelete(owner);
        continue;
      }
      owner.dependents.add(node);
      if (!sameCoordinates(owner.identity, named)) suspicious = true;
    }
    // A reference that disagrees with what the uid is known as: verify the dependent's owners.
    if (suspicious) this.sink.attemptToDelete(node);
  }

  private processTransitions(old: ObservedObject | undefined, now: ObservedObject, node: GraphNode): void {
    const waits = (o: ObservedObject | undefined, f: string) => !!o && o.beingDeleted && o.finalizers.includes(f);
    if (waits(now, ORPHAN) && !waits(old, ORPHAN)) {
      this.sink.attemptToOrphan(node);
      return;
    }
    if (waits(now, FOREGROUND) && !waits(old, FOREGROUND)) {
      node.deletingDependents = true;
      for (const d of node.dependents) this.sink.attemptToDelete(d);
      this.sink.attemptToDelete(node);
    }
  }
}

interface ReferenceDiffs {
  added: OwnerReference[];
  removed: OwnerReference[];
  changed: { old: OwnerReference; now: OwnerReference }[];
}

function referenceDiffs(old: OwnerReference[], now: OwnerReference[]): ReferenceDiffs {
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const nowUids = new Set(now.map((r) => r.uid));
  const out: ReferenceDiffs = { added: [], removed: [], changed: [] };
  for (const r of now) {
    const o = oldByUid.get(r.uid);
    if (!o) out.added.push(r);
    else if (JSON.stringify(o) !== JSON.stringify(r)) out.changed.push({ old: o, now: r });
  }
  for (const r of old) if (!nowUids.has(r.uid)) out.removed.push(r);
  return out;
}
