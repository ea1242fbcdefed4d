// Resource arithmetic of NodeResourcesFit and the node cache: pod requests (init containers, sidecars, overhead),
// node allocatable, and the non-zero defaults used for scoring (upstream resourcehelper.PodRequests and
// framework.Resource, k8s v1.33).
import { milliValue, value } from '../api/quantity.js';
import type { Container, Node, Pod, QuantityValue, ResourceList } from './types.js';

/** schedutil.DefaultMilliCPURequest / DefaultMemoryRequest: what a container without a request counts as for scoring. */
export const DefaultMilliCPURequest = 100;
export const DefaultMemoryRequest = 200 * 1024 * 1024;

/** framework.Resource: cpu in millicores, everything else in whole units. */
export interface Resource {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  allowedPods: number;
  /** Extended resources, hugepages and other scalar resources by name. */
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, allowedPods: 0, scalar: new Map() };
}

/** v1helper.IsPrefixedNativeResource: "kubernetes.io/…" names. */
function isPrefixedNative(name: string): boolean {
  return name.includes('kubernetes.io/');
}

/** v1helper.IsExtendedResourceName: a domain-prefixed name outside kubernetes.io and not "requests.…". */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || isPrefixedNative(name)) return false;
  return !name.startsWith('requests.');
}

/** schedutil.IsScalarResourceName: extended, hugepages-*, prefixed native and attachable-volumes-*. */
export function isScalarResourceName(name: string): boolean {
  return (
    isExtendedResourceName(name) ||
    name.startsWith('hugepages-') ||
    isPrefixedNative(name) ||
    name.startsWith('attachable-volumes-')
  );
}

/** Quantity of one resource in the unit the scheduler uses for it (millicores for cpu, whole units otherwise). */
export function resourceAmount(name: string, q: QuantityValue): number {
  return name === 'cpu' ? milliValue(q) : value(q);
}

/** Resource.Add: adds a ResourceList (ignoring names the scheduler does not track). */
export function addResourceList(r: Resource, list: ResourceList | undefined): void {
  if (!list) return;
  for (const [name, q] of Object.entries(list)) addAmount(r, name, resourceAmount(name, q));
}

function addAmount(r: Resource, name: string, amount: number): void {
  switch (name) {
    case 'cpu':
      r.milliCpu += amount;
      return;
    case 'memory':
      r.memory += amount;
      return;
    case 'pods':
      r.allowedPods += amount;
      return;
    case 'ephemeral-storage':
      r.ephemeralStorage += amount;
      return;
    default:
      if (isScalarResourceName(name)) r.scalar.set(name, (r.scalar.get(name) ?? 0) + amount);
  }
}

/** A container's requests as numbers, with the non-zero defaults applied to missing cpu/memory keys when asked. */
function containerRequests(c: Container, nonMissingDefaults: boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, q] of Object.entries(c.resources?.requests ?? {})) out.set(name, resourceAmount(name, q));
  if (nonMissingDefaults) {
    if (!out.has('cpu')) out.set('cpu', DefaultMilliCPURequest);
    if (!out.has('memory')) out.set('memory', DefaultMemoryRequest);
  }
  return out;
}

function addInto(acc: Map<string, number>, add: Map<string, number>): void {
  for (const [k, v] of add) acc.set(k, (acc.get(k) ?? 0) + v);
}

function maxInto(acc: Map<string, number>, other: Map<string, number>): void {
  for (const [k, v] of other) if (!acc.has(k) || v > acc.get(k)!) acc.set(k, v);
}

/**
 * resourcehelper.PodRequests: sum of containers and sidecars, or the largest init-container step if larger,
 * plus pod overhead. With nonMissingDefaults, containers without a cpu/memory request count 100m/200Mi
 * (an explicit 0 stays 0; a pod without containers requests nothing).
 */
export function podRequests(pod: Pod, nonMissingDefaults: boolean): Map<string, number> {
  const reqs = new Map<string, number>();
  for (const c of pod.spec?.containers ?? []) addInto(reqs, containerRequests(c, nonMissingDefaults));
  const sidecars = new Map<string, number>();
  const initMax = new Map<string, number>();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = containerRequests(c, nonMissingDefaults);
    let step: Map<string, number>;
    if (c.restartPolicy === 'Always') {
      // A sidecar keeps running: it adds to the pod total and to every later init step.
      addInto(reqs, own);
      addInto(sidecars, own);
      step = sidecars;
    } else {
      step = new Map(own);
      addInto(step, sidecars);
    }
    maxInto(initMax, step);
  }
  maxInto(reqs, initMax);
  for (const [name, q] of Object.entries(pod.spec?.overhead ?? {}))
    reqs.set(name, (reqs.get(name) ?? 0) + resourceAmount(name, q));
  return reqs;
}

/** The pod's requests as a framework.Resource (the filter's and the node cache's view, no defaults). */
export function podResource(pod: Pod): Resource {
  const r = emptyResource();
  for (const [name, amount] of podRequests(pod, false)) addAmount(r, name, amount);
  return r;
}

/** Node allocatable as a framework.Resource. */
export function nodeAllocatable(node: Node): Resource {
  const r = emptyResource();
  addResourceList(r, node.status?.allocatable);
  return r;
}
