// Pod garbage collector: force-deletes pods no node agent will ever finish — bound to nodes that no longer exist,
// terminating without a node, terminating on out-of-service nodes — and terminated pods beyond a threshold.
//
// Upstream: k8s.io/kubernetes pkg/controller/podgc/gc_controller.go. A pass runs every 20 s over the informer caches;
// a node missing from the cache is quarantined for 40 s and then confirmed gone with a live GET before its pods
// are touched. Pods not yet terminal are first patched to phase Failed (with a DisruptionTarget condition when
// orphaned), then deleted with grace period 0.
import { StatusError } from '../api/status.js';
import { createInformer, type Informer } from '../client/informer.js';
import { nodes as nodesAt, pods as podsAt } from '../client/resources.js';
import type { Client, KubeObject } from '../client/types.js';
import type { Controller, ControllerContext } from './controller.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Pod = KubeObject & { spec?: any; status?: any };
type Node = KubeObject & { spec?: any; status?: any };

export interface PodGcOptions {
  /** Between passes (upstream gcCheckPeriod, 20 s). */
  checkPeriodMs?: number;
  /** How long a node must stay missing before its pods go (upstream quarantineTime, 40 s). */
  quarantineMs?: number;
  /** Terminated pods kept before the oldest are deleted; 0 = never (kube-controller-manager default 12500). */
  terminatedPodThreshold?: number;
}

const OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export class PodGarbageCollector implements Controller {
  readonly name = 'podgc';
  private readonly client: Client;
  private readonly log: (line: string) => void;
  private readonly period: number;
  private readonly quarantine: number;
  private readonly threshold: number;
  private readonly podInformer: Informer<Pod>;
  private readonly nodeInformer: Informer<Node>;
  /** Missing node name → when its quarantine ends. */
  private readonly quarantined = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private stopped = false;
  private passCount = 0;

  constructor(ctx: ControllerContext, opts: PodGcOptions = {}) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.period = opts.checkPeriodMs ?? 20_000;
    this.quarantine = opts.quarantineMs ?? 40_000;
    this.threshold = opts.terminatedPodThreshold ?? 12_500;
    this.podInformer = createInformer<Pod>(ctx.client, podsAt(), { log: ctx.log });
    this.nodeInformer = createInformer<Node>(ctx.client, nodesAt(), { log: ctx.log });
  }

  async start(): Promise<void> {
    await Promise.all([this.podInformer.start(), this.nodeInformer.start()]);
    if (!this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.podInformer.stop();
    this.nodeInformer.stop();
    await this.pass;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass = this.gc()
        .catch((e) => this.log(`podgc: ${(e as Error).message}`))
        .finally(() => this.schedule(this.period));
    }, ms);
    this.timer.unref?.();
  }

  /** Completed passes (for tests and diagnostics). */
  get passes(): number {
    return this.passCount;
  }

  /** One pass over the caches. */
  async gc(): Promise<void> {
    const pods = this.podInformer.list();
    const nodes = new Map(this.nodeInformer.list().map((n) => [String(n.metadata?.name), n]));
    if (this.threshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods, nodes);
    await this.gcOrphaned(pods, nodes);
    await this.gcUnscheduledTerminating(pods);
    this.passCount++;
  }

  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter((p) => !['Pending', 'Running', 'Unknown'].includes(p.status?.phase ?? 'Pending'));
    const excess = terminated.length - this.threshold;
    if (excess <= 0) return;
    // Evicted pods first, then the oldest (upstream byEvictionAndCreationTimestamp).
    const evicted = (p: Pod) => p.status?.phase === 'Failed' && p.status?.reason === 'Evicted';
    terminated.sort(
      (a, b) =>
        Number(evicted(b)) - Number(evicted(a)) ||
        String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) ||
        String(a.metadata?.name).localeCompare(String(b.metadata?.name)),
    );
    await Promise.all(terminated.slice(0, excess).map((p) => this.markFailedAndDelete(p)));
  }

  private async gcTerminating(pods: Pod[], nodes: Map<string, Node>): Promise<void> {
    for (const p of pods) {
      if (!p.metadata?.deletionTimestamp) continue;
      const node = nodes.get(p.spec?.nodeName ?? '');
      if (!node || isReady(node)) continue;
      if ((node.spec?.taints ?? []).some((t: any) => t?.key === OUT_OF_SERVICE)) await this.markFailedAndDelete(p);
    }
  }

  private async gcOrphaned(pods: Pod[], nodes: Map<string, Node>): Promise<void> {
    const now = Date.now();
    for (const p of pods) {
      const node = p.spec?.nodeName;
      if (node && !nodes.has(node) && !this.quarantined.has(node)) this.quarantined.set(node, now + this.quarantine);
    }
    // Nodes whose quarantine is over are checked with a live GET; a node that reappeared is forgotten.
    const deleted = new Set<string>();
    for (const [node, until] of [...this.quarantined]) {
      if (until > now) continue;
      this.quarantined.delete(node);
      if (nodes.has(node)) continue;
      try {
        await this.client.get(nodesAt(), node);
      } catch (e) {
        if (e instanceof StatusError && e.code === 404) deleted.add(node);
        else this.log(`podgc: checking node ${node}: ${(e as Error).message}`);
      }
    }
    for (const p of pods) {
      if (!deleted.has(p.spec?.nodeName)) continue;
      this.log(
        `podgc: pod ${p.metadata?.namespace}/${p.metadata?.name} is bound to node ${p.spec.nodeName}, which no longer exists; deleting`,
      );
      await this.markFailedAndDelete(p, {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'DeletionByPodGC',
        message: 'PodGC: node no longer exists',
      });
    }
  }

  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    for (const p of pods) if (p.metadata?.deletionTimestamp && !p.spec?.nodeName) await this.markFailedAndDelete(p);
  }

  private async markFailedAndDelete(pod: Pod, condition?: Record<string, string>): Promise<void> {
    const ns = String(pod.metadata?.namespace);
    const name = String(pod.metadata?.name);
    const uid = pod.metadata?.uid;
    try {
      // No kubelet will ever report this pod's end: record it as Failed so clients see why it went.
      if (pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') {
        const status: Record<string, unknown> = { phase: 'Failed' };
        if (condition)
          status.conditions = [{ ...condition, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }];
        await this.client.patch(
          podsAt(ns),
          name,
          { metadata: { uid }, status },
          { type: 'strategic', subresource: 'status' },
        );
      }
      await this.client.delete(podsAt(ns), name, { gracePeriodSeconds: 0, preconditions: uid ? { uid } : undefined });
    } catch (e) {
      // Already gone, or the name now belongs to a new pod.
      if (e instanceof StatusError && (e.code === 404 || e.code === 409)) return;
      this.log(`podgc: deleting pod ${ns}/${name}: ${(e as Error).message}`);
    }
  }
}

function isReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c: any) => c?.type === 'Ready' && c?.status === 'True');
}
