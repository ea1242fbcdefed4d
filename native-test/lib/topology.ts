// The standard native-test cluster-in-namespaces: a "node" namespace with a bridge for pods, N "pod"
// namespaces each serving HTTP with its own name, and a "client" namespace routed through the node.
//
//   client (10.241.0.2) ── veth ── (10.241.0.1) node [bridge 10.240.0.1/24] ── veth ── pod-i (10.240.0.10+i)
import type { Netns, SpawnedProcess } from './netns.js';

export interface Topology {
  node: string;
  client: string;
  pods: { ns: string; ip: string; name: string; server: SpawnedProcess }[];
  /** The node's address as the client sees it (NodePort target). */
  nodeIP: string;
  /** The node's address on the pod bridge (pods' gateway). */
  nodePodIP: string;
  clientIP: string;
  podPort: number;
  bridge: string;
  /** The node-side and client-side names of the client's link. */
  clientLink: string;
  clientIf: string;
}

export const POD_SUBNET = '10.240.0.0/24';
export const SERVICE_CIDR = '10.96.0.0/16';

export async function buildTopology(h: Netns, opts: { pods: number; podPort?: number }): Promise<Topology> {
  const podPort = opts.podPort ?? 8080;
  const node = await h.add('node');
  const client = await h.add('client');
  await h.sysctl(node, 'net.ipv4.ip_forward', '1');
  const bridge = await h.bridge(node, { addr: '10.240.0.1/24' });
  const link = await h.veth(node, client, { addrA: '10.241.0.1/24', addrB: '10.241.0.2/24' });
  await h.ip(client, 'route', 'add', 'default', 'via', '10.241.0.1');
  const pods: Topology['pods'] = [];
  for (let i = 0; i < opts.pods; i++) {
    const ns = await h.add(`pod${i}`);
    const ip = `10.240.0.${10 + i}`;
    const v = await h.veth(node, ns, { addrB: `${ip}/24` });
    await h.attach(node, v.a, bridge);
    await h.ip(ns, 'route', 'add', 'default', 'via', '10.240.0.1');
    const name = `pod-${i}`;
    const server = await h.httpServer(ns, ip, podPort, name);
    pods.push({ ns, ip, name, server });
  }
  return {
    node,
    client,
    pods,
    nodeIP: '10.241.0.1',
    nodePodIP: '10.240.0.1',
    clientIP: '10.241.0.2',
    podPort,
    bridge,
    clientLink: link.a,
    clientIf: link.b,
  };
}
