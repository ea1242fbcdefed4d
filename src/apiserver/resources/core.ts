// core/v1 namespaces, nodes, configmaps, secrets, serviceaccounts, endpoints and events: strategies and tables.
import { Errors, isObject, validateMeta, validateResourceList, immutable } from '../validation.js';
import { age, col, ageColumn } from '../tables.js';
import { kindSchema } from '../schema.js';
import type { Obj, ResourceDef } from '../types.js';

const configKeyRe = /^[-._a-zA-Z0-9]+$/;

function validateDataKeys(data: unknown, field: string, errs: Errors): void {
  if (data === undefined || data === null) return;
  if (!isObject(data)) return errs.typeInvalid(field, data, 'must be a map');
  for (const k of Object.keys(data))
    if (k.length > 253 || !configKeyRe.test(k))
      errs.invalid(
        field,
        k,
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      );
}

export const namespaces: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  storage: 'namespaces',
  subresources: ['status', 'finalize'],
  hasStatus: true,
  schema: kindSchema({ spec: { finalizers: [true] }, status: true }),
  fields: (o) => ({ 'status.phase': o.status?.phase ?? '' }),
  prepareCreate(obj) {
    obj.status = { phase: 'Active' };
    obj.spec = { finalizers: ['kubernetes'] };
  },
  prepareUpdate(obj, old) {
    // spec.finalizers changes only through /finalize.
    obj.spec = old.spec;
  },
  defaults(obj) {
    const name = obj.metadata?.name;
    if (typeof name === 'string' && name) {
      obj.metadata.labels ??= {};
      if (isObject(obj.metadata.labels)) obj.metadata.labels['kubernetes.io/metadata.name'] = name;
    }
  },
  validate(obj) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: false, nameRule: 'label' });
    return errs.list;
  },
  table: {
    columns: [col('Status', 'string', 'The status of the namespace'), ageColumn],
    cells: (ns, now) => [ns.status?.phase ?? '', age(ns.metadata?.creationTimestamp, now)],
  },
};

