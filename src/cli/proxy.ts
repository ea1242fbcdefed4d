// `skiff proxy --kubeconfig F [--backend nftables|nft|iptables] [--node-name N] [--node-ip IP]… [--cluster-cidr C]…`
// Watches Services and EndpointSlices and programs this node's service VIPs; `--cleanup` removes skiff's rules.
import { hostname, networkInterfaces } from 'node:os';
import { createClient, createInformer, resources } from '../client/index.js';
import { createProxy, type BackendKind } from '../proxy/proxy.js';
import { runCommand } from '../proxy/nftables/backend.js';
import type { EndpointSliceObject, ServiceObject } from '../proxy/types.js';

const USAGE = `usage: skiff proxy --kubeconfig FILE [--backend nftables|nft|iptables] [--node-name NAME]
                   [--node-ip IP]... [--cluster-cidr CIDR]... [--min-sync-ms N]
       skiff proxy --cleanup [--backend nftables|iptables]

  --backend nftables   (default) elements over netlink, static rules through nft -f
  --backend nft        everything through nft -f
  --backend iptables   iptables-restore, for hosts without nftables
`;

interface Flags {
  kubeconfig?: string;
  backend: BackendKind;
  nodeName: string;
  nodeIPs: string[];
  clusterCIDRs: string[];
  minSyncMs: number;
  cleanup: boolean;
}

function parse(argv: string[]): Flags {
  const flags: Flags = {
    backend: 'netlink',
    nodeName: hostname(),
    nodeIPs: [],
    clusterCIDRs: [],
    minSyncMs: 0,
    cleanup: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value\n\n${USAGE}`);
      return v;
    };
    switch (name) {
      case '--kubeconfig':
        flags.kubeconfig = value();
        break;
      case '--backend': {
        const b = value();
        if (b === 'nftables' || b === 'netlink') flags.backend = 'netlink';
        else if (b === 'nft' || b === 'iptables') flags.backend = b;
        else throw new Error(`unknown backend "${b}" (nftables | nft | iptables)`);
        break;
      }
      case '--node-name':
        flags.nodeName = value();
        break;
      case '--node-ip':
        flags.nodeIPs.push(value());
        break;
      case '--cluster-cidr':
        flags.clusterCIDRs.push(value());
        break;
      case '--min-sync-ms':
        flags.minSyncMs = Number(value());
        if (!Number.isFinite(flags.minSyncMs) || flags.minSyncMs < 0) throw new Error('--min-sync-ms must be ≥ 0');
        break;
      case '--cleanup':
        flags.cleanup = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag ${arg}\n\n${USAGE}`);
    }
  }
  return flags;
}

/** The node's own addresses (non-internal IPv4) when --node-ip is not given. */
function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

async function cleanup(backend: BackendKind): Promise<number> {
  if (backend === 'iptables') {
    process.stderr.write('skiff proxy --cleanup: iptables chains are replaced on the next start; nothing removed\n');
    return 0;
  }
  try {
    await runCommand(['nft', 'delete', 'table', 'ip', 'skiff'], '');
  } catch (err) {
    if (!/No such file or directory/.test((err as Error).message)) throw err;
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const flags = parse(argv);
  if (flags.cleanup) return cleanup(flags.backend);
  if (!flags.kubeconfig) {
    process.stderr.write(`skiff proxy: --kubeconfig is required\n\n${USAGE}`);
    return 2;
  }
  const nodeIPs = flags.nodeIPs.length ? flags.nodeIPs : localAddresses();
  const proxy = createProxy({
    backend: flags.backend,
    nodeName: flags.nodeName,
    nodeIPs,
    ...(flags.clusterCIDRs.length ? { clusterCIDRs: flags.clusterCIDRs } : {}),
    minSyncIntervalMs: flags.minSyncMs,
    onSync: (report, err) => {
      if (err) process.stderr.write(`skiff proxy: sync failed (will rebuild): ${err.message}\n`);
      else if (report?.full)
        process.stderr.write(`skiff proxy: full sync, ${report.operations} elements in ${report.ms.toFixed(0)} ms\n`);
    },
  });
  const client = createClient({ kubeconfig: flags.kubeconfig });
  // The informers hand out plain API objects; the proxy reads only the fields in its types.
  const svc = (o: unknown) => o as ServiceObject;
  const eps = (o: unknown) => o as EndpointSliceObject;
  const services = createInformer(client, resources.services());
  const slices = createInformer(client, resources.endpointslices());
  services
    .onAdd((s) => proxy.onService('ADDED', svc(s)))
    .onUpdate((_o, s) => proxy.onService('MODIFIED', svc(s)))
    .onDelete((s) => proxy.onService('DELETED', svc(s)));
  slices
    .onAdd((s) => proxy.onEndpointSlice('ADDED', eps(s)))
    .onUpdate((_o, s) => proxy.onEndpointSlice('MODIFIED', eps(s)))
    .onDelete((s) => proxy.onEndpointSlice('DELETED', eps(s)));
  await Promise.all([services.start(), slices.start()]);
  process.stderr.write(
    `skiff proxy: node ${flags.nodeName}, backend ${proxy.dataPlane.kind}, node IPs ${nodeIPs.join(', ')}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  services.stop();
  slices.stop();
  // Rules stay in place on exit (like kube-proxy): traffic keeps flowing while the proxy restarts.
  await proxy.close();
  await client.close();
  return 0;
}
