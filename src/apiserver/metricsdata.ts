// metrics.k8s.io data: the latest pod and node usage that node agents report; served read-only, empty until then.
import type { Obj } from './types.js';

export interface UsageReport {
  /** Samples older than this are dropped from answers (agents report every few seconds). */
  ttlMs?: number;
}

export class MetricsData {
  private readonly pods = new Map<string, { obj: Obj; at: number }>();
  private readonly nodes = new Map<string, { obj: Obj; at: number }>();
  constructor(private readonly ttlMs = 120_000) {}

  /** Records a PodMetrics object (metadata.namespace/name, timestamp, window, containers[].usage). */
  reportPod(m: Obj): void {
    this.pods.set(`${m.metadata?.namespace}/${m.metadata?.name}`, {
      obj: { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...m },
      at: Date.now(),
    });
  }

  /** Records a NodeMetrics object (metadata.name, timestamp, window, usage). */
  reportNode(m: Obj): void {
    this.nodes.set(String(m.metadata?.name), {
      obj: { kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...m },
      at: Date.now(),
    });
  }

  list(kind: 'pods' | 'nodes', namespace?: string): Obj[] {
    const now = Date.now();
    const out: Obj[] = [];
    for (const { obj, at } of (kind === 'pods' ? this.pods : this.nodes).values()) {
      if (now - at > this.ttlMs) continue;
      if (kind === 'pods' && namespace && obj.metadata?.namespace !== namespace) continue;
      out.push(obj);
    }
    return out.sort((a, b) =>
      `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`),
    );
  }

  get(kind: 'pods' | 'nodes', namespace: string, name: string): Obj | undefined {
    const e = (kind === 'pods' ? this.pods : this.nodes).get(kind === 'pods' ? `${namespace}/${name}` : name);
    return e && Date.now() - e.at <= this.ttlMs ? e.obj : undefined;
  }
}
