// Clears UDP conntrack entries that would keep sending a client to an endpoint that is gone (UDP has no
// connection end, so a flow outlives its endpoint: kubernetes#19029, #59368), using the `conntrack` binary.
import { runCommand, type CommandOptions } from './nftables/backend.js';
import type { ServicePortState } from './types.js';

/** conntrack(8) argument lists that delete the stale flows of one service port after a change. */
export function staleFlowFilters(before: ServicePortState | null, after: ServicePortState | null): string[][] {
  const port = before ?? after;
  if (!port || port.protocol !== 'udp') return [];
  const filters: string[][] = [];
  const usable = (s: ServicePortState | null) =>
    new Set([...(s?.clusterEndpoints ?? []), ...(s?.externalEndpoints ?? [])].map((e) => e.ip));
  const now = usable(after);
  const gone = [...usable(before)].filter((ip) => !now.has(ip));
  const vips = before ? [...before.clusterIPs, ...before.externalIPs, ...before.loadBalancerIPs] : [];
  for (const ip of gone) {
    for (const vip of vips) filters.push(['-D', '-p', 'udp', '--orig-dst', vip, '--dst-nat', ip]);
    if (before?.nodePort)
      filters.push(['-D', '-p', 'udp', '--orig-port-dst', String(before.nodePort), '--dst-nat', ip]);
  }
  // From no endpoints to some: entries created while the service rejected traffic would shadow the new DNAT.
  const hadNone = before !== null && before.clusterEndpoints.length === 0;
  if (after && hadNone && after.clusterEndpoints.length > 0) {
    for (const vip of after.clusterIPs)
      filters.push(['-D', '-p', 'udp', '--orig-dst', vip, '--orig-port-dst', String(after.port)]);
  }
  return filters;
}

export class ConntrackCleaner {
  /** Failures are counted, not thrown: a missed clean-up must not fail the sync that already succeeded. */
  failures = 0;
  runs = 0;

  constructor(
    readonly options: CommandOptions = {},
    readonly run: (args: string[]) => Promise<unknown> = (args) =>
      runCommand(['conntrack', ...args], '', options).catch((err: Error) => {
        // conntrack exits 1 with "0 flow entries have been deleted" when nothing matched: not a failure.
        if (!/0 flow entries/.test(err.message)) throw err;
      }),
  ) {}

  async clean(pairs: Iterable<[ServicePortState | null, ServicePortState | null]>): Promise<void> {
    for (const [before, after] of pairs) {
      for (const args of staleFlowFilters(before, after)) {
        this.runs++;
        try {
          await this.run(args);
        } catch {
          this.failures++;
        }
      }
    }
  }
}
