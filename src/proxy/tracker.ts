// The proxy's tracker: a pure state machine fed Service and EndpointSlice events (from an informer or anything
// else) that yields the desired state of every changed service port.
//
// Endpoint selection follows kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go), without topology hints:
// ready endpoints, else serving-and-terminating ones; Local traffic policies keep only this node's endpoints.
import type {
  EndpointSliceObject,
  EndpointState,
  Protocol,
  ServiceObject,
  ServicePortState,
  ServicePortSpec,
} from './types.js';
import { isIPv4 } from './nftables/types.js';

/** EndpointSlices name their Service with this label (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Kubernetes' default ClientIP affinity timeout (core/v1 DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_AFFINITY_TIMEOUT = 10800;

export interface TrackerOptions {
  /** This node's name, for Local traffic policies. */
  nodeName: string;
}

export interface TrackerChanges {
  /** Desired state per changed service port key; null = the port is gone. */
  ports: Map<string, ServicePortState | null>;
  /** When the oldest event behind these changes arrived (performance.now()), for programming latency. */
  since: number;
}

function keyOf(obj: { metadata: { name: string; namespace?: string } }): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

function protocolOf(p?: string): Protocol | undefined {
  const lower = (p ?? 'TCP').toLowerCase();
  return lower === 'tcp' || lower === 'udp' || lower === 'sctp' ? lower : undefined;
}

const IPV6 = /^[0-9a-fA-F:.]+$/;
function isIP(s: unknown): s is string {
  return typeof s === 'string' && (isIPv4(s) || (s.includes(':') && IPV6.test(s)));
}

export class ServiceTracker {
  readonly nodeName: string;
  readonly #services = new Map<string, ServiceObject>();
  /** Slices by service key, then by slice name. */
  readonly #slices = new Map<string, Map<string, EndpointSliceObject>>();
  /** Which service a slice belonged to when last seen (its label may change). */
  readonly #sliceOwner = new Map<string, string>();
  /** Port keys last reported per service, so removed ports are reported as null. */
  readonly #reported = new Map<string, Set<string>>();
  #dirty = new Set<string>();
  #since = 0;

  constructor(options: TrackerOptions) {
    this.nodeName = options.nodeName;
  }

  #touch(serviceKey: string): void {
    if (this.#dirty.size === 0) this.#since = performance.now();
    this.#dirty.add(serviceKey);
  }

  /** True when events arrived that takeChanges() has not returned yet. */
  get pending(): boolean {
    return this.#dirty.size > 0;
  }

  upsertService(svc: ServiceObject): void {
    const key = keyOf(svc);
    this.#services.set(key, svc);
    this.#touch(key);
  }

  deleteService(svc: ServiceObject): void {
    const key = keyOf(svc);
    this.#services.delete(key);
    this.#touch(key);
  }

  upsertSlice(slice: EndpointSliceObject): void {
    const sliceKey = keyOf(slice);
    const previous = this.#sliceOwner.get(sliceKey);
    const serviceName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const owner = serviceName ? `${slice.metadata.namespace ?? 'default'}/${serviceName}` : undefined;
    if (previous && previous !== owner) this.#removeSlice(previous, slice.metadata.name);
    if (!owner) {
      this.#sliceOwner.delete(sliceKey);
      return;
    }
    let bySlice = this.#slices.get(owner);
    if (!bySlice) this.#slices.set(owner, (bySlice = new Map()));
    bySlice.set(slice.metadata.name, slice);
    this.#sliceOwner.set(sliceKey, owner);
    this.#touch(owner);
  }

  deleteSlice(slice: EndpointSliceObject): void {
    const sliceKey = keyOf(slice);
    const owner = this.#sliceOwner.get(sliceKey);
    if (!owner) return;
    this.#sliceOwner.delete(sliceKey);
    this.#removeSlice(owner, slice.metadata.name);
  }

