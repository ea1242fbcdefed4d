// core/v1 services: defaults, validation, cluster IP / node port allocation hooks, table.
import { Errors, isObject, nameError, validateMeta, validatePort, immutable } from '../validation.js';
import { age, col, ageColumn } from '../tables.js';
import { kindSchema } from '../schema.js';
import type { Obj, ResourceDef } from '../types.js';

const types = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

function externalIp(svc: Obj): string {
  const spec = svc.spec ?? {};
  const lb: string[] = (svc.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip || i.hostname).filter(Boolean);
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ExternalName':
      return spec.externalName ?? '<none>';
    case 'LoadBalancer': {
      const all = [...lb, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    default:
      return ext.length ? ext.join(',') : '<none>';
  }
}

function portsText(svc: Obj): string {
  const ports: Obj[] = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
    .join(',');
}

export const services: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'services',
  singular: 'service',
  kind: 'Service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  storage: 'services',
  subresources: ['status'],
  hasStatus: true,
  schema: kindSchema({
    spec: {
      ports: [{ name: true, protocol: true, appProtocol: true, port: true, targetPort: true, nodePort: true }],
      selector: { $map: true },
      clusterIP: true,
      clusterIPs: [true],
      type: true,
      externalIPs: [true],
      sessionAffinity: true,
      loadBalancerIP: true,
      loadBalancerSourceRanges: [true],
      externalName: true,
      externalTrafficPolicy: true,
      healthCheckNodePort: true,
      publishNotReadyAddresses: true,
      sessionAffinityConfig: true,
      ipFamilies: [true],
      ipFamilyPolicy: true,
      allocateLoadBalancerNodePorts: true,
      loadBalancerClass: true,
      internalTrafficPolicy: true,
      trafficDistribution: true,
    },
    status: true,
  }),
  fields: (o) => ({ 'spec.clusterIP': o.spec?.clusterIP ?? '', 'spec.type': o.spec?.type ?? '' }),
  prepareCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  prepareUpdate(obj, old) {
    // Cluster IPs are immutable; a PUT that omits them keeps the allocated ones (like upstream's rest.go).
    if (
      isObject(obj.spec) &&
      isObject(old.spec) &&
      obj.spec.type !== 'ExternalName' &&
      old.spec.type !== 'ExternalName'
    ) {
      if (!obj.spec.clusterIP && old.spec.clusterIP) obj.spec.clusterIP = old.spec.clusterIP;
      if (!obj.spec.clusterIPs && old.spec.clusterIPs) obj.spec.clusterIPs = old.spec.clusterIPs;
      if (Array.isArray(obj.spec.ports) && Array.isArray(old.spec.ports) && obj.spec.type !== 'ClusterIP')
        for (const p of obj.spec.ports) {
          const prev = old.spec.ports.find(
            (q: Obj) => q.port === p?.port && (q.protocol ?? 'TCP') === (p?.protocol ?? 'TCP'),
          );
          if (p && !p.nodePort && prev?.nodePort) p.nodePort = prev.nodePort;
        }
    }
  },
  defaults(obj) {
    const spec = obj.spec;
    if (!isObject(spec)) return;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.type !== 'ExternalName') {
      spec.internalTrafficPolicy ??= 'Cluster';
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!isObject(p)) continue;
      p.protocol ??= 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
  },
  validate(obj, old) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'dns1035' });
    const spec = obj.spec;
    if (!isObject(spec)) {
      errs.required('spec');
      return errs.list;
    }
    if (!types.includes(spec.type)) errs.notSupported('spec.type', spec.type, types);
    if (spec.type === 'ExternalName') {
      if (!spec.externalName) errs.required('spec.externalName');
    } else {
      if (!Array.isArray(spec.ports) || spec.ports.length === 0) {
        if (spec.clusterIP !== 'None') errs.required('spec.ports');
      }
    }
    const names = new Set<string>();
    const seen = new Set<string>();
    (Array.isArray(spec.ports) ? spec.ports : []).forEach((p: Obj, i: number) => {
      const f = `spec.ports[${i}]`;
      if (!isObject(p)) return errs.typeInvalid(f, p, 'must be an object');
      if (spec.ports.length > 1 && !p.name) errs.required(`${f}.name`);
      if (p.name) {
        const e = nameError(String(p.name), 'label');
        if (e) errs.invalid(`${f}.name`, p.name, e);
        if (names.has(p.name)) errs.duplicate(`${f}.name`, p.name);
        names.add(p.name);
      }
      validatePort(p.port, `${f}.port`, errs);
      if (!['TCP', 'UDP', 'SCTP'].includes(p.protocol))
        errs.notSupported(`${f}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']);
      const key = `${p.port}/${p.protocol}`;
      if (seen.has(key)) errs.duplicate(f, { port: p.port, protocol: p.protocol });
      seen.add(key);
      if (typeof p.targetPort === 'number') validatePort(p.targetPort, `${f}.targetPort`, errs);
      else if (typeof p.targetPort === 'string' && nameError(p.targetPort, 'label'))
        errs.invalid(
          `${f}.targetPort`,
          p.targetPort,
          'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        );
      if (spec.type === 'ClusterIP' && p.nodePort)
        errs.forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'");
    });
    if (spec.selector !== undefined && spec.selector !== null && !isObject(spec.selector))
      errs.typeInvalid('spec.selector', spec.selector, 'must be a map');
    if (!['None', 'ClientIP'].includes(spec.sessionAffinity))
      errs.notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']);
    if (
      old &&
      spec.type !== 'ExternalName' &&
      old.spec?.type !== 'ExternalName' &&
      old.spec?.clusterIP &&
      spec.clusterIP
    )
      immutable(spec.clusterIP, old.spec.clusterIP, 'spec.clusterIPs[0]', errs);
    return errs.list;
  },
  admit: (obj, old, ctx) => (ctx.alloc ? ctx.alloc.reserve(obj, old) : []),
  release: (obj, keep, ctx) => ctx.alloc?.release(obj, keep),
  table: {
    columns: [
      col('Type', 'string', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col(
        'External-IP',
        'string',
        'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
      ),
      col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
      ageColumn,
      col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    cells(svc, now) {
      const sel = svc.spec?.selector;
      const selText =
        sel && Object.keys(sel).length
          ? Object.entries(sel)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')
          : '<none>';
      return [
        svc.spec?.type ?? '',
        svc.spec?.clusterIP || '<none>',
        externalIp(svc),
        portsText(svc),
        age(svc.metadata?.creationTimestamp, now),
        selText,
      ];
    },
  },
};
