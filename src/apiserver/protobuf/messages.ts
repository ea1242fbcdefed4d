// Field tables of the k8s.io/api protobuf messages skiff decodes, with the Go JSON rules needed to rebuild the JSON.
//
// Field numbers from the `protobuf:"..."` struct tags / generated.proto of k8s.io/api and k8s.io/apimachinery
// v0.33. Each field says how Go's encoding/json would print it, so a decoded body equals what kubectl sends as JSON:
//   'opt'  - omitempty scalar/list/map: omitted when zero or empty (most fields)
//   'req'  - no omitempty: printed even when zero (e.g. containerPort, port, container name)
//   'ptr'  - pointer: printed whenever it was on the wire, zero or not (e.g. replicas)
// Embedded structs (messages) are printed whenever present on the wire, as Go prints non-pointer structs.

export type Scalar = 'string' | 'int32' | 'int64' | 'bool' | 'bytes' | 'double';
/** Special encodings: metav1.Time, intstr.IntOrString, resource.Quantity. */
export type Special = 'time' | 'intOrString' | 'quantity';
export type ValueType = Scalar | Special | { message: string };

export interface FieldDef {
  json: string;
  type: ValueType;
  repeated?: boolean;
  /** map<string, valueType> fields (encoded as repeated key=1/value=2 entries). */
  map?: boolean;
  presence?: 'opt' | 'req' | 'ptr';
}

export type MessageDef = Record<number, FieldDef>;

const s = (json: string, presence: FieldDef['presence'] = 'opt'): FieldDef => ({ json, type: 'string', presence });
const i32 = (json: string, presence: FieldDef['presence'] = 'opt'): FieldDef => ({ json, type: 'int32', presence });
const i64 = (json: string, presence: FieldDef['presence'] = 'opt'): FieldDef => ({ json, type: 'int64', presence });
const b = (json: string, presence: FieldDef['presence'] = 'opt'): FieldDef => ({ json, type: 'bool', presence });
const m = (json: string, message: string): FieldDef => ({ json, type: { message } });
const list = (json: string, message: string): FieldDef => ({ json, type: { message }, repeated: true });
const strings = (json: string): FieldDef => ({ json, type: 'string', repeated: true });
const stringMap = (json: string): FieldDef => ({ json, type: 'string', map: true });
const t = (json: string): FieldDef => ({ json, type: 'time' });

