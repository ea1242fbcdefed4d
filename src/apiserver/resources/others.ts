// discovery.k8s.io endpointslices, coordination.k8s.io leases, autoscaling v1/v2 HPAs, events.k8s.io events, metrics.
import { Errors, isObject, validateMeta, immutable, validateResourceList } from '../validation.js';
import { age, col, ageColumn } from '../tables.js';
import { kindSchema } from '../schema.js';
import { events as coreEvents, endpointsText } from './core.js';
import type { Obj, ResourceDef } from '../types.js';

export const endpointslices: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
  singular: 'endpointslice',
  kind: 'EndpointSlice',
  namespaced: true,
  storage: 'endpointslices',
  subresources: [],
  hasStatus: false,
  allowCreateOnUpdate: true,
  schema: kindSchema({ addressType: true, endpoints: true, ports: true }),
  validate(obj, old) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    const types = ['IPv4', 'IPv6', 'FQDN'];
    if (!obj.addressType) errs.required('addressType');
    else if (!types.includes(obj.addressType)) errs.notSupported('addressType', obj.addressType, types);
    if (old) immutable(obj.addressType, old.addressType, 'addressType', errs);
    if (obj.endpoints !== undefined && obj.endpoints !== null && !Array.isArray(obj.endpoints))
      errs.typeInvalid('endpoints', obj.endpoints, 'must be a list');
    (Array.isArray(obj.endpoints) ? obj.endpoints : []).forEach((e: Obj, i: number) => {
      if (!Array.isArray(e?.addresses) || e.addresses.length === 0)
        errs.required(`endpoints[${i}].addresses`, 'must contain at least 1 address');
    });
    return errs.list;
  },
  table: {
    columns: [
      col('AddressType', 'string', 'The IP protocol for this slice'),
      col('Ports', 'string', 'The ports of this slice'),
      col('Endpoints', 'string', 'The endpoints of this slice'),
      ageColumn,
    ],
    cells: (s, now) => {
      const ports: Obj[] = s.ports ?? [];
      const portText = ports.length
        ? ports.map((p) => (p.port === undefined || p.port === null ? '<unset>' : String(p.port))).join(',')
        : '<unset>';
      const addrs: string[] = [];
      for (const e of s.endpoints ?? []) for (const a of e.addresses ?? []) addrs.push(a);
      return [
        s.addressType ?? '',
        portText,
        endpointsText(addrs).replace('<none>', '<unset>'),
        age(s.metadata?.creationTimestamp, now),
      ];
    },
  },
};

export const leases: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
  singular: 'lease',
  kind: 'Lease',
  namespaced: true,
  storage: 'leases',
  subresources: [],
  hasStatus: false,
  allowCreateOnUpdate: true,
  schema: kindSchema({
    spec: {
      holderIdentity: true,
      leaseDurationSeconds: true,
      acquireTime: true,
      renewTime: true,
      leaseTransitions: true,
      strategy: true,
      preferredHolder: true,
    },
  }),
  validate(obj) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    const d = obj.spec?.leaseDurationSeconds;
    if (d !== undefined && d !== null && (!Number.isInteger(d) || d <= 0))
      errs.invalid('spec.leaseDurationSeconds', d, 'must be greater than 0');
    const t = obj.spec?.leaseTransitions;
    if (t !== undefined && t !== null && (!Number.isInteger(t) || t < 0))
      errs.invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0');
    return errs.list;
  },
  table: {
    columns: [col('Holder', 'string', 'The holder of the lease'), ageColumn],
    cells: (l, now) => [l.spec?.holderIdentity ?? '<none>', age(l.metadata?.creationTimestamp, now)],
  },
};

// --- HorizontalPodAutoscaler: stored as autoscaling/v2, served as v1 by conversion -----------------------------

function cpuTarget(hpa: Obj): number | undefined {
  const m = (hpa.spec?.metrics ?? []).find(
    (x: Obj) => x.type === 'Resource' && x.resource?.name === 'cpu' && x.resource?.target?.type === 'Utilization',
  );
  return m?.resource?.target?.averageUtilization;
}

