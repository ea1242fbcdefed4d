// The scheduler daemon: informers feed nodes, pods and workloads into one engine per profile; pending pods go
// through the scheduling queue in batches; decisions are bound through pods/binding, failures reported with a
// FailedScheduling event and the PodScheduled=False condition, successes with a Scheduled event.
import { isStatusError } from '../../api/status.js';
import { createInformer, type Informer, type InformerOptions } from '../../client/informer.js';
import type { Client, KubeObject, ResourceAddress } from '../../client/types.js';
import { createScheduler, type Scheduler } from '../embed.js';
import type { Node, Pod, Profile, Workload } from '../types.js';
import { EventRecorder } from './events.js';
import { preempt } from './preemption.js';
import { SchedulingQueue, type QueuedPod } from './queue.js';

const core = (resource: string, namespace?: string): ResourceAddress => ({
  group: '',
  version: 'v1',
  resource,
  namespace,
});
const apps = (resource: string): ResourceAddress => ({ group: 'apps', version: 'v1', resource });

export type InformerFactory = <T extends KubeObject>(
  client: Client,
  res: ResourceAddress,
  opts?: InformerOptions<T>,
) => Informer<T>;

export interface DaemonOptions {
  client: Client;
  profiles: Profile[];
  engine?: 'wasm' | 'ts';
  seed?: number;
  /** Pods scheduled per engine call (each still sees the previous ones). */
  batchSize?: number;
  /**
   * Binding requests in flight at once. Default: 64 over the network; 1024 in process, where a request in flight
   * costs only memory and the store commits what arrives together in one transaction (measured, 10,000 bindings:
   * 64 at once commit ~64 per transaction and bind ~7,600 pods/s; 1024 at once ~9,400 pods/s).
   */
  maxConcurrentBinds?: number;
  informerFactory?: InformerFactory;
  queue?: SchedulingQueue;
  log?: (line: string) => void;
  now?: () => number;
}

type PodObject = Pod & KubeObject & { metadata?: Pod['metadata'] & { uid?: string } };

