// core/v1 pods: defaults (SetDefaults_Pod and the admission defaults), validation, status reset, table, fields.
import { parseQuantity } from '../../api/quantity.js';
import {
  Errors,
  isObject,
  nameError,
  validateMeta,
  validateResourceList,
  validatePort,
  validateEnvName,
  validateNonNegativeInt,
} from '../validation.js';
import { age, col, ageColumn } from '../tables.js';
import { kindSchema, podSpec } from '../schema.js';
import type { Obj, ResourceDef } from '../types.js';
import { admitPodPriority, keepPodPriority } from './priorityclasses.js';

const notReadyKey = 'node.kubernetes.io/not-ready';
const unreachableKey = 'node.kubernetes.io/unreachable';
/** kube-apiserver --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds. */
const defaultTolerationSeconds = 300;

/** imagePullPolicy default: Always for `:latest` or untagged images, IfNotPresent otherwise (SetDefaults_Container). */
export function defaultPullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagPart = image.slice(lastSlash + 1);
  const colon = tagPart.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return tagPart.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: Obj | undefined): void {
  if (!isObject(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (isObject(p.httpGet)) p.httpGet.scheme ??= 'HTTP';
}

function defaultContainer(c: Obj): void {
  if (!isObject(c)) return;
  c.imagePullPolicy ??= defaultPullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // SetDefaults_Pod: limits without requests imply requests equal to the limits.
  if (isObject(c.resources) && isObject(c.resources.limits)) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits))
      if (c.resources.requests[k] === undefined) c.resources.requests[k] = v;
  }
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) p.protocol ??= 'TCP';
  if (Array.isArray(c.env))
    for (const e of c.env) if (isObject(e?.valueFrom?.fieldRef)) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) defaultContainer(c);
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers : []) defaultContainer(c);
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!isObject(v)) continue;
    if (isObject(v.configMap)) v.configMap.defaultMode ??= 420;
    if (isObject(v.secret)) v.secret.defaultMode ??= 420;
    if (isObject(v.projected)) v.projected.defaultMode ??= 420;
    if (isObject(v.hostPath)) v.hostPath.type ??= '';
    if (Object.keys(v).length === 1 && v.name !== undefined) v.emptyDir = {};
  }
}

/**
 * What admission adds to every created pod, after the field manager has recorded the sender's fields (so these are
 * nobody's): the ServiceAccount plugin's service account and DefaultTolerationSeconds' 300 s taint tolerations.
 */
function admissionDefaults(spec: Obj): void {
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  const tolerations: Obj[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  const tolerates = (key: string) =>
    tolerations.some(
      (t) =>
        isObject(t) &&
        (t.key === key || (t.key === undefined && t.operator === 'Exists')) &&
        (!t.effect || t.effect === 'NoExecute'),
    );
  for (const key of [notReadyKey, unreachableKey])
    if (!tolerates(key))
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultTolerationSeconds });
  spec.tolerations = tolerations;
}

/** QoS class from requests/limits (pkg/apis/core/helper/qos). */
export function qosClass(spec: Obj): string {
  const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);
  const containers: Obj[] = [...list(spec.containers), ...list(spec.initContainers)];
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) anySet = true;
      if (lim[r] === undefined) guaranteed = false;
      else if (req[r] !== undefined && safeCmp(req[r], lim[r]) !== 0) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function safeCmp(a: unknown, b: unknown): number {
  try {
    const qa = parseQuantity(a as string);
    const qb = parseQuantity(b as string);
    const scale = Math.max(qa.scale, qb.scale);
    const na = qa.numerator * 10n ** BigInt(scale - qa.scale);
    const nb = qb.numerator * 10n ** BigInt(scale - qb.scale);
    return na < nb ? -1 : na > nb ? 1 : 0;
  } catch {
    return 0;
  }
}

