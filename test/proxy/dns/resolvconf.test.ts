import t from 'tap';
import { parseResolvConf, podResolvConf, renderResolvConf } from '../../../src/proxy/dns/resolvconf.js';

const host = parseResolvConf(`# managed
nameserver 192.0.2.53
nameserver 192.0.2.54 ; second
domain old.example
search corp.example lab.example.
options edns0 timeout:2
`);

t.test('parses the node resolv.conf', (t) => {
  t.same(host, {
    nameservers: ['192.0.2.53', '192.0.2.54'],
    searches: ['corp.example', 'lab.example'],
    options: ['edns0', 'timeout:2'],
  });
  t.end();
});

t.test('ClusterFirst pod: cluster DNS, namespace search path, ndots:5', (t) => {
  const conf = podResolvConf({ namespace: 'shop', clusterDNS: ['10.96.0.10'], host: { ...host, searches: [] } });
  t.equal(
    renderResolvConf(conf),
    'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
  );
  t.end();
});

t.test('ClusterFirst appends host search domains; custom cluster domain', (t) => {
  const conf = podResolvConf({ namespace: 'a', clusterDNS: ['10.0.0.10'], clusterDomain: 'k.test.', host });
  t.same(conf.searches, ['a.svc.k.test', 'svc.k.test', 'k.test', 'corp.example', 'lab.example']);
  t.end();
});

t.test('hostNetwork + ClusterFirst behaves as Default; ClusterFirstWithHostNet does not', (t) => {
  t.same(
    podResolvConf({ namespace: 'a', clusterDNS: ['10.0.0.10'], hostNetwork: true, host }).nameservers,
    host.nameservers,
  );
  t.same(
    podResolvConf({
      namespace: 'a',
      clusterDNS: ['10.0.0.10'],
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      host,
    }).nameservers,
    ['10.0.0.10'],
  );
  t.end();
});

t.test('None uses only dnsConfig; options merge by name; limits apply', (t) => {
  const conf = podResolvConf({
    namespace: 'a',
    clusterDNS: ['10.0.0.10'],
    dnsPolicy: 'None',
    dnsConfig: {
      nameservers: ['1.1.1.1', '1.1.1.1', '8.8.8.8', '9.9.9.9', '4.4.4.4'],
      searches: ['x.example'],
      options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
    },
  });
  t.same(conf, {
    nameservers: ['1.1.1.1', '8.8.8.8', '9.9.9.9'],
    searches: ['x.example'],
    options: ['ndots:2', 'edns0'],
  });
  const merged = podResolvConf({
    namespace: 'a',
    clusterDNS: ['10.0.0.10'],
    dnsConfig: { options: [{ name: 'ndots', value: '1' }] },
  });
  t.same(merged.options, ['ndots:1'], 'pod option overrides the default ndots');
  t.end();
});
