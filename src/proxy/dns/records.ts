// The cluster DNS data model: Services and EndpointSlices folded into what names resolve to.
// Pure and synchronous; an informer (any kind) feeds it add/update/delete events.
import { isIP } from 'node:net';
import { SERVICE_NAME_LABEL, type EndpointSliceLike, type ObjectEvent, type ServiceLike } from './types.js';

export interface PortRecord {
  name: string;
  protocol: string; // lower case: tcp | udp | sctp
  port: number;
}

export interface ServiceRecord {
  namespace: string;
  name: string;
  /** spec.clusterIP "None": DNS answers with the endpoints' addresses instead of a virtual IP. */
  headless: boolean;
  clusterIPs: string[];
  externalName?: string;
  ports: PortRecord[];
  publishNotReadyAddresses: boolean;
}

export interface EndpointRecord {
  ip: string;
  hostname?: string;
  ready: boolean;
  ports: PortRecord[];
}

interface SliceRecord {
  namespace: string;
  service: string;
  endpoints: EndpointRecord[];
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

function portsOf(list: { name?: string; protocol?: string; port?: number }[] | null | undefined): PortRecord[] {
  const out: PortRecord[] = [];
  for (const p of list ?? []) {
    if (typeof p.port !== 'number') continue; // an EndpointSlice port without a number means "all ports"; no SRV
    out.push({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port });
  }
  return out;
}

/** Normalises a Service; returns undefined for objects DNS cannot name. */
export function serviceRecord(svc: ServiceLike): ServiceRecord | undefined {
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name;
  if (!name) return undefined;
  const spec = svc.spec ?? {};
  const headless = spec.clusterIP === 'None';
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  const rec: ServiceRecord = {
    namespace,
    name: name.toLowerCase(),
    headless,
    clusterIPs: headless ? [] : ips.filter((ip) => isIP(ip) !== 0),
    ports: portsOf(spec.ports),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
  };
  if (spec.type === 'ExternalName' && spec.externalName) rec.externalName = spec.externalName.replace(/\.$/, '');
  return rec;
}

function sliceRecord(slice: EndpointSliceLike): { key: string; rec: SliceRecord } | undefined {
  const namespace = slice.metadata?.namespace ?? 'default';
  const name = slice.metadata?.name;
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!name || !service) return undefined;
  // FQDN slices carry names, not addresses; DNS answers only from IP slices.
  if (slice.addressType === 'FQDN') return { key: key(namespace, name), rec: { namespace, service, endpoints: [] } };
  const ports = portsOf(slice.ports);
  const endpoints: EndpointRecord[] = [];
  for (const ep of slice.endpoints ?? []) {
    // A nil ready condition means ready (discovery.k8s.io/v1 EndpointConditions).
    const ready = ep.conditions?.ready !== false;
    // Kubernetes only uses the first address of an endpoint; the others are ignored by consumers.
    const ip = ep.addresses?.[0];
    if (!ip || isIP(ip) === 0) continue;
    const rec: EndpointRecord = { ip, ready, ports };
    if (ep.hostname) rec.hostname = ep.hostname.toLowerCase();
    endpoints.push(rec);
  }
  return { key: key(namespace, name), rec: { namespace, service: service.toLowerCase(), endpoints } };
}

/** Dotted IPv4 as the dashed label CoreDNS uses for unnamed endpoints (10.1.2.3 -> 10-1-2-3). */
export function dashed(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

export class ClusterRecords {
  private readonly services = new Map<string, ServiceRecord>();
  private readonly slices = new Map<string, SliceRecord>();
  /** service key -> slice keys, so endpoint lookups don't scan every slice. */
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly namespaceCounts = new Map<string, number>();
  /** Bumped on every change; lets callers cache derived answers. */
  generation = 0;

  applyService(ev: ObjectEvent<ServiceLike>): void {
    const rec = serviceRecord(ev.object);
    if (!rec) return;
    const k = key(rec.namespace, rec.name);
    const had = this.services.has(k);
    if (ev.type === 'DELETED') {
      if (had) {
        this.services.delete(k);
        this.countNamespace(rec.namespace, -1);
      }
    } else {
      this.services.set(k, rec);
      if (!had) this.countNamespace(rec.namespace, 1);
    }
    this.generation++;
  }

  applyEndpointSlice(ev: ObjectEvent<EndpointSliceLike>): void {
    const parsed = sliceRecord(ev.object);
    if (!parsed) return;
    const old = this.slices.get(parsed.key);
    if (old) this.slicesByService.get(key(old.namespace, old.service))?.delete(parsed.key);
    if (ev.type === 'DELETED') {
      this.slices.delete(parsed.key);
    } else {
      this.slices.set(parsed.key, parsed.rec);
      const sk = key(parsed.rec.namespace, parsed.rec.service);
      let set = this.slicesByService.get(sk);
      if (!set) this.slicesByService.set(sk, (set = new Set()));
      set.add(parsed.key);
    }
    this.generation++;
  }

  private countNamespace(ns: string, delta: number): void {
    const n = (this.namespaceCounts.get(ns) ?? 0) + delta;
    if (n <= 0) this.namespaceCounts.delete(ns);
    else this.namespaceCounts.set(ns, n);
  }

  /** Whether any Service lives in the namespace (DNS names of empty namespaces don't exist). */
  hasNamespace(namespace: string): boolean {
    return this.namespaceCounts.has(namespace);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.services.get(key(namespace, name));
  }

  /**
   * The endpoints DNS publishes for a Service: ready ones (all of them with publishNotReadyAddresses),
   * each address once even when it appears in two slices (the controller may briefly duplicate).
   */
  endpoints(namespace: string, name: string): EndpointRecord[] {
    const svc = this.services.get(key(namespace, name));
    const sliceKeys = this.slicesByService.get(key(namespace, name));
    if (!sliceKeys) return [];
    const seen = new Map<string, EndpointRecord>();
    for (const sk of [...sliceKeys].sort()) {
      for (const ep of this.slices.get(sk)?.endpoints ?? []) {
        if (!ep.ready && !svc?.publishNotReadyAddresses) continue;
        if (!seen.has(ep.ip)) seen.set(ep.ip, ep);
      }
    }
    return [...seen.values()];
  }

  /** Names that point at an address: Service ClusterIPs, and endpoints of headless Services. */
  reverse(ip: string, zone: string): string[] {
    const names: string[] = [];
    for (const svc of this.services.values()) {
      const base = `${svc.name}.${svc.namespace}.svc.${zone}`;
      if (svc.clusterIPs.includes(ip)) names.push(base);
      if (svc.headless) {
        for (const ep of this.endpoints(svc.namespace, svc.name)) {
          if (ep.ip === ip) names.push(`${ep.hostname ?? dashed(ep.ip)}.${base}`);
        }
      }
    }
    return names;
  }
}