function hpaTargets(hpa: Obj): string {
  const metrics: Obj[] = hpa.spec?.metrics ?? [];
  if (!metrics.length) return '<none>';
  const current: Obj[] = hpa.status?.currentMetrics ?? [];
  return metrics
    .map((m, i) => {
      if (m.type === 'Resource') {
        const cur = current[i]?.resource?.current;
        const t = m.resource?.target ?? {};
        if (t.type === 'Utilization')
          return `${m.resource.name}: ${cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>'}/${t.averageUtilization}%`;
        return `${m.resource?.name}: ${cur?.averageValue ?? '<unknown>'}/${t.averageValue ?? t.value}`;
      }
      return `${m.type}: <unknown>`;
    })
    .join(', ');
}

const hpaTable = {
  columns: [
    col('Reference', 'string', 'reference to the target resource'),
    col('Targets', 'string', 'the current and target metrics'),
    col('MinPods', 'string', 'minimum number of replicas'),
    col('MaxPods', 'string', 'maximum number of replicas'),
    col('Replicas', 'string', 'current number of replicas'),
    ageColumn,
  ],
  cells: (h: Obj, now: number) => [
    `${h.spec?.scaleTargetRef?.kind ?? ''}/${h.spec?.scaleTargetRef?.name ?? ''}`,
    hpaTargets(h),
    h.spec?.minReplicas ?? '<unset>',
    h.spec?.maxReplicas ?? 0,
    h.status?.currentReplicas ?? 0,
    age(h.metadata?.creationTimestamp, now),
  ],
};

