// The garbage collector: keeps the ownership graph from informers on every deletable resource and deletes
// dependents whose owners are gone, finishes foreground deletions and orphans dependents (the `orphan` finalizer).
//
// Upstream: k8s.io/kubernetes pkg/controller/garbagecollector/garbagecollector.go (attemptToDeleteItem,
// processDeletingDependentsItem, classifyReferences, attemptToOrphanWorker). Every decision is taken on live GETs
// of the item and its owners, never on the informer cache alone; deletes carry a UID precondition.
import { StatusError } from '../../api/status.js';
import { createInformer, type Informer } from '../../client/informer.js';
import type { Client, KubeObject } from '../../client/types.js';
import type { Controller, ControllerContext } from '../controller.js';
import { RestMapper, RestMappingError, apiVersionOf, type ResourceInfo } from '../mapper.js';
import { WorkQueue, runWorkers, type SyncResult } from '../queue.js';
import {
  FOREGROUND,
  ORPHAN,
  OwnershipGraph,
  ownerIdentity,
  type GraphNode,
  type ObjectIdentity,
  type ObservedObject,
  type OwnerReference,
} from './graph.js';

/** Not watched by the collector (upstream's ignoredResources: events are many and never own anything). */
const ignoredResources = new Set(['/events', 'events.k8s.io/events']);

/** Conflicts while rewriting one object's metadata are retried this often before the key is requeued. */
const PATCH_ATTEMPTS = 5;

type Policy = 'Background' | 'Foreground' | 'Orphan';

interface Meta {
  uid?: string;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

const metaOf = (o: KubeObject): Meta => (o.metadata ?? {}) as Meta;
const isCode = (e: unknown, ...codes: number[]) => e instanceof StatusError && codes.includes(e.code);

/** A cluster-scoped dependent names a namespaced owner: invalid, upstream leaves such an item alone. */
class NamespacedOwnerOfClusterScopedObject extends Error {}

export interface GarbageCollectorOptions {
  /** Workers per queue (kube-controller-manager --concurrent-gc-syncs, default 20). */
  workers?: number;
  /** Log every deletion and orphaning (default off: only failures are logged). */
  verbose?: boolean;
}

export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';
  private readonly client: Client;
  private readonly log: (line: string) => void;
  private readonly workers: number;
  private readonly verbose: boolean;
  private mapper: RestMapper | undefined;
  private readonly informers: Informer[] = [];
  private readonly deleteQueue = new WorkQueue<string>();
  private readonly orphanQueue = new WorkQueue<string>();
  private running: Promise<void>[] = [];
  private stopped = false;
  readonly graph: OwnershipGraph;

