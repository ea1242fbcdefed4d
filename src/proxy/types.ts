// The shapes the proxy reads from Service and EndpointSlice objects (a subset of core/v1 and discovery/v1) and
// the desired state it derives per service port.

export interface ServicePortSpec {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceObject {
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: ServicePortSpec[];
    externalIPs?: string[];
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: string;
    internalTrafficPolicy?: string;
    loadBalancerSourceRanges?: string[];
    [k: string]: unknown;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface EndpointSliceObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
    nodeName?: string;
    zone?: string;
    [k: string]: unknown;
  }[];
  ports?: { name?: string | null; protocol?: string; port?: number | null }[] | null;
}

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One backend of a service port after merging slices. */
export interface EndpointState {
  ip: string;
  port: number;
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this proxy's node. */
  local: boolean;
}

/** Why a traffic class has no endpoints: `reject` (none anywhere) or `drop` (Local policy, none on this node). */
export type NoEndpointsAction = 'reject' | 'drop';

/** The desired data-plane state of one service port. */
export interface ServicePortState {
  /** "namespace/name:portName/protocol", unique per service port. */
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  port: number;
  clusterIPs: string[];
  nodePort?: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** ClientIP affinity timeout in seconds (Kubernetes default 10800), undefined = no affinity. */
  affinityTimeoutSeconds?: number;
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
  /** Endpoints for traffic to ClusterIPs (after internalTrafficPolicy and the terminating fallback). */
  clusterEndpoints: EndpointState[];
  /** Endpoints for NodePort / LB / external-IP traffic (after externalTrafficPolicy). */
  externalEndpoints: EndpointState[];
  /** What to do with traffic when the matching list is empty. */
  clusterNoEndpoints: NoEndpointsAction;
  externalNoEndpoints: NoEndpointsAction;
  /** Every endpoint known for the port (any condition), e.g. for conntrack clean-up. */
  allEndpoints: EndpointState[];
}
