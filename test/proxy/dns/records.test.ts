import t from 'tap';
import { ClusterRecords } from '../../../src/proxy/dns/records.js';
import { sampleRecords, service, slice } from './fixtures/cluster.js';

t.test('services are indexed by namespace and name; delete removes them', (t) => {
  const r = sampleRecords();
  t.same(r.service('default', 'web')?.clusterIPs, ['10.96.0.10']);
  t.equal(r.service('default', 'web')?.headless, false);
  t.equal(r.service('data', 'db')?.headless, true);
  t.equal(r.service('default', 'ext')?.externalName, 'db.example.com');
  t.ok(r.hasNamespace('data'));
  r.applyService({ type: 'DELETED', object: service('data', 'db', {}) });
  t.equal(r.service('data', 'db'), undefined);
  t.notOk(r.hasNamespace('data'), 'namespace without services disappears');
  t.end();
});

t.test('endpoints: ready only, merged across slices, each address once', (t) => {
  const r = sampleRecords();
  t.same(
    r.endpoints('data', 'db').map((e) => e.ip),
    ['10.244.1.5', '10.244.2.6'],
  );
  // The same address in a second slice (controller moving it) is published once.
  r.applyEndpointSlice({
    type: 'ADDED',
    object: slice('data', 'db-def', 'db', [{ ip: '10.244.2.6' }, { ip: '10.244.4.8' }]),
  });
  t.same(
    r.endpoints('data', 'db').map((e) => e.ip),
    ['10.244.1.5', '10.244.2.6', '10.244.4.8'],
    'nil ready counts as ready; duplicates collapse',
  );
  r.applyEndpointSlice({ type: 'DELETED', object: slice('data', 'db-abc', 'db', []) });
  t.same(
    r.endpoints('data', 'db').map((e) => e.ip),
    ['10.244.2.6', '10.244.4.8'],
  );
  t.end();
});

t.test('publishNotReadyAddresses includes not-ready endpoints', (t) => {
  const r = new ClusterRecords();
  r.applyService({ type: 'ADDED', object: service('ns', 'h', { clusterIP: 'None', publishNotReadyAddresses: true }) });
  r.applyEndpointSlice({ type: 'ADDED', object: slice('ns', 'h-1', 'h', [{ ip: '10.0.0.1', ready: false }]) });
  t.same(
    r.endpoints('ns', 'h').map((e) => e.ip),
    ['10.0.0.1'],
  );
  t.end();
});

t.test('a slice moved to another service (label change) leaves the old one', (t) => {
  const r = new ClusterRecords();
  r.applyEndpointSlice({ type: 'ADDED', object: slice('ns', 's1', 'a', [{ ip: '10.0.0.1' }]) });
  r.applyEndpointSlice({ type: 'MODIFIED', object: slice('ns', 's1', 'b', [{ ip: '10.0.0.1' }]) });
  t.same(r.endpoints('ns', 'a'), []);
  t.equal(r.endpoints('ns', 'b').length, 1);
  t.end();
});

t.test('objects without names or service label are ignored, not thrown on', (t) => {
  const r = new ClusterRecords();
  const g = r.generation;
  r.applyService({ type: 'ADDED', object: {} });
  r.applyEndpointSlice({ type: 'ADDED', object: { metadata: { name: 'x' } } });
  r.applyEndpointSlice({
    type: 'ADDED',
    object: {
      metadata: { name: 'y', labels: { 'kubernetes.io/service-name': 's' } },
      endpoints: [{ addresses: ['not-an-ip'] }],
    },
  });
  t.equal(r.generation, g + 1);
  t.same(r.endpoints('default', 's'), []);
  t.end();
});

t.test('reverse lookups name service IPs and headless endpoints', (t) => {
  const r = sampleRecords();
  t.same(r.reverse('10.96.0.10', 'cluster.local'), ['web.default.svc.cluster.local']);
  t.same(r.reverse('10.244.1.5', 'cluster.local'), ['db-0.db.data.svc.cluster.local']);
  t.same(r.reverse('10.244.2.6', 'cluster.local'), ['10-244-2-6.db.data.svc.cluster.local']);
  t.same(r.reverse('10.244.3.7', 'cluster.local'), [], 'not-ready endpoints are not published');
  t.end();
});
