// The slices of core/v1 Service and discovery.k8s.io/v1 EndpointSlice that cluster DNS reads.
// Structural, so objects from any informer (client-node, skiff's own client, plain JSON) fit.

export interface ObjectMetaLike {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface ServicePortLike {
  name?: string;
  protocol?: string;
  port: number;
}

export interface ServiceLike {
  metadata?: ObjectMetaLike;
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    ports?: ServicePortLike[];
    publishNotReadyAddresses?: boolean;
  };
}

export interface EndpointLike {
  addresses: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  hostname?: string;
  nodeName?: string;
}

export interface EndpointPortLike {
  name?: string;
  protocol?: string;
  port?: number;
}

export interface EndpointSliceLike {
  metadata?: ObjectMetaLike;
  addressType?: string;
  endpoints?: EndpointLike[];
  ports?: EndpointPortLike[] | null;
}

/** The event shapes an informer delivers; DNS only needs the kind of change and the object. */
export type ObjectEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T };

/** The label EndpointSlices carry to name their Service (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
