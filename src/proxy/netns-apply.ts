// Applies desired service-port states inside a network namespace with a chosen backend: `runInNetns()` starts
// this file under `ip netns exec` (Node cannot enter a namespace itself, and a netlink socket belongs to the
// namespace of the process that opens it). Used by native tests and benchmarks; also runnable by hand:
//   ip netns exec NS node dist/proxy/netns-apply.js < request.json
import { fileURLToPath } from 'node:url';
import { NftablesDataPlane } from './nftables/dataplane.js';
import { NftCliBackend, runCommand, type NftBackend } from './nftables/backend.js';
import { NetlinkBackend } from './nftables/netlink-backend.js';
import { IptablesDataPlane } from './iptables/dataplane.js';
import { TableBuilder } from './lb/tables.js';
import type { DataPlane, SyncReport } from './dataplane.js';
import type { ServicePortState } from './types.js';

export type BackendName = 'netlink' | 'nft' | 'iptables';

export interface NetnsApplyRequest {
  backend: BackendName;
  nodeIPs: string[];
  clusterCIDRs?: string[];
  /** Each step is one sync: [key, state | null] pairs. */
  steps: [string, ServicePortState | null][][];
}

export function createDataPlane(
  backend: BackendName,
  options: { nodeIPs: string[]; clusterCIDRs?: string[]; tables?: TableBuilder },
): DataPlane {
  if (backend === 'iptables') return new IptablesDataPlane(options);
  const b: NftBackend = backend === 'netlink' ? new NetlinkBackend() : new NftCliBackend();
  return new NftablesDataPlane({ backend: b, ...options });
}

async function serve(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString()) as NetnsApplyRequest;
  const plane = createDataPlane(request.backend, {
    nodeIPs: request.nodeIPs,
    ...(request.clusterCIDRs ? { clusterCIDRs: request.clusterCIDRs } : {}),
    tables: new TableBuilder({ threads: 0 }),
  });
  const reports: SyncReport[] = [];
  try {
    for (const step of request.steps) reports.push(await plane.sync(new Map(step)));
  } finally {
    await plane.close();
  }
  process.stdout.write(JSON.stringify(reports) + '\n');
}

/** Runs the request in the namespace; resolves with one report per step. */
export async function runInNetns(netns: string, request: NetnsApplyRequest): Promise<SyncReport[]> {
  const self = fileURLToPath(import.meta.url);
  // From src/ (tests) the .ts file needs a loader in the child; from dist/ it is plain JS.
  const node = self.endsWith('.ts') ? [process.execPath, '--import', 'tsx', self] : [process.execPath, self];
  const out = await runCommand(node, JSON.stringify(request), { netns });
  return JSON.parse(out.trim().split('\n').at(-1)!) as SyncReport[];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  serve().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
