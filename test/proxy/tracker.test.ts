// The tracker: Service + EndpointSlice events in, desired state per service port out.
import t from 'tap';
import { ServiceTracker, SERVICE_NAME_LABEL, DEFAULT_AFFINITY_TIMEOUT } from '../../src/proxy/tracker.js';
import type { EndpointSliceObject, ServiceObject, ServicePortState } from '../../src/proxy/types.js';

const NODE = 'node-a';

function service(name: string, spec: ServiceObject['spec'] = {}, status?: ServiceObject['status']): ServiceObject {
  return {
    metadata: { name, namespace: 'ns1' },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }], ...spec },
    ...(status ? { status } : {}),
  };
}

type Ep = NonNullable<EndpointSliceObject['endpoints']>[number];
function slice(name: string, svc: string, endpoints: Ep[], ports = [{ name: 'http', port: 8080 }]) {
  return {
    metadata: { name, namespace: 'ns1', labels: { [SERVICE_NAME_LABEL]: svc } },
    addressType: 'IPv4',
    endpoints,
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  } satisfies EndpointSliceObject;
}

function ep(ip: string, opts: Partial<Ep['conditions']> & { node?: string } = {}): Ep {
  const { node, ...conditions } = opts;
  return { addresses: [ip], conditions: { ready: true, ...conditions }, ...(node ? { nodeName: node } : {}) };
}

function only(tracker: ServiceTracker): ServicePortState {
  const { ports } = tracker.takeChanges();
  t.equal(ports.size, 1, 'one port changed');
  const state = [...ports.values()][0];
  if (!state) throw new Error('port removed');
  return state;
}

const ips = (list: { ip: string; port: number }[]) => list.map((e) => `${e.ip}:${e.port}`);

t.test('a ClusterIP service with ready endpoints', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(service('web'));
  tr.upsertSlice(slice('web-1', 'web', [ep('10.0.1.2'), ep('10.0.1.1'), ep('10.0.1.3', { ready: false })]));
  const s = only(tr);
  t.equal(s.key, 'ns1/web:http/tcp');
  t.same(s.clusterIPs, ['10.96.0.10']);
  t.equal(s.port, 80);
  t.same(ips(s.clusterEndpoints), ['10.0.1.1:8080', '10.0.1.2:8080'], 'ready ones, sorted');
  t.same(s.externalEndpoints, [], 'no external traffic for ClusterIP');
  t.equal(s.allEndpoints.length, 3);
  t.equal(s.affinityTimeoutSeconds, undefined);
  t.equal(tr.takeChanges().ports.size, 0, 'nothing new');
});

t.test('serving-terminating endpoints are used only when none is ready', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(service('web'));
  tr.upsertSlice(
    slice('web-1', 'web', [
      ep('10.0.1.1', { ready: false, serving: true, terminating: true }),
      ep('10.0.1.2', { ready: false, serving: false, terminating: true }),
    ]),
  );
  t.same(ips(only(tr).clusterEndpoints), ['10.0.1.1:8080']);
  tr.upsertSlice(
    slice('web-1', 'web', [ep('10.0.1.1', { ready: false, serving: true, terminating: true }), ep('10.0.1.9')]),
  );
  t.same(ips(only(tr).clusterEndpoints), ['10.0.1.9:8080'], 'ready wins');
  tr.upsertSlice(slice('web-1', 'web', [ep('10.0.1.1', { ready: false, serving: false })]));
  const none = only(tr);
  t.same(none.clusterEndpoints, []);
  t.equal(none.clusterNoEndpoints, 'reject');
});

t.test('an endpoint listed in two slices counts once, preferring the ready copy', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(service('web'));
  tr.upsertSlice(slice('web-a', 'web', [ep('10.0.1.1', { ready: false }), ep('10.0.1.2')]));
  tr.upsertSlice(slice('web-b', 'web', [ep('10.0.1.1'), ep('10.0.1.2')]));
  const s = only(tr);
  t.same(ips(s.clusterEndpoints), ['10.0.1.1:8080', '10.0.1.2:8080']);
  t.equal(s.allEndpoints.length, 2);
  tr.deleteSlice(slice('web-b', 'web', []));
  t.same(ips(only(tr).clusterEndpoints), ['10.0.1.2:8080'], 'after the second slice goes, 10.0.1.1 is not ready');
});

t.test('named target ports: each service port takes the slice port of the same name and protocol', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(
    service('multi', {
      ports: [
        { name: 'http', port: 80, targetPort: 'web' },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
      ],
    }),
  );
  tr.upsertSlice(
    slice(
      'multi-1',
      'multi',
      [ep('10.0.2.1')],
      [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' } as { name: string; port: number }],
    ),
  );
  const { ports } = tr.takeChanges();
  t.same(ips(ports.get('ns1/multi:http/tcp')!.clusterEndpoints), ['10.0.2.1:8080']);
  const dns = ports.get('ns1/multi:dns/udp')!;
  t.equal(dns.protocol, 'udp');
  t.same(ips(dns.clusterEndpoints), ['10.0.2.1:5353']);
});