function validateHpa(obj: Obj): Errors {
  const errs = new Errors();
  validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
  const spec = obj.spec;
  if (!isObject(spec)) {
    errs.required('spec');
    return errs;
  }
  if (!isObject(spec.scaleTargetRef)) errs.required('spec.scaleTargetRef');
  else {
    if (!spec.scaleTargetRef.kind) errs.required('spec.scaleTargetRef.kind');
    if (!spec.scaleTargetRef.name) errs.required('spec.scaleTargetRef.name');
  }
  const min = spec.minReplicas;
  if (min !== undefined && min !== null && (!Number.isInteger(min) || min < 1))
    errs.invalid('spec.minReplicas', min, 'must be greater than or equal to 1');
  if (!Number.isInteger(spec.maxReplicas) || spec.maxReplicas < 1)
    errs.invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than 0');
  else if (Number.isInteger(min) && spec.maxReplicas < min)
    errs.invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`');
  return errs;
}

export const hpaV2: ResourceDef = {
  group: 'autoscaling',
  version: 'v2',
  resource: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  kind: 'HorizontalPodAutoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  storage: 'horizontalpodautoscalers.autoscaling',
  subresources: ['status'],
  hasStatus: true,
  schema: kindSchema({
    spec: { scaleTargetRef: true, minReplicas: true, maxReplicas: true, metrics: true, behavior: true },
    status: true,
  }),
  prepareCreate(obj) {
    obj.status = { currentReplicas: 0, desiredReplicas: 0 };
  },
  defaults(obj) {
    const spec = obj.spec;
    if (!isObject(spec)) return;
    spec.minReplicas ??= 1;
    if (!Array.isArray(spec.metrics) || spec.metrics.length === 0)
      spec.metrics = [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
      ];
    // autoscaling/v2 SetDefaults_HorizontalPodAutoscalerBehavior.
    spec.behavior ??= {};
    if (isObject(spec.behavior)) {
      spec.behavior.scaleUp ??= {};
      spec.behavior.scaleUp.stabilizationWindowSeconds ??= 0;
      spec.behavior.scaleUp.selectPolicy ??= 'Max';
      spec.behavior.scaleUp.policies ??= [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ];
      spec.behavior.scaleDown ??= {};
      spec.behavior.scaleDown.stabilizationWindowSeconds ??= 300;
      spec.behavior.scaleDown.selectPolicy ??= 'Max';
      spec.behavior.scaleDown.policies ??= [{ type: 'Percent', value: 100, periodSeconds: 15 }];
    }
  },
  validate: (obj) => validateHpa(obj).list,
  table: hpaTable,
};

/** autoscaling/v1 view: only the CPU utilization target survives (as upstream, minus the annotation round-trip). */
export const hpaV1: ResourceDef = {
  ...hpaV2,
  version: 'v1',
  schema: kindSchema({
    spec: { scaleTargetRef: true, minReplicas: true, maxReplicas: true, targetCPUUtilizationPercentage: true },
    status: true,
  }),
  toStorage(o) {
    const out: Obj = { ...o, apiVersion: 'autoscaling/v2' };
    if (isObject(o.spec)) {
      const { targetCPUUtilizationPercentage: cpu, ...rest } = o.spec;
      out.spec = { ...rest };
      if (cpu !== undefined && cpu !== null)
        out.spec.metrics = [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } },
        ];
    }
    if (isObject(o.status)) {
      const { currentCPUUtilizationPercentage: cur, ...rest } = o.status;
      out.status = { ...rest };
      if (cur !== undefined && cur !== null)
        out.status.currentMetrics = [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cur } } },
        ];
    }
    return out;
  },
  fromStorage(o) {
    const out: Obj = { ...o, apiVersion: 'autoscaling/v1' };
    if (isObject(o.spec)) {
      const { metrics: _m, behavior: _b, ...rest } = o.spec;
      out.spec = { ...rest };
      const cpu = cpuTarget(o);
      if (cpu !== undefined) out.spec.targetCPUUtilizationPercentage = cpu;
    }
    if (isObject(o.status)) {
      const { currentMetrics, conditions: _c, ...rest } = o.status;
      out.status = { ...rest };
      const cur = (currentMetrics ?? []).find((m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource
        ?.current?.averageUtilization;
      if (cur !== undefined) out.status.currentCPUUtilizationPercentage = cur;
    }
    return out;
  },
  defaults(obj) {
    if (isObject(obj.spec)) obj.spec.minReplicas ??= 1;
  },
};

// --- events.k8s.io/v1: the same stored events with the newer field names -------------------------------------

const renames: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['source', 'deprecatedSource'],
  ['reportingComponent', 'reportingController'],
];

export const eventsV1: ResourceDef = {
  ...coreEvents,
  group: 'events.k8s.io',
  version: 'v1',
  shortNames: ['ev'],
  schema: kindSchema({
    eventTime: true,
    series: true,
    reportingController: true,
    reportingInstance: true,
    action: true,
    reason: true,
    regarding: true,
    related: true,
    note: true,
    type: true,
    deprecatedSource: true,
    deprecatedFirstTimestamp: true,
    deprecatedLastTimestamp: true,
    deprecatedCount: true,
  }),
  fields: (e) => ({
    'regarding.kind': e.involvedObject?.kind ?? '',
    'regarding.namespace': e.involvedObject?.namespace ?? '',
    'regarding.name': e.involvedObject?.name ?? '',
    'regarding.uid': e.involvedObject?.uid ?? '',
    reason: e.reason ?? '',
    reportingController: e.reportingComponent ?? '',
    type: e.type ?? '',
  }),
  toStorage(o) {
    const out: Obj = { ...o, apiVersion: 'v1' };
    for (const [core, v1] of renames)
      if (v1 in out) {
        out[core] = out[v1];
        delete out[v1];
      }
    return out;
  },
  fromStorage(o) {
    const out: Obj = { ...o, apiVersion: 'events.k8s.io/v1' };
    for (const [core, v1] of renames)
      if (core in out) {
        out[v1] = out[core];
        delete out[core];
      }
    return out;
  },
  validate(obj) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    if (!obj.eventTime) errs.required('eventTime');
    if (!['Normal', 'Warning'].includes(obj.type)) errs.notSupported('type', obj.type, ['Normal', 'Warning']);
    if (!obj.reportingComponent) errs.required('reportingController');
    if (!obj.reportingInstance) errs.required('reportingInstance');
    if (!obj.action) errs.required('action');
    if (!obj.reason) errs.required('reason');
    return errs.list;
  },
};

// --- metrics.k8s.io/v1beta1: read-only, answered from what node agents report --------------------------------

export const podMetrics: ResourceDef = {
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  resource: 'pods',
  singular: '',
  kind: 'PodMetrics',
  namespaced: true,
  storage: 'metrics-pods',
  subresources: [],
  readOnly: true,
  hasStatus: false,
  validate(obj) {
    const errs = new Errors();
    for (const [i, c] of (obj.containers ?? []).entries())
      validateResourceList(c?.usage, `containers[${i}].usage`, errs);
    return errs.list;
  },
};

export const nodeMetrics: ResourceDef = {
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  resource: 'nodes',
  singular: '',
  kind: 'NodeMetrics',
  namespaced: false,
  storage: 'metrics-nodes',
  subresources: [],
  readOnly: true,
  hasStatus: false,
};
