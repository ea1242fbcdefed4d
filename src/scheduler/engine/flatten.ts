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

/**
 * Whether two pods belong to one class, without building either key: the fields classKey reads, compared as
 * JSON.stringify would see them, except that key order inside them does not matter (such pods are the same to every
 * plugin). Pods of one workload share a class, so comparing with a recent class's pod is far cheaper than
 * serialising every pod.
 */
export function sameClass(a: Pod, b: Pod, placed: boolean): boolean {
  const ma = a.metadata ?? {};
  const mb = b.metadata ?? {};
  const sa = a.spec;
  const sb = b.spec;
  return (
    (ma.namespace || 'default') === (mb.namespace || 'default') &&
    jsonEqual(ma.labels ?? null, mb.labels ?? null) &&
    jsonEqual(ma.ownerReferences ?? null, mb.ownerReferences ?? null) &&
    (ma.deletionTimestamp !== undefined && ma.deletionTimestamp !== null) ===
      (mb.deletionTimestamp !== undefined && mb.deletionTimestamp !== null) &&
    (placed || (sa?.nodeName ?? null) === (sb?.nodeName ?? null)) &&
    jsonEqual(sa?.nodeSelector ?? null, sb?.nodeSelector ?? null) &&
    jsonEqual(sa?.affinity ?? null, sb?.affinity ?? null) &&
    jsonEqual(sa?.tolerations ?? null, sb?.tolerations ?? null) &&
    jsonEqual(sa?.topologySpreadConstraints ?? null, sb?.topologySpreadConstraints ?? null) &&
    jsonEqual(sa?.overhead ?? null, sb?.overhead ?? null) &&
    sameContainers(sa?.containers ?? [], sb?.containers ?? []) &&
    sameContainers(sa?.initContainers ?? [], sb?.initContainers ?? [])
  );
}

function sameContainers(a: Container[], b: Container[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((x.image ?? '') !== (y.image ?? '')) return false;
    if (!jsonEqual(x.resources?.requests ?? null, y.resources?.requests ?? null)) return false;
    if (!jsonEqual(x.ports ?? null, y.ports ?? null)) return false;
    if (!jsonEqual(x.restartPolicy ?? null, y.restartPolicy ?? null)) return false;
  }
  return true;
}

/**
 * Deep equality of plain JSON-like values as JSON.stringify sees them — properties whose value is undefined or a
 * function are skipped, as stringify skips them — except that key order does not matter (pods that differ only in
 * key order are the same pod to the scheduler). Anything else (class instances, dates with toJSON, non-finite
 * numbers) answers false so the caller falls back to the key. Allocates nothing (for-in, no key arrays).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return a === null || typeof a === 'string' || typeof a === 'boolean' || Number.isFinite(a);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      // stringify writes undefined and functions in arrays as null.
      const xn = x === undefined || typeof x === 'function' ? null : x;
      const yn = y === undefined || typeof y === 'function' ? null : y;
      if (!jsonEqual(xn, yn)) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let count = 0;
  for (const k in ra) {
    if (!Object.prototype.hasOwnProperty.call(ra, k) || skipped(ra[k])) continue;
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !jsonEqual(ra[k], rb[k])) return false;
    count++;
  }
  for (const k in rb) if (Object.prototype.hasOwnProperty.call(rb, k) && !skipped(rb[k])) count--;
  return count === 0;
}

function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
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

/**
 * fnv1a32(podKey(pod)) computed from the namespace and name, without reading the key: a freshly built key is a rope,
 * and reading its characters would first copy it into a flat string (one more allocation per pod).
 */
export function podKeyHash(pod: Pod): number {
  const ns = pod.metadata?.namespace || 'default';
  const name = pod.metadata?.name;
  if (!name) throw new Error('pod has no metadata.name');
  // fnv1a32 of `${ns}/${name}`, chained piece by piece so the key string is never built.
  return fnv1a32(name, fnv1a32('/', fnv1a32(ns)));
}