  #removeSlice(owner: string, name: string): void {
    const bySlice = this.#slices.get(owner);
    if (!bySlice?.delete(name)) return;
    if (bySlice.size === 0) this.#slices.delete(owner);
    this.#touch(owner);
  }

  /** Forgets every change so far and reports every known service port (e.g. after a failed sync). */
  markAllDirty(): void {
    for (const key of this.#services.keys()) this.#touch(key);
    for (const key of this.#reported.keys()) this.#touch(key);
  }

  /** The desired state of every service port whose Service or slices changed since the last call. */
  takeChanges(): TrackerChanges {
    const ports = new Map<string, ServicePortState | null>();
    const since = this.#since;
    for (const serviceKey of this.#dirty) {
      const states = this.servicePorts(serviceKey);
      const now = new Set<string>();
      for (const s of states) {
        ports.set(s.key, s);
        now.add(s.key);
      }
      for (const old of this.#reported.get(serviceKey) ?? []) if (!now.has(old)) ports.set(old, null);
      if (now.size > 0) this.#reported.set(serviceKey, now);
      else this.#reported.delete(serviceKey);
    }
    this.#dirty = new Set();
    return { ports, since };
  }

  /** The desired state of one service's ports (empty for headless, ExternalName or unknown services). */
  servicePorts(serviceKey: string): ServicePortState[] {
    const svc = this.#services.get(serviceKey);
    const spec = svc?.spec;
    if (!svc || !spec || spec.type === 'ExternalName') return [];
    const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter(
      isIP,
    );
    if (clusterIPs.length === 0) return []; // headless ("None") or not yet allocated
    const externalIPs = (spec.externalIPs ?? []).filter(isIP);
    const loadBalancerIPs =
      spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(isIP) : [];
    const affinity = spec.sessionAffinity === 'ClientIP';
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const result: ServicePortState[] = [];
    const slices = [...(this.#slices.get(serviceKey)?.values() ?? [])].sort((a, b) =>
      a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
    );
    for (const port of spec.ports ?? []) {
      const protocol = protocolOf(port.protocol);
      if (!protocol || !(port.port > 0 && port.port < 65536)) continue;
      const portName = port.name ?? '';
      const nodePort = nodePorts && port.nodePort && port.nodePort > 0 ? port.nodePort : undefined;
      const hasExternal = nodePort !== undefined || externalIPs.length > 0 || loadBalancerIPs.length > 0;
      const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
      const externalPolicyLocal = hasExternal && spec.externalTrafficPolicy === 'Local';
      const all = this.#mergeEndpoints(slices, port, protocol);
      const selected = categorize(all, internalPolicyLocal, externalPolicyLocal);
      result.push({
        key: `${serviceKey}:${portName}/${protocol}`,
        namespace: svc.metadata.namespace ?? 'default',
        name: svc.metadata.name,
        portName,
        protocol,
        port: port.port,
        clusterIPs,
        ...(nodePort !== undefined ? { nodePort } : {}),
        externalIPs,
        loadBalancerIPs,
        ...(affinity ? { affinityTimeoutSeconds: timeout && timeout > 0 ? timeout : DEFAULT_AFFINITY_TIMEOUT } : {}),
        internalPolicyLocal,
        externalPolicyLocal,
        clusterEndpoints: internalPolicyLocal ? selected.local : selected.cluster,
        externalEndpoints: hasExternal ? (externalPolicyLocal ? selected.local : selected.cluster) : [],
        clusterNoEndpoints: internalPolicyLocal && selected.any ? 'drop' : 'reject',
        externalNoEndpoints: externalPolicyLocal && selected.any ? 'drop' : 'reject',
        allEndpoints: all,
      });
    }
    return result;
  }

  /**
   * Endpoints of one service port across all slices, de-duplicated by address and port: the controller may
   * briefly list an endpoint in two slices; a ready copy wins over a not-ready one (as kube-proxy's cache does).
   */
  #mergeEndpoints(slices: EndpointSliceObject[], port: ServicePortSpec, protocol: Protocol): EndpointState[] {
    const byAddress = new Map<string, EndpointState>();
    const wantName = port.name ?? '';
    // The port number each usable slice gives this port; when they all agree (nearly always) the address alone
    // identifies an endpoint, which saves building an "ip:port" string per endpoint.
    const usable: [EndpointSliceObject, number][] = [];
    for (const slice of slices) {
      // Address type must be IP; FQDN slices are not proxied.
      if (slice.addressType && slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
      const match = (slice.ports ?? []).find((p) => (p.name ?? '') === wantName && protocolOf(p.protocol) === protocol);
      const number = match?.port;
      if (!number || number < 1 || number > 65535) continue;
      usable.push([slice, number]);
    }
    const oneNumber = usable.every(([, n]) => n === usable[0]![1]);
    for (const [slice, number] of usable) {
      for (const ep of slice.endpoints ?? []) {
        const ip = ep.addresses?.[0];
        if (!isIP(ip)) continue;
        const c = ep.conditions ?? {};
        // discovery/v1: a nil ready means ready; nil serving means "same as ready"; nil terminating means false.
        const ready = c.ready !== false;
        // One object shape for every endpoint (no conditional spread: it allocates and defeats V8's inline caches).
        const state: EndpointState = {
          ip,
          port: number,
          nodeName: ep.nodeName || undefined,
          ready,
          serving: c.serving ?? ready,
          terminating: c.terminating === true,
          local: ep.nodeName === this.nodeName,
        };
        const id = oneNumber ? ip : `${ip}:${number}`;
        const seen = byAddress.get(id);
        if (!seen || (state.ready && !seen.ready)) byAddress.set(id, state);
      }
    }
    return [...byAddress.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
  }
}

/** kube-proxy's CategorizeEndpoints without topology: cluster-wide and node-local usable endpoints. */
export function categorize(
  endpoints: readonly EndpointState[],
  internalLocal: boolean,
  externalLocal: boolean,
): { cluster: EndpointState[]; local: EndpointState[]; any: boolean } {
  let cluster = endpoints.filter((e) => e.ready);
  if (cluster.length === 0) cluster = endpoints.filter((e) => e.serving && e.terminating);
  let local: EndpointState[] = [];
  if (internalLocal || externalLocal) {
    local = endpoints.filter((e) => e.local && e.ready);
    if (local.length === 0) local = endpoints.filter((e) => e.local && e.serving && e.terminating);
  }
  const any = endpoints.some((e) => e.ready || (e.serving && e.terminating));
  return { cluster, local, any };
}
