// The proxy runner: events in, coalesced syncs out, failed syncs retried as full rebuilds.
import t from 'tap';
import { Registry } from 'prom-client';
import { Proxy, createProxy, applyDesiredState } from '../../src/proxy/proxy.js';
import { NftablesDataPlane } from '../../src/proxy/nftables/dataplane.js';
import { FakeBackend, type NftBackend } from '../../src/proxy/nftables/backend.js';
import { TableBuilder } from '../../src/proxy/lb/tables.js';
import { SERVICE_NAME_LABEL } from '../../src/proxy/tracker.js';
import type { EndpointSliceObject, ServiceObject } from '../../src/proxy/types.js';

const service = (i: number): ServiceObject => ({
  metadata: { name: `s${i}`, namespace: 'ns' },
  spec: { clusterIP: `10.96.0.${i}`, ports: [{ name: 'http', port: 80 }] },
});
const slice = (i: number, ips: string[]): EndpointSliceObject => ({
  metadata: { name: `s${i}-x`, namespace: 'ns', labels: { [SERVICE_NAME_LABEL]: `s${i}` } },
  addressType: 'IPv4',
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

function plane(backend: NftBackend) {
  return new NftablesDataPlane({ backend, nodeIPs: ['192.168.1.1'], tables: new TableBuilder({ threads: 0 }) });
}

t.test('events before a sync starts are coalesced into one sync; flush waits for the kernel', async (t) => {
  const fake = new FakeBackend();
  const registry = new Registry();
  const proxy = new Proxy({ dataPlane: plane(fake), nodeName: 'n', registry });
  for (let i = 1; i <= 20; i++) {
    proxy.onService('ADDED', service(i));
    proxy.onEndpointSlice('ADDED', slice(i, [`10.0.0.${i}`]));
  }
  await proxy.flush();
  t.equal(proxy.stats.syncs, 1, 'one sync for 40 events');
  t.equal(fake.table.elements('service-ips').size, 20);
  t.equal(proxy.stats.programmingMs.length, 1);
  proxy.onEndpointSlice('MODIFIED', slice(3, ['10.0.9.1', '10.0.9.2']));
  await proxy.flush();
  t.equal(proxy.stats.syncs, 2);
  t.equal(fake.table.lookup('service-ips', ['10.96.0.3', 'tcp', '80']), 'goto svc-rand-2');
  proxy.onService('DELETED', service(3));
  await proxy.flush();
  t.equal(fake.table.lookup('service-ips', ['10.96.0.3', 'tcp', '80']), undefined, 'deleted service is gone');
  const metrics = await registry.metrics();
  t.match(metrics, /skiff_proxy_network_programming_duration_seconds_count 3/);
  await proxy.close();
});

t.test('a failed sync is retried as a full rebuild that includes the failed change', async (t) => {
  const fake = new FakeBackend();
  let failures = 1;
  const flaky: NftBackend = {
    kind: 'fake',
    apply: async (tx) => {
      if (failures-- > 0) throw new Error('transient');
      await fake.apply(tx);
    },
    listMap: (family, table, map) => fake.listMap(family, table, map),
    close: async () => {},
  };
  const errors: string[] = [];
  const proxy = new Proxy({
    dataPlane: plane(flaky),
    nodeName: 'n',
    retryMs: 10,
    onSync: (_r, err) => err && errors.push(err.message),
  });
  proxy.onService('ADDED', service(1));
  proxy.onEndpointSlice('ADDED', slice(1, ['10.0.0.1']));
  await proxy.flush();
  t.same(errors, ['transient']);
  t.equal(proxy.stats.failures, 1);
  t.equal(proxy.stats.lastSync?.full, true);
  t.equal(fake.table.lookup('service-slots', ['10.96.0.1', 'tcp', '80', '0']), '10.0.0.1 . 8080');
  await proxy.close();
});

t.test('createProxy and applyDesiredState', async (t) => {
  const proxy = createProxy({ backend: 'fake', nodeName: 'n', nodeIPs: ['192.168.1.1'] });
  t.equal(proxy.dataPlane.kind, 'nftables/fake');
  const report = await applyDesiredState(proxy.dataPlane, []);
  t.ok(report.full, 'first sync builds the table');
  t.throws(() => createProxy({ backend: 'netlink', nodeName: 'n', nodeIPs: [], netns: 'x' }), /ip netns exec/);
  await proxy.close();
});