function nodeStatus(node: Obj): string {
  const ready = (node.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
  let s = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown';
  if (node.spec?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

function nodeRoles(node: Obj): string {
  const roles: string[] = [];
  for (const [k, v] of Object.entries((node.metadata?.labels ?? {}) as Record<string, string>)) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.push(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.push(v);
  }
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddress(node: Obj, type: string): string {
  const a = (node.status?.addresses ?? []).find((x: Obj) => x.type === type);
  return a?.address ?? '<none>';
}

export const nodes: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'nodes',
  singular: 'node',
  kind: 'Node',
  namespaced: false,
  shortNames: ['no'],
  storage: 'minions',
  subresources: ['status'],
  hasStatus: true,
  schema: kindSchema({
    spec: {
      podCIDR: true,
      podCIDRs: [true],
      providerID: true,
      unschedulable: true,
      taints: true,
      configSource: true,
      externalID: true,
    },
    status: true,
  }),
  fields: (o) => ({ 'spec.unschedulable': String(o.spec?.unschedulable ?? false) }),
  validate(obj) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: false, nameRule: 'subdomain' });
    validateResourceList(obj.status?.capacity, 'status.capacity', errs);
    validateResourceList(obj.status?.allocatable, 'status.allocatable', errs);
    const taints = obj.spec?.taints;
    if (Array.isArray(taints))
      taints.forEach((t: Obj, i: number) => {
        if (!t?.key) errs.required(`spec.taints[${i}].key`);
        if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t?.effect))
          errs.notSupported(`spec.taints[${i}].effect`, t?.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']);
      });
    return errs.list;
  },
  validateStatus(obj) {
    const errs = new Errors();
    validateResourceList(obj.status?.capacity, 'status.capacity', errs);
    validateResourceList(obj.status?.allocatable, 'status.allocatable', errs);
    return errs.list;
  },
  table: {
    columns: [
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      ageColumn,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
      col(
        'OS-Image',
        'string',
        'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
        1,
      ),
      col(
        'Kernel-Version',
        'string',
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
      ),
      col(
        'Container-Runtime',
        'string',
        'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
        1,
      ),
    ],
    cells: (n, now) => {
      const info = n.status?.nodeInfo ?? {};
      return [
        nodeStatus(n),
        nodeRoles(n),
        age(n.metadata?.creationTimestamp, now),
        info.kubeletVersion ?? '',
        nodeAddress(n, 'InternalIP'),
        nodeAddress(n, 'ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
};

export const configmaps: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  singular: 'configmap',
  kind: 'ConfigMap',
  namespaced: true,
  shortNames: ['cm'],
  storage: 'configmaps',
  subresources: [],
  hasStatus: false,
  schema: kindSchema({ data: { $map: true }, binaryData: { $map: true }, immutable: true }),
  validate(obj, old) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    validateDataKeys(obj.data, 'data', errs);
    validateDataKeys(obj.binaryData, 'binaryData', errs);
    if (isObject(obj.data))
      for (const [k, v] of Object.entries(obj.data))
        if (typeof v !== 'string') errs.typeInvalid(`data.${k}`, v, 'must be a string');
    if (old?.immutable === true) {
      if (
        JSON.stringify(obj.data ?? {}) !== JSON.stringify(old.data ?? {}) ||
        JSON.stringify(obj.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})
      )
        errs.forbidden('data', 'field is immutable when `immutable` is set');
      if (obj.immutable !== true) errs.forbidden('immutable', 'field is immutable when `immutable` is set');
    }
    return errs.list;
  },
  table: {
    columns: [col('Data', 'integer', 'Data contains the configuration data.'), ageColumn],
    cells: (cm, now) => [
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      age(cm.metadata?.creationTimestamp, now),
    ],
  },
};

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const secrets: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'secrets',
  singular: 'secret',
  kind: 'Secret',
  namespaced: true,
  storage: 'secrets',
  subresources: [],
  hasStatus: false,
  schema: kindSchema({ data: { $map: true }, stringData: { $map: true }, type: true, immutable: true }),
  fields: (o) => ({ type: o.type ?? '' }),
  defaults(obj) {
    obj.type ??= 'Opaque';
    // stringData is write-only: merged into data (base64) like upstream's conversion.
    if (isObject(obj.stringData)) {
      obj.data = isObject(obj.data) ? obj.data : {};
      for (const [k, v] of Object.entries(obj.stringData))
        if (typeof v === 'string') obj.data[k] = Buffer.from(v, 'utf8').toString('base64');
      delete obj.stringData;
    }
  },
  validate(obj, old) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    validateDataKeys(obj.data, 'data', errs);
    if (isObject(obj.data))
      for (const [k, v] of Object.entries(obj.data))
        if (typeof v !== 'string' || !base64Re.test(v))
          errs.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data');
    if (old) immutable(obj.type, old.type, 'type', errs);
    if (old?.immutable === true && JSON.stringify(obj.data ?? {}) !== JSON.stringify(old.data ?? {}))
      errs.forbidden('data', 'field is immutable when `immutable` is set');
    return errs.list;
  },
  table: {
    columns: [
      col('Type', 'string', 'The type of the secret'),
      col('Data', 'integer', 'The number of entries in the secret'),
      ageColumn,
    ],
    cells: (s, now) => [s.type ?? '', Object.keys(s.data ?? {}).length, age(s.metadata?.creationTimestamp, now)],
  },
};

export const serviceaccounts: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'serviceaccounts',
  singular: 'serviceaccount',
  kind: 'ServiceAccount',
  namespaced: true,
  shortNames: ['sa'],
  storage: 'serviceaccounts',
  subresources: [],
  hasStatus: false,
  schema: kindSchema({ secrets: true, imagePullSecrets: true, automountServiceAccountToken: true }),
  validate(obj) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    return errs.list;
  },
  table: {
    columns: [
      col(
        'Secrets',
        'string',
        'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
      ),
      ageColumn,
    ],
    cells: (sa, now) => [(sa.secrets ?? []).length, age(sa.metadata?.creationTimestamp, now)],
  },
};

