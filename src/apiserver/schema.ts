// Known-field schemas per kind (what the served OpenAPI would describe): drive fieldValidation=Strict/Warn and pruning.
// Subtrees marked `true` are accepted as-is; only the parts written out are checked for unknown fields.
import type { FieldSchema, Obj } from './types.js';

export const objectMeta: FieldSchema = {
  name: true,
  generateName: true,
  namespace: true,
  selfLink: true,
  uid: true,
  resourceVersion: true,
  generation: true,
  creationTimestamp: true,
  deletionTimestamp: true,
  deletionGracePeriodSeconds: true,
  labels: { $map: true },
  annotations: { $map: true },
  ownerReferences: [
    { apiVersion: true, kind: true, name: true, uid: true, controller: true, blockOwnerDeletion: true },
  ],
  finalizers: [true],
  managedFields: true,
};

const resources: FieldSchema = { limits: { $map: true }, requests: { $map: true }, claims: true };

export const container: FieldSchema = {
  name: true,
  image: true,
  command: [true],
  args: [true],
  workingDir: true,
  ports: [{ name: true, hostPort: true, containerPort: true, protocol: true, hostIP: true }],
  envFrom: true,
  env: [{ name: true, value: true, valueFrom: true }],
  resources,
  resizePolicy: true,
  restartPolicy: true,
  volumeMounts: [
    {
      name: true,
      readOnly: true,
      recursiveReadOnly: true,
      mountPath: true,
      subPath: true,
      mountPropagation: true,
      subPathExpr: true,
    },
  ],
  volumeDevices: true,
  livenessProbe: true,
  readinessProbe: true,
  startupProbe: true,
  lifecycle: true,
  terminationMessagePath: true,
  terminationMessagePolicy: true,
  imagePullPolicy: true,
  securityContext: true,
  stdin: true,
  stdinOnce: true,
  tty: true,
};

const podSpecLeaves = [
  'volumes',
  'ephemeralContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'dnsPolicy',
  'nodeSelector',
  'serviceAccountName',
  'serviceAccount',
  'automountServiceAccountToken',
  'nodeName',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'shareProcessNamespace',
  'securityContext',
  'imagePullSecrets',
  'hostname',
  'subdomain',
  'affinity',
  'schedulerName',
  'tolerations',
  'hostAliases',
  'priorityClassName',
  'priority',
  'dnsConfig',
  'readinessGates',
  'runtimeClassName',
  'enableServiceLinks',
  'preemptionPolicy',
  'overhead',
  'topologySpreadConstraints',
  'setHostnameAsFQDN',
  'os',
  'hostUsers',
  'schedulingGates',
  'resourceClaims',
  'resources',
];

export const podSpec: FieldSchema = {
  ...Object.fromEntries(podSpecLeaves.map((k) => [k, true as FieldSchema])),
  containers: [container],
  initContainers: [container],
};

export const podTemplate: FieldSchema = { metadata: objectMeta, spec: podSpec };

export const labelSelector: FieldSchema = {
  matchLabels: { $map: true },
  matchExpressions: [{ key: true, operator: true, values: [true] }],
};

/** Top-level object with the given extra fields. */
export function kindSchema(fields: Record<string, FieldSchema>): FieldSchema {
  return { apiVersion: true, kind: true, metadata: objectMeta, ...fields };
}

/** The schema of field `k`; own properties only, so "constructor" or "toString" are unknown fields like any other. */
function known(fields: Record<string, FieldSchema>, k: string): FieldSchema | undefined {
  return Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined;
}

/** Unknown field paths in `obj` (upstream format: "spec.foo", "spec.containers[0].imagee"). */
export function unknownFields(obj: unknown, schema: FieldSchema, path = '', out: string[] = []): string[] {
  if (schema === true || obj === null || typeof obj !== 'object') return out;
  if (Array.isArray(schema)) {
    if (Array.isArray(obj)) obj.forEach((item, i) => unknownFields(item, schema[0], `${path}[${i}]`, out));
    return out;
  }
  if (Array.isArray(obj)) return out;
  if ('$map' in schema) {
    const inner = (schema as { $map: FieldSchema }).$map;
    for (const [k, v] of Object.entries(obj as Obj)) unknownFields(v, inner, path ? `${path}.${k}` : k, out);
    return out;
  }
  const fields = schema as Record<string, FieldSchema>;
  for (const [k, v] of Object.entries(obj as Obj)) {
    const p = path ? `${path}.${k}` : k;
    const s = known(fields, k);
    if (s === undefined) out.push(p);
    else unknownFields(v, s, p, out);
  }
  return out;
}

/** Whether `obj` has any unknown field: the same walk as unknownFields without building paths (the common answer is no). */
export function hasUnknownFields(obj: unknown, schema: FieldSchema): boolean {
  if (schema === true || obj === null || typeof obj !== 'object') return false;
  if (Array.isArray(schema)) {
    if (Array.isArray(obj)) for (const item of obj) if (hasUnknownFields(item, schema[0])) return true;
    return false;
  }
  if (Array.isArray(obj)) return false;
  if ('$map' in schema) {
    const inner = (schema as { $map: FieldSchema }).$map;
    if (inner === true) return false;
    for (const k in obj as Obj) if (hasUnknownFields((obj as Obj)[k], inner)) return true;
    return false;
  }
  const fields = schema as Record<string, FieldSchema>;
  for (const k in obj as Obj) {
    const s = known(fields, k);
    if (s === undefined || hasUnknownFields((obj as Obj)[k], s)) return true;
  }
  return false;
}

/** Removes unknown fields in place (what decoding into typed structs does upstream). */
export function pruneUnknown(obj: unknown, schema: FieldSchema): void {
  if (schema === true || obj === null || typeof obj !== 'object') return;
  if (Array.isArray(schema)) {
    if (Array.isArray(obj)) for (const item of obj) pruneUnknown(item, schema[0]);
    return;
  }
  if (Array.isArray(obj)) return;
  if ('$map' in schema) {
    const inner = (schema as { $map: FieldSchema }).$map;
    for (const v of Object.values(obj as Obj)) pruneUnknown(v, inner);
    return;
  }
  const fields = schema as Record<string, FieldSchema>;
  for (const k of Object.keys(obj as Obj)) {
    const s = known(fields, k);
    if (s === undefined) delete (obj as Obj)[k];
    else pruneUnknown((obj as Obj)[k], s);
  }
}
