// Runs the store conformance suite against a real etcd 3.4 started for this file on free loopback ports.
import t from 'tap';
import { openEtcdStore } from '../../src/store/etcd.js';
import { startEtcd, type EtcdProcess } from '../../src/store/etcd-process.js';
import { conformance } from './fixtures/conformance.js';

let etcd: EtcdProcess;
t.before(async () => {
  etcd = await startEtcd();
});
t.teardown(() => etcd?.stop());

conformance(t, 'etcd', (options) =>
  openEtcdStore({
    endpoints: [etcd.endpoint],
    compaction: options?.compaction,
    watchBufferLimit: options?.watchBufferLimit,
    compactIntervalMs: 0,
  }),
);
