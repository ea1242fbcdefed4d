// Answers one DNS question from the cluster records, the way CoreDNS's kubernetes plugin names things;
// says "forward" for names outside the cluster zone. Pure: no sockets, no clocks.
import { isIP } from 'node:net';
import type { Answer, Question, SoaAnswer } from 'dns-packet';
import { dashed, type ClusterRecords, type EndpointRecord, type ServiceRecord } from './records.js';

export interface ZoneConfig {
  /** The cluster domain, without a trailing dot (kubelet --cluster-domain; default cluster.local). */
  zone: string;
  /** TTL of every cluster answer in seconds (CoreDNS kubernetes plugin default: 5). */
  ttl: number;
  /** Answer `a-b-c-d.<ns>.pod.<zone>` without checking a pod exists (CoreDNS "pods insecure"). */
  podRecords: boolean;
}

export const defaultZoneConfig: ZoneConfig = { zone: 'cluster.local', ttl: 5, podRecords: true };

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export type Resolution =
  | { kind: 'answer'; rcode: number; answers: Answer[]; authorities: Answer[]; additionals: Answer[] }
  | { kind: 'forward' };

const answer = (rcode: number, answers: Answer[], authorities: Answer[] = [], additionals: Answer[] = []) =>
  ({ kind: 'answer', rcode, answers, authorities, additionals }) as const;

function soa(cfg: ZoneConfig, owner = cfg.zone): SoaAnswer {
  // Field values as CoreDNS's kubernetes plugin publishes them (plugin/kubernetes/kubernetes.go: Serial
  // is a timestamp there; a constant keeps answers deterministic, nothing transfers this zone).
  return {
    type: 'SOA',
    name: owner,
    ttl: cfg.ttl,
    class: 'IN',
    data: {
      mname: `ns.dns.${cfg.zone}`,
      rname: `hostmaster.${cfg.zone}`,
      serial: 1,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: cfg.ttl,
    },
  };
}

const nxdomain = (cfg: ZoneConfig) => answer(RCODE.NXDOMAIN, [], [soa(cfg)]);
const nodata = (cfg: ZoneConfig) => answer(RCODE.NOERROR, [], [soa(cfg)]);

function addressAnswers(name: string, ips: string[], type: string, ttl: number): Answer[] {
  const family = type === 'AAAA' ? 6 : 4;
  return ips.filter((ip) => isIP(ip) === family).map((ip) => ({ type: type as 'A', name, ttl, class: 'IN', data: ip }));
}

/** Reverse-zone owner name -> IP, or undefined when the name is not a full address. */
export function ptrToIp(name: string): string | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (v4) {
    const ip = [v4[4], v4[3], v4[2], v4[1]].join('.');
    return isIP(ip) === 4 ? ip : undefined;
  }
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name);
  if (v6) {
    const nibbles = v6[1]!.split('.').filter(Boolean).reverse().join('');
    const ip = nibbles.match(/.{4}/g)!.join(':');
    return isIP(ip) === 6 ? canonicalV6(ip) : undefined;
  }
  return undefined;
}