function validateContainers(list: unknown, field: string, errs: Errors, volumes: Set<string>, required: boolean): void {
  if (list === undefined || list === null) {
    if (required) errs.required(field);
    return;
  }
  if (!Array.isArray(list)) return errs.typeInvalid(field, list, 'must be a list');
  if (required && list.length === 0) errs.required(field);
  const names = new Set<string>();
  list.forEach((c: Obj, i: number) => {
    const p = `${field}[${i}]`;
    if (!isObject(c)) return errs.typeInvalid(p, c, 'must be an object');
    if (!c.name) errs.required(`${p}.name`);
    else if (typeof c.name !== 'string' || nameError(c.name, 'label'))
      errs.invalid(`${p}.name`, c.name, nameError(String(c.name), 'label')!);
    else if (names.has(c.name)) errs.duplicate(`${p}.name`, c.name);
    else names.add(c.name);
    if (!c.image || typeof c.image !== 'string' || c.image.trim() === '') errs.required(`${p}.image`);
    if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy))
      errs.notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']);
    if (Array.isArray(c.ports))
      c.ports.forEach((port: Obj, j: number) => {
        const pp = `${p}.ports[${j}]`;
        if (!isObject(port)) return errs.typeInvalid(pp, port, 'must be an object');
        validatePort(port.containerPort, `${pp}.containerPort`, errs);
        if (port.hostPort !== undefined) validatePort(port.hostPort, `${pp}.hostPort`, errs, true);
        if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol))
          errs.notSupported(`${pp}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']);
      });
    if (Array.isArray(c.env))
      c.env.forEach((e: Obj, j: number) => validateEnvName(e?.name, `${p}.env[${j}].name`, errs));
    if (c.resources !== undefined && c.resources !== null) {
      if (!isObject(c.resources)) errs.typeInvalid(`${p}.resources`, c.resources, 'must be an object');
      else {
        const before = errs.list.length;
        validateResourceList(c.resources.limits, `${p}.resources.limits`, errs);
        validateResourceList(c.resources.requests, `${p}.resources.requests`, errs);
        if (errs.list.length === before && isObject(c.resources.limits) && isObject(c.resources.requests))
          for (const [k, v] of Object.entries(c.resources.requests)) {
            const lim = c.resources.limits[k];
            if (lim !== undefined && safeCmp(v, lim) > 0)
              errs.invalid(`${p}.resources.requests`, v, `must be less than or equal to ${k} limit of ${lim}`);
          }
      }
    }
    if (Array.isArray(c.volumeMounts))
      c.volumeMounts.forEach((m: Obj, j: number) => {
        const mp = `${p}.volumeMounts[${j}]`;
        if (!m?.name) errs.required(`${mp}.name`);
        else if (!volumes.has(m.name))
          errs.list.push({ type: 'FieldValueInvalid', field: `${mp}.name`, message: `Not found: "${m.name}"` });
        if (!m?.mountPath) errs.required(`${mp}.mountPath`);
      });
  });
}

export function validatePodSpec(spec: unknown, field: string, errs: Errors, opts: { template?: boolean } = {}): void {
  if (!isObject(spec)) return errs.required(field);
  const volumes = new Set<string>();
  if (Array.isArray(spec.volumes))
    spec.volumes.forEach((v: Obj, i: number) => {
      const p = `${field}.volumes[${i}]`;
      if (!v?.name) return errs.required(`${p}.name`);
      const e = nameError(String(v.name), 'label');
      if (e) errs.invalid(`${p}.name`, v.name, e);
      if (volumes.has(v.name)) errs.duplicate(`${p}.name`, v.name);
      volumes.add(v.name);
    });
  validateContainers(spec.containers, `${field}.containers`, errs, volumes, true);
  validateContainers(spec.initContainers, `${field}.initContainers`, errs, volumes, false);
  const restart = ['Always', 'OnFailure', 'Never'];
  if (spec.restartPolicy !== undefined && !restart.includes(spec.restartPolicy))
    errs.notSupported(`${field}.restartPolicy`, spec.restartPolicy, restart);
  const dns = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (spec.dnsPolicy !== undefined && !dns.includes(spec.dnsPolicy))
    errs.notSupported(`${field}.dnsPolicy`, spec.dnsPolicy, dns);
  validateNonNegativeInt(spec.terminationGracePeriodSeconds, `${field}.terminationGracePeriodSeconds`, errs);
  if (
    spec.activeDeadlineSeconds !== undefined &&
    !(Number.isInteger(spec.activeDeadlineSeconds) && spec.activeDeadlineSeconds > 0)
  )
    errs.invalid(
      `${field}.activeDeadlineSeconds`,
      spec.activeDeadlineSeconds,
      'must be between 1 and 2147483647, inclusive',
    );
  if (spec.nodeSelector !== undefined && spec.nodeSelector !== null && !isObject(spec.nodeSelector))
    errs.typeInvalid(`${field}.nodeSelector`, spec.nodeSelector, 'must be a map');
  if (spec.tolerations !== undefined && spec.tolerations !== null) {
    if (!Array.isArray(spec.tolerations)) errs.typeInvalid(`${field}.tolerations`, spec.tolerations, 'must be a list');
    else
      spec.tolerations.forEach((t: Obj, i: number) => {
        const p = `${field}.tolerations[${i}]`;
        if (t?.operator !== undefined && !['Exists', 'Equal'].includes(t.operator))
          errs.notSupported(`${p}.operator`, t.operator, ['Equal', 'Exists']);
        if (t?.operator === 'Exists' && t.value)
          errs.invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'");
        if (t?.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect))
          errs.notSupported(`${p}.effect`, t.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']);
      });
  }
  void opts;
}

/** Fields a pod update may change (ValidatePodUpdate): images, activeDeadlineSeconds, added tolerations, grace period. */
function mutableMasked(spec: Obj): string {
  const s = structuredClone(spec);
  for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) if (isObject(c)) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  return JSON.stringify(s);
}

function podStatusText(pod: Obj): string {
  const status = pod.status ?? {};
  let reason: string = status.reason || status.phase || 'Pending';
  const init: Obj[] = status.initContainerStatuses ?? [];
  let initializing = false;
  init.forEach((c, i) => {
    if (initializing) return;
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) return;
    if (c.started && pod.spec?.initContainers?.[i]?.restartPolicy === 'Always') return;
    initializing = true;
    if (t)
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated)
        reason = c.state.terminated.signal
          ? `Signal:${c.state.terminated.signal}`
          : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (status.phase === 'Pending' && (pod.spec?.schedulingGates ?? []).length > 0) reason = 'SchedulingGated';
  if (pod.metadata?.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRestarts(pod: Obj, now: number): string | number {
  let restarts = 0;
  let last = 0;
  for (const c of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    restarts += c.restartCount ?? 0;
    const t = c.lastState?.terminated?.finishedAt;
    if (t) last = Math.max(last, Date.parse(t) || 0);
  }
  return last > 0 ? `${restarts} (${age(new Date(last).toISOString(), now)} ago)` : restarts;
}

export const pods: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'pods',
  singular: 'pod',
  kind: 'Pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  storage: 'pods',
  subresources: ['status', 'binding', 'log', 'eviction'],
  hasStatus: true,
  schema: kindSchema({ spec: podSpec, status: true }),
  fields: (o) => ({
    'spec.nodeName': o.spec?.nodeName ?? '',
    'spec.restartPolicy': o.spec?.restartPolicy ?? '',
    'spec.schedulerName': o.spec?.schedulerName ?? '',
    'spec.serviceAccountName': o.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': String(o.spec?.hostNetwork ?? false),
    'status.phase': o.status?.phase ?? '',
    'status.podIP': o.status?.podIP ?? '',
    'status.nominatedNodeName': o.status?.nominatedNodeName ?? '',
  }),
  prepareCreate(obj) {
    obj.status = { phase: 'Pending' };
    if (isObject(obj.spec)) obj.status.qosClass = qosClass(obj.spec);
  },
  defaults(obj) {
    if (!isObject(obj.spec)) return;
    defaultPodSpec(obj.spec);
    // SetDefaults_Pod (pods only, not templates).
    obj.spec.enableServiceLinks ??= true;
    // v1 conversion keeps the deprecated serviceAccount and serviceAccountName in step.
    if (obj.spec.serviceAccountName == null && obj.spec.serviceAccount != null)
      obj.spec.serviceAccountName = obj.spec.serviceAccount;
    else if (obj.spec.serviceAccount == null && obj.spec.serviceAccountName != null)
      obj.spec.serviceAccount = obj.spec.serviceAccountName;
  },
  async admitCreate(obj, ctx) {
    if (isObject(obj.spec)) admissionDefaults(obj.spec);
    await admitPodPriority(obj, ctx);
  },
  prepareUpdate: keepPodPriority,
  validate(obj, old) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    validatePodSpec(obj.spec, 'spec', errs);
    if (old && isObject(obj.spec) && isObject(old.spec) && mutableMasked(obj.spec) !== mutableMasked(old.spec))
      errs.forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      );
    return errs.list;
  },
  validateStatus(obj) {
    const errs = new Errors();
    const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];
    if (obj.status?.phase !== undefined && !phases.includes(obj.status.phase))
      errs.notSupported('status.phase', obj.status.phase, phases);
    return errs.list;
  },
  gracePeriod(obj, requested) {
    // Unscheduled or finished pods have nothing to stop: delete at once (pod strategy CheckGracefulDelete).
    if (!obj.spec?.nodeName) return 0;
    if (obj.status?.phase === 'Failed' || obj.status?.phase === 'Succeeded') return 0;
    return requested ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
  },
  table: {
    columns: [
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'string',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      ageColumn,
      col('IP', 'string', 'IP address allocated to the pod.', 1),
      col('Node', 'string', 'Name of the Node this pod is assigned to.', 1),
      col('Nominated Node', 'string', 'Name of the Node that is nominated to run this pod.', 1),
      col('Readiness Gates', 'string', 'The readiness gates of this pod.', 1),
    ],
    cells(pod, now) {
      const statuses: Obj[] = pod.status?.containerStatuses ?? [];
      const total = (pod.spec?.containers ?? []).length;
      const ready = statuses.filter((c) => c.ready && c.state?.running).length;
      const gates: Obj[] = pod.spec?.readinessGates ?? [];
      const conds: Obj[] = pod.status?.conditions ?? [];
      const gatesText = gates.length
        ? `${gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
        : '<none>';
      return [
        `${ready}/${total}`,
        podStatusText(pod),
        podRestarts(pod, now),
        age(pod.metadata?.creationTimestamp, now),
        pod.status?.podIP || '<none>',
        pod.spec?.nodeName || '<none>',
        pod.status?.nominatedNodeName || '<none>',
        gatesText,
      ];
    },
  },
};
