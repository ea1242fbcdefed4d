// The service proxy's public surface: the runner, data planes, backends and the pieces tests build on.
export { Proxy, createProxy, applyDesiredState } from './proxy.js';
export type { ProxyOptions, ProxyStats, CreateProxyOptions, BackendKind, EventType } from './proxy.js';
export { ServiceTracker, categorize, SERVICE_NAME_LABEL, DEFAULT_AFFINITY_TIMEOUT } from './tracker.js';
export type { DataPlane, SyncReport } from './dataplane.js';
export type {
  ServiceObject,
  EndpointSliceObject,
  ServicePortState,
  EndpointState,
  Protocol,
  NoEndpointsAction,
} from './types.js';
export { NftablesDataPlane } from './nftables/dataplane.js';
export type { NftablesDataPlaneOptions } from './nftables/dataplane.js';
export { IptablesDataPlane } from './iptables/dataplane.js';
export { FakeBackend, NftCliBackend, runCommand } from './nftables/backend.js';
export type { NftBackend } from './nftables/backend.js';
export { NetlinkBackend } from './nftables/netlink-backend.js';
export { FakeTable } from './nftables/fake.js';
export { Transaction } from './nftables/transaction.js';
export { staticRuleset, SETS, MASQUERADE_MARK, JHASH_SEED } from './nftables/ruleset.js';
export { ConntrackCleaner, staleFlowFilters } from './conntrack.js';
export { runInNetns, createDataPlane } from './netns-apply.js';
export type { NetnsApplyRequest, BackendName } from './netns-apply.js';
export { TableBuilder } from './lb/tables.js';
export { maglevTable, defaultTableSize, TABLE_SIZES } from './maglev.js';
