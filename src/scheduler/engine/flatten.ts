// Flattens V1Node / V1Pod objects once, on the caller's thread, into what the engine's worker keeps: nodes with parsed
// allocatable, and pods reduced to an equivalence class (same namespace, labels, owner and scheduling-relevant spec).
import { PodInfo } from '../snapshot.js';
import { fnv1a32 } from '../tiebreak.js';
import { resourceAmount } from '../resources.js';
import type { Container, Node, Pod } from '../types.js';
import type { FlatClass } from './messages.js';

/** The node fields the worker needs, with allocatable as [name, amount] (throws on a bad quantity, as the reference). */
export function flattenNode(node: Node): { node: Node; allocatable: [string, number][] } {
  const name = node.metadata?.name;
  if (!name) throw new Error('node has no metadata.name');
  const allocatable = Object.entries(node.status?.allocatable ?? {}).map(([r, q]): [string, number] => [
    r,
    resourceAmount(r, q),
  ]);
  const kept: Node = {
    metadata: { name, labels: node.metadata?.labels ?? {} },
    spec: { taints: node.spec?.taints ?? [], unschedulable: node.spec?.unschedulable === true },
    status: { images: node.status?.images ?? [] },
  };
  return { node: kept, allocatable };
}

/** "namespace/name" as the reference keys pods (an empty namespace is "default"). */
export function podKey(pod: Pod): string {
  const name = pod.metadata?.name;
  if (!name) throw new Error('pod has no metadata.name');
  return `${pod.metadata?.namespace || 'default'}/${name}`;
}

function containerShape(c: Container): unknown {
  return [c.image ?? '', c.resources?.requests ?? null, c.ports ?? null, c.restartPolicy ?? null];
}

/**
 * The class key: everything a decision about this pod, or about other pods while it is placed, can depend on.
 * Placed pods drop spec.nodeName (it is where they are, not a constraint), so one class covers them on every node.
 */
export function classKey(pod: Pod, placed: boolean): string {
  const m = pod.metadata ?? {};
  const s = pod.spec;
  return JSON.stringify([
    m.namespace || 'default',
    m.labels ?? null,
    m.ownerReferences ?? null,
    m.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
    placed ? null : (s?.nodeName ?? null),
    s?.nodeSelector ?? null,
    s?.affinity ?? null,
    s?.tolerations ?? null,
    s?.topologySpreadConstraints ?? null,
    s?.overhead ?? null,
    (s?.containers ?? []).map(containerShape),
    (s?.initContainers ?? []).map(containerShape),
  ]);
}

/** The representative pod of a class (no name; validated by parsing it the way the reference does). */
export function flattenClass(id: number, pod: Pod, placed: boolean): FlatClass {
  new PodInfo(pod); // throws the reference's errors (missing name, bad quantities) before anything is sent
  const m = pod.metadata ?? {};
  const spec = { ...pod.spec!, containers: pod.spec?.containers ?? [] };
  if (placed) delete spec.nodeName;
  const meta: Pod['metadata'] = { namespace: m.namespace || 'default', labels: m.labels ?? {} };
  if (m.ownerReferences) meta.ownerReferences = m.ownerReferences;
  if (m.deletionTimestamp !== undefined && m.deletionTimestamp !== null)
    meta.deletionTimestamp = String(m.deletionTimestamp);
  return { id, pod: { metadata: meta, spec } };
}

/** tiebreak.ts fnv1a32 without encoding ASCII strings first (UTF-8 of ASCII is the char codes); same result. */
export function keyHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return fnv1a32(text);
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}