t.test('NodePort, LoadBalancer ingress, externalIPs and externalTrafficPolicy Local', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(
    service(
      'lb',
      {
        type: 'LoadBalancer',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
        externalIPs: ['192.0.2.5', 'not-an-ip'],
        externalTrafficPolicy: 'Local',
      },
      { loadBalancer: { ingress: [{ ip: '198.51.100.7' }, { hostname: 'lb.example' }] } },
    ),
  );
  tr.upsertSlice(slice('lb-1', 'lb', [ep('10.0.3.1', { node: NODE }), ep('10.0.3.2', { node: 'node-b' })]));
  const s = only(tr);
  t.equal(s.nodePort, 30080);
  t.same(s.externalIPs, ['192.0.2.5']);
  t.same(s.loadBalancerIPs, ['198.51.100.7']);
  t.ok(s.externalPolicyLocal);
  t.same(ips(s.clusterEndpoints), ['10.0.3.1:8080', '10.0.3.2:8080'], 'cluster traffic uses all');
  t.same(ips(s.externalEndpoints), ['10.0.3.1:8080'], 'external traffic only this node');
  // No local endpoint but some elsewhere: external traffic is dropped, not rejected.
  tr.upsertSlice(slice('lb-1', 'lb', [ep('10.0.3.2', { node: 'node-b' })]));
  const s2 = only(tr);
  t.same(s2.externalEndpoints, []);
  t.equal(s2.externalNoEndpoints, 'drop');
  t.equal(s2.clusterNoEndpoints, 'reject');
  // LB status is ignored for a non-LoadBalancer type; a ClusterIP service has no node port.
  tr.upsertService(
    service(
      'lb',
      { type: 'ClusterIP', ports: [{ name: 'http', port: 80, nodePort: 30080 }] },
      {
        loadBalancer: { ingress: [{ ip: '198.51.100.7' }] },
      },
    ),
  );
  const s3 = only(tr);
  t.equal(s3.nodePort, undefined);
  t.same(s3.loadBalancerIPs, []);
  t.notOk(s3.externalPolicyLocal, 'no external traffic, so no external policy');
});

t.test('internalTrafficPolicy Local keeps only this node for ClusterIP traffic', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(service('itp', { internalTrafficPolicy: 'Local' }));
  tr.upsertSlice(slice('itp-1', 'itp', [ep('10.0.4.1', { node: 'node-b' })]));
  const s = only(tr);
  t.same(s.clusterEndpoints, []);
  t.equal(s.clusterNoEndpoints, 'drop', 'endpoints exist elsewhere: drop');
  tr.upsertSlice(slice('itp-1', 'itp', [ep('10.0.4.1', { node: 'node-b' }), ep('10.0.4.2', { node: NODE })]));
  t.same(ips(only(tr).clusterEndpoints), ['10.0.4.2:8080']);
});

t.test('sessionAffinity ClientIP with its timeout (default 10800 s)', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(service('aff', { sessionAffinity: 'ClientIP' }));
  t.equal(only(tr).affinityTimeoutSeconds, DEFAULT_AFFINITY_TIMEOUT);
  tr.upsertService(
    service('aff', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
  );
  t.equal(only(tr).affinityTimeoutSeconds, 60);
});

t.test('removed ports and services are reported as null; headless and ExternalName are ignored', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(
    service('two', {
      ports: [
        { name: 'a', port: 1 },
        { name: 'b', port: 2 },
      ],
    }),
  );
  t.equal(tr.takeChanges().ports.size, 2);
  tr.upsertService(service('two', { ports: [{ name: 'a', port: 1 }] }));
  const changes = tr.takeChanges().ports;
  t.equal(changes.get('ns1/two:b/tcp'), null, 'port b gone');
  t.ok(changes.get('ns1/two:a/tcp'));
  tr.deleteService(service('two'));
  t.same([...tr.takeChanges().ports.entries()], [['ns1/two:a/tcp', null]]);
  tr.upsertService(service('headless', { clusterIP: 'None' }));
  tr.upsertService(service('ext', { type: 'ExternalName', clusterIP: '' }));
  t.equal(tr.takeChanges().ports.size, 0);
});

t.test('a slice relabelled to another service moves its endpoints; events before the service are kept', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertSlice(slice('s-1', 'first', [ep('10.0.5.1')]));
  t.equal(tr.takeChanges().ports.size, 0, 'no service yet');
  tr.upsertService(service('first'));
  tr.upsertService({ ...service('second'), spec: { ...service('second').spec, clusterIP: '10.96.0.11' } });
  const initial = tr.takeChanges().ports;
  t.same(ips(initial.get('ns1/first:http/tcp')!.clusterEndpoints), ['10.0.5.1:8080']);
  t.same(initial.get('ns1/second:http/tcp')!.clusterEndpoints, []);
  tr.upsertSlice(slice('s-1', 'second', [ep('10.0.5.1')]));
  const moved = tr.takeChanges().ports;
  t.same(moved.get('ns1/first:http/tcp')!.clusterEndpoints, []);
  t.same(ips(moved.get('ns1/second:http/tcp')!.clusterEndpoints), ['10.0.5.1:8080']);
});

t.test('markAllDirty reports every service port again', async (t) => {
  const tr = new ServiceTracker({ nodeName: NODE });
  tr.upsertService(service('a'));
  tr.upsertService({ ...service('b'), spec: { ...service('b').spec, clusterIP: '10.96.0.12' } });
  tr.takeChanges();
  t.notOk(tr.pending);
  tr.markAllDirty();
  t.ok(tr.pending);
  t.equal(tr.takeChanges().ports.size, 2);
});