export const messages: Record<string, MessageDef> = {
  // k8s.io/apimachinery/pkg/runtime
  Unknown: {
    1: m('typeMeta', 'TypeMeta'),
    2: { json: 'raw', type: 'bytes' },
    3: s('contentEncoding'),
    4: s('contentType'),
  },
  TypeMeta: { 1: s('apiVersion'), 2: s('kind') },

  // k8s.io/apimachinery/pkg/apis/meta/v1
  ObjectMeta: {
    1: s('name'),
    2: s('generateName'),
    3: s('namespace'),
    4: s('selfLink'),
    5: s('uid'),
    6: s('resourceVersion'),
    7: i64('generation'),
    8: t('creationTimestamp'),
    9: t('deletionTimestamp'),
    10: i64('deletionGracePeriodSeconds', 'ptr'),
    11: stringMap('labels'),
    12: stringMap('annotations'),
    13: list('ownerReferences', 'OwnerReference'),
    14: strings('finalizers'),
  },
  OwnerReference: {
    1: s('kind', 'req'),
    3: s('name', 'req'),
    4: s('uid', 'req'),
    5: s('apiVersion', 'req'),
    6: b('controller', 'ptr'),
    7: b('blockOwnerDeletion', 'ptr'),
  },
  LabelSelector: { 1: stringMap('matchLabels'), 2: list('matchExpressions', 'LabelSelectorRequirement') },
  LabelSelectorRequirement: { 1: s('key', 'req'), 2: s('operator', 'req'), 3: strings('values') },

  // k8s.io/api/core/v1
  Namespace: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'NamespaceSpec'), 3: m('status', 'NamespaceStatus') },
  NamespaceSpec: { 1: strings('finalizers') },
  NamespaceStatus: { 1: s('phase') },
  ConfigMap: {
    1: m('metadata', 'ObjectMeta'),
    2: stringMap('data'),
    3: { json: 'binaryData', type: 'bytes', map: true },
    4: b('immutable', 'ptr'),
  },
  Secret: {
    1: m('metadata', 'ObjectMeta'),
    2: { json: 'data', type: 'bytes', map: true },
    3: s('type'),
    4: stringMap('stringData'),
    5: b('immutable', 'ptr'),
  },
  ServiceAccount: {
    1: m('metadata', 'ObjectMeta'),
    2: list('secrets', 'ObjectReference'),
    3: list('imagePullSecrets', 'LocalObjectReference'),
    4: b('automountServiceAccountToken', 'ptr'),
  },
  ObjectReference: {
    1: s('kind'),
    2: s('namespace'),
    3: s('name'),
    4: s('uid'),
    5: s('apiVersion'),
    6: s('resourceVersion'),
    7: s('fieldPath'),
  },
  Service: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'ServiceSpec'), 3: m('status', 'ServiceStatus') },
  ServiceSpec: {
    1: list('ports', 'ServicePort'),
    2: stringMap('selector'),
    3: s('clusterIP'),
    4: s('type'),
    5: strings('externalIPs'),
    7: s('sessionAffinity'),
    8: s('loadBalancerIP'),
    9: strings('loadBalancerSourceRanges'),
    10: s('externalName'),
    11: s('externalTrafficPolicy'),
    12: i32('healthCheckNodePort'),
    13: b('publishNotReadyAddresses'),
    17: { json: 'ipFamilyPolicy', type: 'string', presence: 'ptr' },
    18: strings('clusterIPs'),
    19: strings('ipFamilies'),
    20: b('allocateLoadBalancerNodePorts', 'ptr'),
    21: { json: 'loadBalancerClass', type: 'string', presence: 'ptr' },
    22: { json: 'internalTrafficPolicy', type: 'string', presence: 'ptr' },
    23: { json: 'trafficDistribution', type: 'string', presence: 'ptr' },
  },
  ServicePort: {
    1: s('name'),
    2: s('protocol'),
    3: i32('port', 'req'),
    4: { json: 'targetPort', type: 'intOrString' },
    5: i32('nodePort'),
    6: { json: 'appProtocol', type: 'string', presence: 'ptr' },
  },
  ServiceStatus: { 1: m('loadBalancer', 'LoadBalancerStatus') },
  LoadBalancerStatus: { 1: list('ingress', 'LoadBalancerIngress') },
  LoadBalancerIngress: { 1: s('ip'), 2: s('hostname') },
  PodTemplateSpec: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'PodSpec') },
  PodSpec: {
    1: list('volumes', 'Volume'),
    2: { json: 'containers', type: { message: 'Container' }, repeated: true, presence: 'req' },
    3: s('restartPolicy'),
    4: i64('terminationGracePeriodSeconds', 'ptr'),
    5: i64('activeDeadlineSeconds', 'ptr'),
    6: s('dnsPolicy'),
    7: stringMap('nodeSelector'),
    8: s('serviceAccountName'),
    9: s('serviceAccount'),
    10: s('nodeName'),
    11: b('hostNetwork'),
    12: b('hostPID'),
    13: b('hostIPC'),
    15: list('imagePullSecrets', 'LocalObjectReference'),
    16: s('hostname'),
    17: s('subdomain'),
    19: s('schedulerName'),
    20: list('initContainers', 'Container'),
    21: b('automountServiceAccountToken', 'ptr'),
    22: list('tolerations', 'Toleration'),
    24: s('priorityClassName'),
    25: i32('priority', 'ptr'),
    29: { json: 'runtimeClassName', type: 'string', presence: 'ptr' },
    30: b('enableServiceLinks', 'ptr'),
  },
  LocalObjectReference: { 1: s('name') },
  Toleration: { 1: s('key'), 2: s('operator'), 3: s('value'), 4: s('effect'), 5: i64('tolerationSeconds', 'ptr') },
  Container: {
    1: s('name', 'req'),
    2: s('image'),
    3: strings('command'),
    4: strings('args'),
    5: s('workingDir'),
    6: list('ports', 'ContainerPort'),
    7: list('env', 'EnvVar'),
    8: m('resources', 'ResourceRequirements'),
    9: list('volumeMounts', 'VolumeMount'),
    13: s('terminationMessagePath'),
    14: s('imagePullPolicy'),
    16: b('stdin'),
    17: b('stdinOnce'),
    18: b('tty'),
    20: s('terminationMessagePolicy'),
  },
  ContainerPort: { 1: s('name'), 2: i32('hostPort'), 3: i32('containerPort', 'req'), 4: s('protocol'), 5: s('hostIP') },
  EnvVar: { 1: s('name', 'req'), 2: s('value') },
  ResourceRequirements: {
    1: { json: 'limits', type: 'quantity', map: true },
    2: { json: 'requests', type: 'quantity', map: true },
  },
  VolumeMount: {
    1: s('name', 'req'),
    2: b('readOnly'),
    3: s('mountPath', 'req'),
    4: s('subPath'),
    5: { json: 'mountPropagation', type: 'string', presence: 'ptr' },
    6: s('subPathExpr'),
  },
  Volume: { 1: s('name', 'req') },

  // k8s.io/api/apps/v1
  Deployment: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'DeploymentSpec'), 3: m('status', 'DeploymentStatus') },
  DeploymentSpec: {
    1: i32('replicas', 'ptr'),
    2: m('selector', 'LabelSelector'),
    3: m('template', 'PodTemplateSpec'),
    4: m('strategy', 'DeploymentStrategy'),
    5: i32('minReadySeconds'),
    6: i32('revisionHistoryLimit', 'ptr'),
    7: b('paused'),
    9: i32('progressDeadlineSeconds', 'ptr'),
  },
  DeploymentStrategy: { 1: s('type'), 2: m('rollingUpdate', 'RollingUpdateDeployment') },
  RollingUpdateDeployment: {
    1: { json: 'maxUnavailable', type: 'intOrString', presence: 'ptr' },
    2: { json: 'maxSurge', type: 'intOrString', presence: 'ptr' },
  },
  DeploymentStatus: {
    1: i64('observedGeneration'),
    2: i32('replicas'),
    3: i32('updatedReplicas'),
    4: i32('availableReplicas'),
    5: i32('unavailableReplicas'),
    7: i32('readyReplicas'),
    8: i32('collisionCount', 'ptr'),
    9: i32('terminatingReplicas', 'ptr'),
  },

  // k8s.io/api/autoscaling/v1
  HorizontalPodAutoscalerV1: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'HorizontalPodAutoscalerSpecV1'),
    3: m('status', 'HorizontalPodAutoscalerStatusV1'),
  },
  HorizontalPodAutoscalerSpecV1: {
    1: m('scaleTargetRef', 'CrossVersionObjectReference'),
    2: i32('minReplicas', 'ptr'),
    3: i32('maxReplicas', 'req'),
    4: i32('targetCPUUtilizationPercentage', 'ptr'),
  },
  HorizontalPodAutoscalerStatusV1: {
    1: i64('observedGeneration', 'ptr'),
    2: t('lastScaleTime'),
    3: i32('currentReplicas', 'req'),
    4: i32('desiredReplicas', 'req'),
    5: i32('currentCPUUtilizationPercentage', 'ptr'),
  },
  CrossVersionObjectReference: { 1: s('kind', 'req'), 2: s('name', 'req'), 3: s('apiVersion') },

  // k8s.io/api/autoscaling/v2
  HorizontalPodAutoscalerV2: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'HorizontalPodAutoscalerSpecV2'),
    3: m('status', 'HorizontalPodAutoscalerStatusV2'),
  },
  HorizontalPodAutoscalerSpecV2: {
    1: m('scaleTargetRef', 'CrossVersionObjectReference'),
    2: i32('minReplicas', 'ptr'),
    3: i32('maxReplicas', 'req'),
    4: list('metrics', 'MetricSpec'),
    5: m('behavior', 'HorizontalPodAutoscalerBehavior'),
  },
  MetricSpec: {
    1: s('type', 'req'),
    4: m('resource', 'ResourceMetricSource'),
    7: m('containerResource', 'ContainerResourceMetricSource'),
  },
  ResourceMetricSource: { 1: s('name', 'req'), 2: m('target', 'MetricTarget') },
  ContainerResourceMetricSource: { 1: s('name', 'req'), 2: m('target', 'MetricTarget'), 3: s('container', 'req') },
  MetricTarget: {
    1: s('type', 'req'),
    2: { json: 'value', type: 'quantity', presence: 'ptr' },
    3: { json: 'averageValue', type: 'quantity', presence: 'ptr' },
    4: i32('averageUtilization', 'ptr'),
  },
  HorizontalPodAutoscalerBehavior: { 1: m('scaleUp', 'HPAScalingRules'), 2: m('scaleDown', 'HPAScalingRules') },
  HPAScalingRules: {
    1: { json: 'selectPolicy', type: 'string', presence: 'ptr' },
    2: list('policies', 'HPAScalingPolicy'),
    3: i32('stabilizationWindowSeconds', 'ptr'),
  },
  HPAScalingPolicy: { 1: s('type', 'req'), 2: i32('value', 'req'), 3: i32('periodSeconds', 'req') },
  // k8s.io/api/scheduling/v1 (kubectl create priorityclass)
  PriorityClass: {
    1: m('metadata', 'ObjectMeta'),
    2: i32('value', 'req'),
    3: b('globalDefault'),
    4: s('description'),
    5: s('preemptionPolicy', 'ptr'),
  },
  HorizontalPodAutoscalerStatusV2: {
    1: i64('observedGeneration', 'ptr'),
    2: t('lastScaleTime'),
    3: i32('currentReplicas'),
    4: i32('desiredReplicas', 'req'),
  },
};

/** Top-level message of each apiVersion/kind skiff accepts as protobuf. */
export const kinds: Record<string, string> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Service': 'Service',
  'v1/ServiceAccount': 'ServiceAccount',
  'apps/v1/Deployment': 'Deployment',
  'autoscaling/v1/HorizontalPodAutoscaler': 'HorizontalPodAutoscalerV1',
  'autoscaling/v2/HorizontalPodAutoscaler': 'HorizontalPodAutoscalerV2',
  'scheduling.k8s.io/v1/PriorityClass': 'PriorityClass',
};
