// Patch metadata of the built-in kinds skiff serves: which lists merge by which key, which are sets, which are atomic.
//
// Facts from the struct tags of k8s.io/api v0.33 (`patchStrategy`/`patchMergeKey` for strategic merge patch,
// `+listType`/`+listMapKey` for server-side apply). A list field not described here is atomic (replaced whole),
// which is what upstream does for tolerations, args, command, taints, envFrom, etc.

export interface FieldMeta {
  /** 'merge': a list merged element-wise (by mergeKey, or as a set of primitives when mergeKey is absent). */
  strategy?: 'merge';
  /** Strategic-merge key of list elements (patchMergeKey). */
  mergeKey?: string;
  /** Server-side-apply keys of list elements (listMapKey); defaults to [mergeKey]. */
  listKeys?: string[];
  /** Default values of listKeys when an element omits one (e.g. protocol TCP), so keys match like upstream. */
  keyDefaults?: Record<string, unknown>;
  /** Server-side apply treats the whole value as one field (structType/mapType atomic), e.g. label selectors. */
  atomic?: boolean;
  /** Schema of the value (for lists: of each element). */
  type?: () => TypeMeta;
}

export type TypeMeta = Record<string, FieldMeta>;

const mergeBy = (mergeKey: string, type?: () => TypeMeta, extra: Partial<FieldMeta> = {}): FieldMeta => ({
  strategy: 'merge',
  mergeKey,
  type,
  ...extra,
});
const set: FieldMeta = { strategy: 'merge' };
const nested = (type: () => TypeMeta): FieldMeta => ({ type });

export const objectMeta: TypeMeta = {
  ownerReferences: mergeBy('uid'),
  finalizers: set,
};

const conditions = mergeBy('type');

const containerPorts = mergeBy('containerPort', undefined, {
  listKeys: ['containerPort', 'protocol'],
  keyDefaults: { protocol: 'TCP' },
});

export const container: TypeMeta = {
  ports: containerPorts,
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

export const podSpec: TypeMeta = {
  nodeSelector: { atomic: true },
  volumes: mergeBy('name'),
  initContainers: mergeBy('name', () => container),
  containers: mergeBy('name', () => container),
  ephemeralContainers: mergeBy('name', () => container),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey', undefined, { listKeys: ['topologyKey', 'whenUnsatisfiable'] }),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeBy('name'),
};

export const podStatus: TypeMeta = {
  conditions,
  podIPs: mergeBy('ip'),
  hostIPs: mergeBy('ip'),
  resourceClaimStatuses: mergeBy('name'),
};

export const podTemplateSpec: TypeMeta = {
  metadata: nested(() => objectMeta),
  spec: nested(() => podSpec),
};

const atomic: FieldMeta = { atomic: true };
const workloadSpec: TypeMeta = { template: nested(() => podTemplateSpec), selector: atomic };
const workloadStatus: TypeMeta = { conditions };

const servicePorts = mergeBy('port', undefined, { listKeys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } });

const kinds: Record<string, TypeMeta> = {
  Pod: { spec: nested(() => podSpec), status: nested(() => podStatus) },
  PodTemplate: { template: nested(() => podTemplateSpec) },
  Deployment: { spec: nested(() => workloadSpec), status: nested(() => workloadStatus) },
  ReplicaSet: { spec: nested(() => workloadSpec), status: nested(() => workloadStatus) },
  StatefulSet: { spec: nested(() => workloadSpec), status: nested(() => workloadStatus) },
  DaemonSet: { spec: nested(() => workloadSpec), status: nested(() => workloadStatus) },
  Job: { spec: nested(() => workloadSpec), status: nested(() => workloadStatus) },
  Service: { spec: nested(() => ({ ports: servicePorts, selector: atomic })), status: nested(() => ({ conditions })) },
  Node: {
    spec: nested(() => ({ podCIDRs: set })),
    status: nested(() => ({ conditions, addresses: mergeBy('type') })),
  },
  Namespace: { status: nested(() => ({ conditions })) },
  ServiceAccount: { secrets: mergeBy('name') },
  HorizontalPodAutoscaler: { status: nested(() => ({ conditions })) },
};

/** Schema of a whole object of `kind` (metadata included); unknown kinds get metadata rules only. */
export function schemaForKind(kind: string): TypeMeta {
  return { metadata: nested(() => objectMeta), ...(kinds[kind] ?? {}) };
}

export function fieldMeta(schema: TypeMeta | undefined, field: string): FieldMeta | undefined {
  return schema && Object.prototype.hasOwnProperty.call(schema, field) ? schema[field] : undefined;
}