/** "10.0.0.1:80,10.0.0.2:80 + 3 more..." like the upstream endpoints printer (first three). */
export function endpointsText(addrs: string[]): string {
  if (!addrs.length) return '<none>';
  const shown = addrs.slice(0, 3).join(',');
  return addrs.length > 3 ? `${shown} + ${addrs.length - 3} more...` : shown;
}

export const endpoints: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'endpoints',
  singular: 'endpoints',
  kind: 'Endpoints',
  namespaced: true,
  shortNames: ['ep'],
  storage: 'services-endpoints',
  subresources: [],
  hasStatus: false,
  allowCreateOnUpdate: true,
  schema: kindSchema({ subsets: true }),
  validate(obj) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    if (obj.subsets !== undefined && obj.subsets !== null && !Array.isArray(obj.subsets))
      errs.typeInvalid('subsets', obj.subsets, 'must be a list');
    return errs.list;
  },
  table: {
    columns: [col('Endpoints', 'string', 'Endpoints of the service'), ageColumn],
    cells: (ep, now) => {
      const list: string[] = [];
      for (const s of ep.subsets ?? []) {
        const ports: Obj[] = s.ports?.length ? s.ports : [{}];
        for (const a of s.addresses ?? []) for (const p of ports) list.push(p.port ? `${a.ip}:${p.port}` : a.ip);
      }
      return [endpointsText(list), age(ep.metadata?.creationTimestamp, now)];
    },
  },
};

function eventTime(e: Obj): string | undefined {
  return (
    e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp
  );
}

export const events: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  storage: 'events',
  subresources: [],
  hasStatus: false,
  allowCreateOnUpdate: true,
  schema: kindSchema({
    involvedObject: true,
    reason: true,
    message: true,
    source: true,
    firstTimestamp: true,
    lastTimestamp: true,
    count: true,
    type: true,
    eventTime: true,
    series: true,
    action: true,
    related: true,
    reportingComponent: true,
    reportingInstance: true,
  }),
  fields: (e) => ({
    'involvedObject.kind': e.involvedObject?.kind ?? '',
    'involvedObject.namespace': e.involvedObject?.namespace ?? '',
    'involvedObject.name': e.involvedObject?.name ?? '',
    'involvedObject.uid': e.involvedObject?.uid ?? '',
    'involvedObject.apiVersion': e.involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': e.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': e.involvedObject?.fieldPath ?? '',
    reason: e.reason ?? '',
    reportingComponent: e.reportingComponent ?? '',
    source: e.source?.component || e.reportingComponent || '',
    type: e.type ?? '',
  }),
  validate(obj) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    if (!isObject(obj.involvedObject)) errs.required('involvedObject');
    if (obj.type !== undefined && obj.type !== '' && !['Normal', 'Warning'].includes(obj.type))
      errs.notSupported('type', obj.type, ['Normal', 'Warning']);
    return errs.list;
  },
  table: {
    omitName: true,
    columns: [
      col('Last Seen', 'string', 'The first time at which the event was most recently recorded.'),
      col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col(
        'Reason',
        'string',
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
      ),
      col('Object', 'string', 'The object that this event is about.'),
      col('Subobject', 'string', 'The subobject that this event is about.', 1),
      col(
        'Source',
        'string',
        'The component reporting this event. Should be a short machine understandable string.',
        1,
      ),
      col('Message', 'string', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'string', 'The first time at which the event was first recorded.', 1),
      col('Count', 'string', 'The number of times this event has occurred.', 1),
      col('Name', 'string', 'The name of the event.', 1),
    ],
    cells: (e, now) => {
      const io = e.involvedObject ?? {};
      const src = [e.source?.component || e.reportingComponent, e.source?.host].filter(Boolean).join(', ');
      return [
        age(eventTime(e), now),
        e.type ?? '',
        e.reason ?? '',
        `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
        io.fieldPath ?? '',
        src,
        String(e.message ?? '').trim(),
        age(e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp, now),
        e.series?.count ?? e.count ?? 1,
        e.metadata?.name ?? '',
      ];
    },
  },
};
