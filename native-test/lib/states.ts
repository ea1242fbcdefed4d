// Desired service-port states for tests that drive a data plane directly (no tracker): unit tests and native ones.
import type { EndpointState, ServicePortState } from '../../src/proxy/types.js';

/** A ready endpoint (port 8080 unless given) on another node unless `extra` says otherwise. */
export function endpointState(ip: string, port = 8080, extra: Partial<EndpointState> = {}): EndpointState {
  return { ip, port, ready: true, serving: true, terminating: false, local: false, nodeName: 'other', ...extra };
}

/**
 * A ClusterIP service port in namespace "ns" (port 80/tcp, port name "http" unless `extra` says otherwise); the
 * key follows the tracker's `<ns>/<name>:<portName>/<protocol>`.
 */
export function servicePortState(
  name: string,
  clusterIP: string,
  endpoints: EndpointState[],
  extra: Partial<ServicePortState> = {},
): ServicePortState {
  const state: ServicePortState = {
    key: '',
    namespace: 'ns',
    name,
    portName: 'http',
    protocol: 'tcp',
    port: 80,
    clusterIPs: [clusterIP],
    externalIPs: [],
    loadBalancerIPs: [],
    internalPolicyLocal: false,
    externalPolicyLocal: false,
    clusterEndpoints: endpoints,
    externalEndpoints: [],
    clusterNoEndpoints: 'reject',
    externalNoEndpoints: 'reject',
    allEndpoints: endpoints,
    ...extra,
  };
  return { ...state, key: extra.key ?? `${state.namespace}/${name}:${state.portName}/${state.protocol}` };
}
