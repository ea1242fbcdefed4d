// skiff's library surface: what `import … from 'skiff'` offers.
export * as quantity from './api/quantity.js';
export * as selectors from './api/selectors.js';
export { StatusError } from './api/status.js';
export type { Store, KeyValue, WatchEvent } from './store/types.js';
export { openStore, parseStoreFlags, StoreError } from './store/index.js';
export { createScheduler } from './scheduler/embed.js';
export type { Scheduler, SchedulerOptions } from './scheduler/embed.js';
export { defaultProfile } from './scheduler/types.js';
export type { Engine, Explanation, Profile, ScheduleResult, Workload } from './scheduler/types.js';
export { ClusterRecords } from './proxy/dns/records.js';
export { DnsServer } from './proxy/dns/server.js';
export type { DnsServerOptions } from './proxy/dns/server.js';
export { podResolvConf, renderResolvConf, parseResolvConf } from './proxy/dns/resolvconf.js';
export { NodeNetlink } from './proxy/node/rtnl.js';
export { createClient, createInformer, resources as clientResources } from './client/index.js';
export type { Client, ClientConfig, Informer, InformerOptions, ResourceAddress, KubeObject } from './client/index.js';
export { createProxy, applyDesiredState, Proxy, runInNetns } from './proxy/index.js';
export type { CreateProxyOptions, ServicePortState, DataPlane, SyncReport } from './proxy/index.js';