  constructor(ctx: ControllerContext, opts: GarbageCollectorOptions = {}) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.workers = opts.workers ?? ctx.workers ?? 20;
    this.verbose = opts.verbose ?? false;
    this.graph = new OwnershipGraph(
      {
        attemptToDelete: (n, rateLimited) =>
          rateLimited ? this.deleteQueue.addRateLimited(n.identity.uid) : this.deleteQueue.add(n.identity.uid),
        attemptToOrphan: (n) => this.orphanQueue.add(n.identity.uid),
      },
      (apiVersion, kind) => {
        try {
          return this.mapper?.mapping(apiVersion, kind).namespaced;
        } catch {
          return undefined;
        }
      },
    );
  }

  /** The resources being watched, e.g. "apps/v1/replicasets" (for tests and diagnostics). */
  get watched(): string[] {
    return (this.mapper?.preferred ?? [])
      .filter(deletable)
      .map((r) => `${apiVersionOf(r.group, r.version)}/${r.resource}`);
  }

  async start(): Promise<void> {
    this.mapper = await RestMapper.discover(this.client);
    for (const info of this.mapper.preferred.filter(deletable)) {
      const observe = (o: KubeObject) => observed(info, o);
      const inf = createInformer(this.client, RestMapper.address(info), { log: this.log });
      inf.onAdd((o) => this.graph.upsert(observe(o)));
      inf.onUpdate((a, b) => this.graph.upsert(observe(b), observe(a)));
      inf.onDelete((o) => this.graph.remove(observe(o)));
      this.informers.push(inf);
    }
    // Workers start once every informer has listed, so owners seen late are not verified needlessly.
    await Promise.all(this.informers.map((i) => i.start()));
    if (this.stopped) return;
    const onError = (what: string) => (uid: string, e: unknown) => {
      if (!(e instanceof RestMappingError)) this.log(`garbagecollector: ${what} ${this.describe(uid)}: ${errText(e)}`);
    };
    this.running = [
      runWorkers(this.deleteQueue, this.workers, (uid) => this.syncDelete(uid), onError('error syncing item')),
      runWorkers(
        this.orphanQueue,
        this.workers,
        (uid) => this.syncOrphan(uid),
        onError('error orphaning dependents of'),
      ),
    ];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const i of this.informers) i.stop();
    this.deleteQueue.shutDown();
    this.orphanQueue.shutDown();
    await Promise.all(this.running);
  }

  private describe(uid: string): string {
    const id = this.graph.get(uid)?.identity;
    return id ? `${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name} (${uid})` : uid;
  }

  // --- attemptToDelete ---------------------------------------------------------------------------------------------

  private async syncDelete(uid: string): Promise<SyncResult> {
    const node = this.graph.get(uid);
    // Gone from the graph (deleted, or a virtual owner already resolved): nothing left to check.
    if (!node) return;
    let outcome: 'virtualDeleted' | undefined;
    try {
      outcome = await this.attemptToDeleteItem(node);
    } catch (e) {
      if (e instanceof NamespacedOwnerOfClusterScopedObject) {
        this.log(`garbagecollector: ${this.describe(uid)}: ${e.message}`);
        return;
      }
      throw e;
    }
    if (outcome === 'virtualDeleted') return;
    // A virtual node that exists but no informer has reported yet: look again until one does (or it goes).
    if (this.graph.get(uid)?.virtual) return { requeue: 'rateLimited' };
  }

  private async attemptToDeleteItem(node: GraphNode): Promise<'virtualDeleted' | undefined> {
    // Being deleted is a one-way trip: its dependents are handled when the final delete is observed.
    if (node.beingDeleted && !node.deletingDependents) return;
    const id = node.identity;
    const latest = await this.getLive(id);
    if (!latest || metaOf(latest).uid !== id.uid) {
      this.graph.virtualDelete(id);
      return 'virtualDeleted';
    }
    if (node.deletingDependents) {
      await this.processDeletingDependents(node);
      return;
    }
    const refs = (metaOf(latest).ownerReferences ?? []).filter((r) => r && r.uid);
    if (refs.length === 0) return;
    const { solid, dangling, waiting } = await this.classifyReferences(id, refs);
    if (solid.length) {
      if (!dangling.length && !waiting.length) return;
      // Other owners keep it alive; drop references that would otherwise hold foreground deletions forever.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      await this.rewriteOwnerReferences(id, (rs) => rs.filter((r) => !drop.has(r.uid)));
      return;
    }
    if (waiting.length && node.dependents.size) {
      // Deleted in the foreground like its owner; unblock our own references first if that could form a cycle.
      if ([...node.dependents].some((d) => d.deletingDependents))
        await this.rewriteOwnerReferences(id, (rs) =>
          rs.map((r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r)),
        );
      await this.deleteObject(id, 'Foreground');
      return;
    }
    const fin = metaOf(latest).finalizers ?? [];
    await this.deleteObject(
      id,
      fin.includes(ORPHAN) ? 'Orphan' : fin.includes(FOREGROUND) ? 'Foreground' : 'Background',
    );
  }

  /** An owner deleted in the foreground: done when no dependent blocks it any more. */
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = node.blockingDependents();
    if (blocking.length === 0) {
      if (this.verbose) this.log(`garbagecollector: removing ${FOREGROUND} from ${this.describe(node.identity.uid)}`);
      await this.removeFinalizer(node.identity, FOREGROUND);
      return;
    }
    for (const d of blocking) if (!d.deletingDependents) this.deleteQueue.add(d.identity.uid);
  }

  private async classifyReferences(
    id: ObjectIdentity,
    refs: OwnerReference[],
  ): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const out = { solid: [] as OwnerReference[], dangling: [] as OwnerReference[], waiting: [] as OwnerReference[] };
    for (const ref of refs) {
      const mapping = this.mapper!.mapping(ref.apiVersion, ref.kind);
      if (mapping.namespaced && !id.namespace)
        throw new NamespacedOwnerOfClusterScopedObject(
          `cluster-scoped object names a namespaced owner ${ref.kind} ${ref.name} (${ref.uid}); leaving it alone`,
        );
      const ownerId = ownerIdentity(ref, id.namespace, () => mapping.namespaced);
      if (this.graph.absentOwners.has(ownerId)) {
        out.dangling.push(ref);
        continue;
      }
      const owner = await this.getLive(ownerId);
      if (!owner || metaOf(owner).uid !== ref.uid) {
        this.graph.absentOwners.add(ownerId);
        out.dangling.push(ref);
        continue;
      }
      const m = metaOf(owner);
      if (m.deletionTimestamp && (m.finalizers ?? []).includes(FOREGROUND)) out.waiting.push(ref);
      else out.solid.push(ref);
    }
    return out;
  }

  // --- attemptToOrphan ---------------------------------------------------------------------------------------------

  private async syncOrphan(uid: string): Promise<SyncResult> {
    const node = this.graph.get(uid);
    if (!node) return;
    const dependents = [...node.dependents];
    // A few at a time: each is a GET and a PATCH.
    for (let i = 0; i < dependents.length; i += 16)
      await Promise.all(
        dependents
          .slice(i, i + 16)
          .map((d) => this.rewriteOwnerReferences(d.identity, (rs) => rs.filter((r) => r.uid !== uid))),
      );
    if (this.verbose) this.log(`garbagecollector: orphaned ${dependents.length} dependents of ${this.describe(uid)}`);
    await this.removeFinalizer(node.identity, ORPHAN);
  }

  // --- API calls ---------------------------------------------------------------------------------------------------

  /** A live GET by identity; undefined when absent. RestMappingError for kinds the server does not serve. */
  private async getLive(id: ObjectIdentity): Promise<KubeObject | undefined> {
    const info = this.mapper!.mapping(id.apiVersion, id.kind);
    try {
      return await this.client.get(RestMapper.address(info, id.namespace), id.name);
    } catch (e) {
      if (isCode(e, 404)) return undefined;
      throw e;
    }
  }

  private async deleteObject(id: ObjectIdentity, policy: Policy): Promise<void> {
    const info = this.mapper!.mapping(id.apiVersion, id.kind);
    if (this.verbose) this.log(`garbagecollector: deleting ${this.describe(id.uid)} (propagationPolicy=${policy})`);
    try {
      await this.client.delete(RestMapper.address(info, id.namespace), id.name, {
        propagationPolicy: policy,
        preconditions: { uid: id.uid },
      });
    } catch (e) {
      // Already gone, or the name now belongs to another object (the UID precondition failed).
      if (!isCode(e, 404, 409)) throw e;
    }
  }

  /** Rewrites the live object's ownerReferences (merge patch with a resourceVersion precondition, retried). */
  private async rewriteOwnerReferences(
    id: ObjectIdentity,
    change: (refs: OwnerReference[]) => OwnerReference[],
  ): Promise<void> {
    await this.patchMeta(id, (m) => {
      const refs = m.ownerReferences ?? [];
      const next = change(refs);
      if (JSON.stringify(next) === JSON.stringify(refs)) return undefined;
      return { ownerReferences: next.length ? next : null };
    });
  }

  private async removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    await this.patchMeta(id, (m) => {
      const fins = m.finalizers ?? [];
      if (!fins.includes(finalizer)) return undefined;
      const rest = fins.filter((f) => f !== finalizer);
      return { finalizers: rest.length ? rest : null };
    });
  }

  /** GET, compute a metadata change (undefined = nothing to do), PATCH guarded by uid and resourceVersion. */
  private async patchMeta(id: ObjectIdentity, compute: (m: Meta) => Record<string, unknown> | undefined) {
    const info = this.mapper!.mapping(id.apiVersion, id.kind);
    const addr = RestMapper.address(info, id.namespace);
    for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      const live = await this.getLive(id);
      if (!live || metaOf(live).uid !== id.uid) return;
      const m = metaOf(live);
      const change = compute(m);
      if (!change) return;
      try {
        await this.client.patch(addr, id.name, {
          metadata: { ...change, uid: id.uid, resourceVersion: m.resourceVersion },
        });
        return;
      } catch (e) {
        if (isCode(e, 404)) return;
        if (!isCode(e, 409)) throw e;
      }
    }
    throw new Error(`still conflicting after ${PATCH_ATTEMPTS} attempts`);
  }
}

function deletable(r: ResourceInfo): boolean {
  return (
    ['list', 'watch', 'delete'].every((v) => r.verbs.includes(v)) && !ignoredResources.has(`${r.group}/${r.resource}`)
  );
}

function observed(info: ResourceInfo, o: KubeObject): ObservedObject {
  const m = metaOf(o);
  return {
    identity: {
      apiVersion: apiVersionOf(info.group, info.version),
      kind: info.kind,
      namespace: (o.metadata?.namespace as string | undefined) ?? '',
      name: String(o.metadata?.name ?? ''),
      uid: String(m.uid ?? ''),
    },
    owners: Array.isArray(m.ownerReferences) ? m.ownerReferences.filter((r) => r && typeof r.uid === 'string') : [],
    beingDeleted: !!m.deletionTimestamp,
    finalizers: Array.isArray(m.finalizers) ? m.finalizers : [],
  };
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