function canonicalV6(ip: string): string {
  // Compare in one spelling: records hold what the API server stored, usually the compressed form.
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** Resolves one question. Names are compared case-insensitively; answers echo the asked spelling. */
export function resolve(q: Question, records: ClusterRecords, cfg: ZoneConfig = defaultZoneConfig): Resolution {
  const asked = q.name.replace(/\.$/, '');
  const name = asked.toLowerCase();
  const type: string = q.type; // may be "ANY" (255), which the typings omit
  const zone = cfg.zone.toLowerCase();

  if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) {
    if (type !== 'PTR' && type !== 'ANY') return { kind: 'forward' };
    let ip = ptrToIp(name);
    if (ip && isIP(ip) === 6) ip = canonicalV6(ip);
    const names = ip ? records.reverse(ip, cfg.zone) : [];
    // Unknown addresses fall through to the upstream resolvers, as CoreDNS's `fallthrough in-addr.arpa`.
    if (names.length === 0) return { kind: 'forward' };
    return answer(
      RCODE.NOERROR,
      names.map((n) => ({ type: 'PTR', name: asked, ttl: cfg.ttl, class: 'IN', data: n })),
    );
  }

  if (name !== zone && !name.endsWith(`.${zone}`)) return { kind: 'forward' };
  const labels = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');

  if (labels.length === 0) {
    if (type === 'SOA' || type === 'ANY') return answer(RCODE.NOERROR, [soa(cfg)]);
    if (type === 'NS') {
      return answer(RCODE.NOERROR, [{ type: 'NS', name: asked, ttl: cfg.ttl, class: 'IN', data: `ns.dns.${zone}` }]);
    }
    return nodata(cfg);
  }

  const kind = labels[labels.length - 1];
  if (kind === 'svc') return resolveService(asked, labels.slice(0, -1), type, records, cfg);
  if (kind === 'pod' && cfg.podRecords) return resolvePod(asked, labels.slice(0, -1), type, records, cfg);
  return nxdomain(cfg);
}

function resolvePod(asked: string, labels: string[], type: string, records: ClusterRecords, cfg: ZoneConfig) {
  if (labels.length === 1) return records.hasNamespace(labels[0]!) ? nodata(cfg) : nxdomain(cfg);
  if (labels.length !== 2) return nxdomain(cfg);
  const ip = labels[0]!.replace(/-/g, '.');
  if (isIP(ip) !== 4) return nxdomain(cfg);
  if (type !== 'A' && type !== 'ANY') return nodata(cfg);
  return answer(RCODE.NOERROR, addressAnswers(asked, [ip], 'A', cfg.ttl));
}

function serviceAddresses(svc: ServiceRecord, records: ClusterRecords): string[] {
  return svc.headless ? records.endpoints(svc.namespace, svc.name).map((e) => e.ip) : svc.clusterIPs;
}

function endpointHost(ep: EndpointRecord): string {
  return ep.hostname ?? dashed(ep.ip);
}