function keyOf(pod: Pod): string {
  return `${pod.metadata?.namespace || 'default'}/${pod.metadata?.name}`;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export class SchedulerDaemon {
  private readonly engines = new Map<string, Scheduler>();
  /**
   * Pods placed by this scheduler whose binding the informer has not shown yet (upstream's assumed pods): the pod
   * as scheduled, where, and by which engine.
   */
  private readonly assumed = new Map<string, { pod: Pod; node: string; engine: Scheduler }>();
  private readonly informers: Informer<KubeObject>[] = [];
  private podInformer: Informer<PodObject> | undefined;
  readonly queue: SchedulingQueue;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private backoffTimerAt = 0;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  /** Counters for tests and metrics. */
  readonly stats = { scheduled: 0, unschedulable: 0, bindErrors: 0, preemptions: 0 };
  readonly recorder: EventRecorder;
  /** Bindings in flight: the next scheduling cycle starts without waiting for them (upstream's binding cycle). */
  private readonly binding = new Set<Promise<void>>();
  /** Woken when a binding finishes (the loop waits here when too many are outstanding). */
  private bindingDone: (() => void) | undefined;
  /** Free binding request slots and the bindings waiting for one (thousands of requests at once only add memory). */
  private bindSlots: number;
  private bindWaiters: ((() => void) | undefined)[] = [];
  private bindWaitersHead = 0;

  constructor(private readonly o: DaemonOptions) {
    this.queue = o.queue ?? new SchedulingQueue({ now: o.now });
    this.log = o.log ?? (() => {});
    this.now = o.now ?? Date.now;
    this.recorder = new EventRecorder({ client: o.client, now: this.now, log: this.log });
    this.bindSlots = o.maxConcurrentBinds ?? (o.client.inProcess ? 1024 : 64);
  }

  /** Creates the engines, starts informers (initial lists complete), then the scheduling loop. */
  async start(): Promise<void> {
    for (const profile of this.o.profiles)
      this.engines.set(
        profile.schedulerName,
        await createScheduler({ profile, seed: this.o.seed, engine: this.o.engine }),
      );
    const factory: InformerFactory = this.o.informerFactory ?? createInformer;
    // The daemon only reads what its informers hold (the engine copies what it keeps), so in process they may
    // share the API server's objects instead of decoding JSON for every event.
    const shared = { sharedObjects: true };
    const nodes = factory<Node & KubeObject>(this.o.client, core('nodes'), shared);
    nodes
      .onAdd((n) => this.onNode(n))
      .onUpdate((o, n) => this.onNode(n, o))
      .onDelete((n) => this.each((e) => e.removeNode(n.metadata!.name!)));
    // Finished pods hold no resources (the upstream scheduler's informer filters them the same way).
    const pods = factory<PodObject>(this.o.client, core('pods'), {
      ...shared,
      fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
    });
    pods
      .onAdd((p) => this.onPod(p))
      .onUpdate((o, p) => this.onPod(p, o))
      .onDelete((p) => this.onPodDelete(p));
    const workloadInformers: [ResourceAddress, Workload['kind']][] = [
      [core('services'), 'Service'],
      [core('replicationcontrollers'), 'ReplicationController'],
      [apps('replicasets'), 'ReplicaSet'],
      [apps('statefulsets'), 'StatefulSet'],
    ];
    const workloads = workloadInformers.map(([res, kind]) => {
      const inf = factory<KubeObject>(this.o.client, res, shared);
      const upsert = (obj: KubeObject) => {
        const w = toWorkload(kind, obj);
        if (w) this.each((e) => e.upsertWorkload(w));
        else this.each((e) => e.removeWorkload(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''));
      };
      inf
        .onAdd(upsert)
        .onUpdate((_o, n) => upsert(n))
        .onDelete((obj) =>
          this.each((e) => e.removeWorkload(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '')),
        );
      return inf;
    });
    this.podInformer = pods;
    this.informers.push(nodes as Informer<KubeObject>, pods as Informer<KubeObject>, ...workloads);
    // Nodes and workloads first, so the first pods are scheduled against a complete picture.
    // A server that does not serve a workload kind (e.g. no StatefulSets) only loses that source of selectors.
    const optional = (inf: Informer<KubeObject>, res: ResourceAddress) =>
      inf.start().catch((err: unknown) => {
        if (!isStatusError(err) || err.code !== 404) throw err;
        inf.stop();
        this.log(`scheduler: ${res.group || 'core'}/${res.resource} is not served; default spreading ignores it`);
      });
    await Promise.all([nodes.start(), ...workloads.map((w, i) => optional(w, workloadInformers[i]![0]))]);
    await pods.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.wake();
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const inf of this.informers) inf.stop();
    await this.loop;
    await Promise.all(this.binding);
    await this.recorder.close();
    for (const e of this.engines.values()) await e.close();
  }

  private each(fn: (e: Scheduler) => void): void {
    for (const e of this.engines.values()) fn(e);
  }

  private onNode(n: Node, old?: Node): void {
    this.each((e) => e.upsertNode(n));
    // Heartbeats and condition changes cannot make a pod fit; only scheduling-relevant changes retry parked pods.
    if (old && !nodeSchedulingChanged(old, n)) return;
    this.queue.moveAllUnschedulable();
    this.armBackoffTimer();
  }

  private onPod(p: PodObject, old?: PodObject): void {
    if (isTerminal(p)) {
      this.onPodDelete(p);
      return;
    }
    if (p.spec?.nodeName) {
      const key = keyOf(p);
      const placed = this.assumed.get(key);
      this.assumed.delete(key);
      // The engine that placed this pod already holds it there; it need not take the bound copy when nothing it
      // schedules by changed (the binding only sets nodeName and a condition).
      const unchanged = placed && placed.node === p.spec.nodeName && sameSchedulingInputs(placed.pod, p);
      this.each((e) => {
        if (!unchanged || e !== placed.engine) e.upsertPod(p);
      });
      this.queue.delete(key);
      this.queue.moveAllUnschedulable();
      this.armBackoffTimer();
      return;
    }
    // A pod we placed but whose binding is not visible yet keeps its assumed place.
    if (this.assumed.has(keyOf(p))) return;
    const ns = p.metadata?.namespace || 'default';
    this.each((e) => e.removePod(ns, p.metadata!.name!));
    const schedulerName = p.spec?.schedulerName || 'default-scheduler';
    if (!this.engines.has(schedulerName) || p.metadata?.deletionTimestamp) return;
    // SchedulingGates (PreEnqueue): a gated pod waits outside the queue until its gates are removed.
    if ((p.spec?.schedulingGates?.length ?? 0) > 0) {
      this.queue.delete(keyOf(p));
      return;
    }
    // Upstream's isPodUpdated: changes to status or bookkeeping fields alone do not retry a parked pod.
    this.queue.add(p, old === undefined || specChanged(old, p));
    this.armBackoffTimer();
  }

  private onPodDelete(p: Pod): void {
    this.assumed.delete(keyOf(p));
    const ns = p.metadata?.namespace || 'default';
    this.each((e) => e.removePod(ns, p.metadata!.name!));
    this.queue.delete(keyOf(p));
    this.queue.moveAllUnschedulable();
    this.armBackoffTimer();
  }

  /** Keeps one timer for the earliest backoff expiry, so backed-off pods return even when nothing else happens. */
  private armBackoffTimer(): void {
    const at = this.queue.nextBackoffAt();
    if (at === undefined || this.abort.signal.aborted) return;
    if (this.backoffTimer && this.backoffTimerAt <= at) return;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimerAt = at;
    this.backoffTimer = setTimeout(
      () => {
        this.backoffTimer = undefined;
        this.queue.flush();
        this.queue.wake();
        this.armBackoffTimer();
      },
      Math.max(0, at - this.now()),
    );
    this.backoffTimer.unref();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      this.armBackoffTimer();
      await this.queue.waitForWork();
      if (signal.aborted) break;
      const batchSize = this.o.batchSize ?? 64;
      // Bounded pipelining: at most a few batches' bindings outstanding while the next batch is decided.
      // (One waiter woken per finished binding: Promise.race over thousands of promises would cost O(n) each.)
      while (this.binding.size >= Math.max(256, 4 * batchSize))
        await new Promise<void>((resolve) => (this.bindingDone = resolve));
      const batch = this.queue.popBatch(batchSize);
      if (batch.length === 0) continue;
      try {
        await this.scheduleBatch(batch);
      } catch (err) {
        this.log(`scheduler: batch failed: ${(err as Error).message}`);
        for (const qp of batch) this.queue.markFailed(qp);
      }
    }
  }

  private async scheduleBatch(batch: QueuedPod[]): Promise<void> {
    // Pods of one profile go to that profile's engine together, in queue order.
    const byProfile = new Map<string, QueuedPod[]>();
    for (const qp of batch) {
      const name = qp.pod.spec?.schedulerName || 'default-scheduler';
      const list = byProfile.get(name);
      if (list) list.push(qp);
      else byProfile.set(name, [qp]);
    }
    const binds: Promise<void>[] = [];
    const failed: [Scheduler, QueuedPod, string, string][] = [];
    for (const [name, pods] of byProfile) {
      const engine = this.engines.get(name)!;
      const results = await engine.schedule(pods.map((qp) => qp.pod));
      results.forEach((r, i) => {
        const qp = pods[i]!;
        if (r.node !== undefined) binds.push(this.bind(engine, qp, r.node, name));
        else failed.push([engine, qp, r.reasons?.[0] ?? 'no fit', name]);
      });
    }
    for (const b of binds) {
      this.binding.add(b);
      void b.finally(() => {
        this.binding.delete(b);
        const wake = this.bindingDone;
        this.bindingDone = undefined;
        wake?.();
      });
    }
    // Preemption changes the engine while it works, so unschedulable pods are handled one at a time.
    for (const [engine, qp, message, name] of failed) await this.handleUnschedulable(engine, qp, message, name);
  }

  /** PostFilter: try DefaultPreemption, then report the failure (and the nomination, if any). */
  private async handleUnschedulable(engine: Scheduler, qp: QueuedPod, message: string, schedulerName: string) {
    let full = message;
    try {
      const why = await engine.explain(qp.pod);
      if (why.node === undefined && Object.keys(why.filtered).length > 0) {
        const byNode = new Map<string, Pod[]>();
        for (const p of this.podInformer?.list() ?? []) {
          const n = p.spec?.nodeName;
          if (!n) continue;
          const list = byNode.get(n);
          if (list) list.push(p);
          else byNode.set(n, [p]);
        }
        const result = await preempt(engine, qp.pod, why, (n) => byNode.get(n) ?? []);
        if (result.node !== undefined) await this.evict(qp, result.node, result.victims, schedulerName);
        else if (result.message) full = `${message} ${result.message}`;
      }
    } catch (err) {
      this.log(`scheduler: preemption for ${qp.key} failed: ${(err as Error).message}`);
    }
    await this.reportUnschedulable(qp, full, schedulerName);
  }

  /** Nominates the node for the preemptor and deletes the victims gracefully. */
  private async evict(qp: QueuedPod, node: string, victims: Pod[], schedulerName: string): Promise<void> {
    this.stats.preemptions++;
    const pod = qp.pod as PodObject;
    const ns = pod.metadata?.namespace || 'default';
    try {
      await this.o.client.patch(
        core('pods', ns),
        pod.metadata!.name!,
        { status: { nominatedNodeName: node } },
        {
          subresource: 'status',
          type: 'strategic',
        },
      );
    } catch (err) {
      this.log(`scheduler: nominating ${node} for ${qp.key} failed: ${(err as Error).message}`);
    }
    const by = pod.metadata?.uid ?? qp.key;
    for (const v of victims as PodObject[]) {
      const vns = v.metadata?.namespace || 'default';
      this.recorder.record(v, 'Normal', 'Preempted', `Preempted by pod ${by} on node ${node}`, schedulerName);
      try {
        await this.o.client.delete(core('pods', vns), v.metadata!.name!, {});
      } catch (err) {
        if (!(isStatusError(err) && err.code === 404))
          this.log(`scheduler: deleting victim ${vns}/${v.metadata?.name} failed: ${(err as Error).message}`);
      }
    }
  }

  private async bind(engine: Scheduler, qp: QueuedPod, node: string, schedulerName: string): Promise<void> {
    const pod = qp.pod as PodObject;
    const ns = pod.metadata?.namespace || 'default';
    const name = pod.metadata!.name!;
    this.assumed.set(qp.key, { pod, node, engine });
    try {
      await this.postBinding(ns, name, pod.metadata?.uid, node);
    } catch (err) {
      // The engine assumed the placement; undo it and retry after backoff (a pod bound elsewhere is done).
      this.assumed.delete(qp.key);
      engine.removePod(ns, name);
      if (isStatusError(err) && (err.code === 404 || err.code === 409)) {
        this.queue.done(qp.key);
        return;
      }
      this.stats.bindErrors++;
      this.log(`scheduler: binding ${qp.key} to ${node} failed: ${(err as Error).message}`);
      this.queue.markFailed(qp);
      // Bindings finish outside the scheduling loop: make sure a timer brings this pod back after its backoff.
      this.armBackoffTimer();
      return;
    }
    this.queue.done(qp.key);
    this.stats.scheduled++;
    this.recorder.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${node}`, schedulerName);
  }

  /** POST pods/binding, waiting for a free slot first. */
  private async postBinding(ns: string, name: string, uid: string | undefined, node: string): Promise<void> {
    if (this.bindSlots > 0) this.bindSlots--;
    else await new Promise<void>((resolve) => this.bindWaiters.push(resolve));
    try {
      await this.o.client.create(
        core('pods', ns),
        {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace: ns, ...(uid ? { uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        },
        { subresource: 'binding', name },
      );
    } finally {
      // Hand the slot straight to the next waiting binding, if any.
      const next = this.bindWaiters[this.bindWaitersHead];
      if (next) {
        this.bindWaiters[this.bindWaitersHead++] = undefined;
        // Drop the consumed prefix once in a while instead of shifting the array on every binding.
        if (this.bindWaitersHead === this.bindWaiters.length || this.bindWaitersHead > 1024) {
          this.bindWaiters = this.bindWaiters.slice(this.bindWaitersHead);
          this.bindWaitersHead = 0;
        }
        next();
      } else this.bindSlots++;
    }
  }

  private async reportUnschedulable(qp: QueuedPod, message: string, schedulerName: string): Promise<void> {
    this.stats.unschedulable++;
    this.queue.markUnschedulable(qp);
    const pod = qp.pod as PodObject;
    const ns = pod.metadata?.namespace || 'default';
    const name = pod.metadata!.name!;
    this.recorder.record(pod, 'Warning', 'FailedScheduling', message, schedulerName);
    const current = (
      pod.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] }
    )?.conditions?.find((c) => c.type === 'PodScheduled');
    // Like upstream, the condition is written only when it changes.
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return;
    try {
      await this.o.client.patch(
        core('pods', ns),
        name,
        {
          status: {
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message,
                lastProbeTime: null,
                lastTransitionTime: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
              },
            ],
          },
        },
        { subresource: 'status', type: 'strategic' },
      );
    } catch (err) {
      this.log(`scheduler: updating PodScheduled of ${qp.key} failed: ${(err as Error).message}`);
    }
  }
}

/** Labels, taints, cordon, allocatable or images changed (what the default plugins read from a node). */
function nodeSchedulingChanged(a: Node, b: Node): boolean {
  const view = (n: Node) =>
    JSON.stringify([
      n.metadata?.labels,
      n.spec?.taints,
      n.spec?.unschedulable,
      n.status?.allocatable,
      n.status?.images,
    ]);
  return view(a) !== view(b);
}

/**
 * Whether `b` has the very same scheduling inputs as `a` (namespace, labels, owners, deletion, the spec apart from
 * nodeName), compared by identity: true only when they are the same values or objects, which the informer's shared,
 * never-mutated objects keep across a binding. Anything else (a copy, a change) answers false.
 */
export function sameSchedulingInputs(a: Pod, b: Pod): boolean {
  const ma = a.metadata ?? {};
  const mb = b.metadata ?? {};
  if (
    ma.namespace !== mb.namespace ||
    ma.labels !== mb.labels ||
    ma.ownerReferences !== mb.ownerReferences ||
    ma.deletionTimestamp !== mb.deletionTimestamp
  )
    return false;
  const sa = (a.spec ?? {}) as Record<string, unknown>;
  const sb = (b.spec ?? {}) as Record<string, unknown>;
  let n = 0;
  for (const k in sa) {
    if (k === 'nodeName') continue;
    if (!Object.prototype.hasOwnProperty.call(sb, k) || sa[k] !== sb[k]) return false;
    n++;
  }
  for (const k in sb) if (k !== 'nodeName') n--;
  return n === 0;
}

/** True when more than status and bookkeeping metadata differ (resourceVersion, generation, managedFields). */
function specChanged(a: PodObject, b: PodObject): boolean {
  const strip = (p: PodObject) => {
    const {
      resourceVersion: _rv,
      generation: _g,
      managedFields: _m,
      ...meta
    } = (p.metadata ?? {}) as Record<string, unknown>;
    return JSON.stringify({ ...p, metadata: meta, status: undefined });
  };
  return strip(a) !== strip(b);
}

/** Service / controller objects → the selector default spreading uses; undefined when it has none. */
export function toWorkload(kind: Workload['kind'], obj: KubeObject): Workload | undefined {
  const spec = (obj.spec ?? {}) as { selector?: unknown };
  const namespace = obj.metadata?.namespace ?? 'default';
  const name = obj.metadata?.name ?? '';
  if (!spec.selector || typeof spec.selector !== 'object') return undefined;
  const selector =
    kind === 'Service' || kind === 'ReplicationController'
      ? { matchLabels: spec.selector as Record<string, string> }
      : (spec.selector as Workload['selector']);
  return { kind, namespace, name, selector };
}
