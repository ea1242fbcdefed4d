// Addresses of the resources skiff serves, so callers write `resources.pods('default')` instead of raw strings.
import type { ResourceAddress } from './types.js';

function addr(group: string, version: string, resource: string) {
  return (namespace?: string): ResourceAddress =>
    namespace === undefined ? { group, version, resource } : { group, version, resource, namespace };
}

export const namespaces = addr('', 'v1', 'namespaces');
export const nodes = addr('', 'v1', 'nodes');
export const pods = addr('', 'v1', 'pods');
export const services = addr('', 'v1', 'services');
export const endpoints = addr('', 'v1', 'endpoints');
export const events = addr('', 'v1', 'events');
export const configmaps = addr('', 'v1', 'configmaps');
export const secrets = addr('', 'v1', 'secrets');
export const serviceaccounts = addr('', 'v1', 'serviceaccounts');
export const deployments = addr('apps', 'v1', 'deployments');
export const replicasets = addr('apps', 'v1', 'replicasets');
export const endpointslices = addr('discovery.k8s.io', 'v1', 'endpointslices');
export const leases = addr('coordination.k8s.io', 'v1', 'leases');
export const horizontalpodautoscalers = addr('autoscaling', 'v2', 'horizontalpodautoscalers');
export const eventsV1 = addr('events.k8s.io', 'v1', 'events');