function resolveService(asked: string, labels: string[], type: string, records: ClusterRecords, cfg: ZoneConfig) {
  // labels (zone and "svc" stripped): [] | [ns] | [svc, ns] | [host, svc, ns] | [_port, _proto, svc, ns]
  if (labels.length === 0) return nodata(cfg);
  const ns = labels[labels.length - 1]!;
  if (labels.length === 1) return records.hasNamespace(ns) ? nodata(cfg) : nxdomain(cfg);
  const svc = records.service(ns, labels[labels.length - 2]!);
  if (!svc) return nxdomain(cfg);

  if (labels.length === 2) {
    if (svc.externalName) {
      // ExternalName: a CNAME; the client's resolver follows it.
      if (type === 'A' || type === 'AAAA' || type === 'CNAME' || type === 'ANY') {
        return answer(RCODE.NOERROR, [
          { type: 'CNAME', name: asked, ttl: cfg.ttl, class: 'IN', data: svc.externalName },
        ]);
      }
      return nodata(cfg);
    }
    const ips = serviceAddresses(svc, records);
    if (type === 'A' || type === 'AAAA') {
      const list = addressAnswers(asked, ips, type, cfg.ttl);
      return list.length ? answer(RCODE.NOERROR, list) : nodata(cfg);
    }
    if (type === 'ANY') {
      const list = [...addressAnswers(asked, ips, 'A', cfg.ttl), ...addressAnswers(asked, ips, 'AAAA', cfg.ttl)];
      return list.length ? answer(RCODE.NOERROR, list) : nodata(cfg);
    }
    if (type === 'SRV') return srvAnswers(asked, svc, svc.ports, records, cfg);
    return nodata(cfg);
  }

  if (labels.length === 3) {
    // <hostname>.<svc>.<ns>: one endpoint of a headless Service.
    if (!svc.headless) return nxdomain(cfg);
    const host = labels[0]!;
    const ep = records.endpoints(svc.namespace, svc.name).find((e) => endpointHost(e) === host);
    if (!ep) return nxdomain(cfg);
    if (type === 'A' || type === 'AAAA') {
      const list = addressAnswers(asked, [ep.ip], type, cfg.ttl);
      return list.length ? answer(RCODE.NOERROR, list) : nodata(cfg);
    }
    if (type === 'ANY')
      return answer(RCODE.NOERROR, addressAnswers(asked, [ep.ip], isIP(ep.ip) === 6 ? 'AAAA' : 'A', cfg.ttl));
    return nodata(cfg);
  }

  if (labels.length === 4) {
    // _<port>._<proto>.<svc>.<ns>: SRV for a named port.
    const [portLabel, protoLabel] = labels as [string, string];
    if (!portLabel.startsWith('_') || !protoLabel.startsWith('_')) return nxdomain(cfg);
    const portName = portLabel.slice(1);
    const proto = protoLabel.slice(1);
    const ports = svc.ports.filter((p) => p.name !== '' && p.name === portName && p.protocol === proto);
    if (svc.headless) {
      // A headless Service's ports may be absent from its spec; the slices' ports are what serve.
      const eps = records.endpoints(svc.namespace, svc.name);
      const known = eps.some((e) => e.ports.some((p) => p.name === portName && p.protocol === proto));
      if (!known && ports.length === 0) return nxdomain(cfg);
    } else if (ports.length === 0) {
      return nxdomain(cfg);
    }
    if (type !== 'SRV' && type !== 'ANY') return nodata(cfg);
    return srvAnswers(asked, svc, svc.headless ? [{ name: portName, protocol: proto, port: 0 }] : ports, records, cfg);
  }
  return nxdomain(cfg);
}

function srvAnswers(
  asked: string,
  svc: ServiceRecord,
  ports: { name: string; protocol: string; port: number }[],
  records: ClusterRecords,
  cfg: ZoneConfig,
) {
  const base = `${svc.name}.${svc.namespace}.svc.${cfg.zone}`;
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  if (!svc.headless) {
    const named = ports.filter((p) => p.name !== '');
    if (!named.length || !svc.clusterIPs.length) return nodata(cfg);
    const weight = Math.floor(100 / named.length);
    for (const p of named) {
      answers.push({
        type: 'SRV',
        name: asked,
        ttl: cfg.ttl,
        class: 'IN',
        data: { priority: 0, weight, port: p.port, target: base },
      });
    }
    additionals.push(
      ...addressAnswers(base, svc.clusterIPs, 'A', cfg.ttl),
      ...addressAnswers(base, svc.clusterIPs, 'AAAA', cfg.ttl),
    );
    return answer(RCODE.NOERROR, answers, [], additionals);
  }
  const eps = records.endpoints(svc.namespace, svc.name);
  const pairs: { ep: EndpointRecord; port: number }[] = [];
  for (const ep of eps) {
    for (const want of ports.length ? ports : ep.ports) {
      const p = ep.ports.find((x) => x.name === want.name && x.protocol === want.protocol && x.name !== '');
      if (p) pairs.push({ ep, port: p.port });
    }
  }
  if (!pairs.length) return nodata(cfg);
  const weight = Math.floor(100 / pairs.length);
  for (const { ep, port } of pairs) {
    const target = `${endpointHost(ep)}.${base}`;
    answers.push({ type: 'SRV', name: asked, ttl: cfg.ttl, class: 'IN', data: { priority: 0, weight, port, target } });
    additionals.push(...addressAnswers(target, [ep.ip], isIP(ep.ip) === 6 ? 'AAAA' : 'A', cfg.ttl));
  }
  return answer(RCODE.NOERROR, answers, [], additionals);
}
