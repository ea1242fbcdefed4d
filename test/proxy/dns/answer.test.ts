import t from 'tap';
import type { Question } from 'dns-packet';
import { ptrToIp, RCODE, resolve } from '../../../src/proxy/dns/answer.js';
import { sampleRecords } from './fixtures/cluster.js';

const r = sampleRecords();
const q = (name: string, type: string): Question => ({ name, type: type as Question['type'] });

function ok(name: string, type: string) {
  const res = resolve(q(name, type), r);
  if (res.kind !== 'answer') throw new Error(`expected an answer for ${name}`);
  return res;
}

t.test('ClusterIP service: A with the cluster IP, case-insensitive, asked spelling echoed', (t) => {
  const res = ok('Web.Default.svc.cluster.local.', 'A');
  t.equal(res.rcode, RCODE.NOERROR);
  t.same(
    res.answers.map((a) => [a.name, a.type, (a as { data: unknown }).data, (a as { ttl?: number }).ttl]),
    [['Web.Default.svc.cluster.local', 'A', '10.96.0.10', 5]],
  );
  t.end();
});

t.test('AAAA for an IPv4-only service is NODATA with SOA', (t) => {
  const res = ok('web.default.svc.cluster.local', 'AAAA');
  t.equal(res.rcode, RCODE.NOERROR);
  t.same(res.answers, []);
  t.equal(res.authorities[0]?.type, 'SOA');
  t.end();
});

t.test('headless service: one A per ready endpoint', (t) => {
  const res = ok('db.data.svc.cluster.local', 'A');
  t.same(res.answers.map((a) => (a as { data: string }).data).sort(), ['10.244.1.5', '10.244.2.6']);
  t.end();
});

t.test('headless endpoint by hostname and by dashed address', (t) => {
  t.same(
    ok('db-0.db.data.svc.cluster.local', 'A').answers.map((a) => (a as { data: string }).data),
    ['10.244.1.5'],
  );
  t.same(
    ok('10-244-2-6.db.data.svc.cluster.local', 'A').answers.map((a) => (a as { data: string }).data),
    ['10.244.2.6'],
  );
  t.equal(ok('db-2.db.data.svc.cluster.local', 'A').rcode, RCODE.NXDOMAIN, 'not-ready endpoint hidden');
  t.equal(ok('x.web.default.svc.cluster.local', 'A').rcode, RCODE.NXDOMAIN, 'no endpoint names under ClusterIP');
  t.end();
});

t.test('SRV for named ports', (t) => {
  const res = ok('_http._tcp.web.default.svc.cluster.local', 'SRV');
  t.same(
    res.answers.map((a) => (a as { data: unknown }).data),
    [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }],
  );
  t.same(
    res.additionals.map((a) => [a.name, (a as { data: string }).data]),
    [['web.default.svc.cluster.local', '10.96.0.10']],
  );
  t.equal(ok('_dns._udp.web.default.svc.cluster.local', 'SRV').answers.length, 1);
  t.equal(ok('_dns._tcp.web.default.svc.cluster.local', 'SRV').rcode, RCODE.NXDOMAIN, 'protocol must match');
  t.equal(ok('_nope._tcp.web.default.svc.cluster.local', 'SRV').rcode, RCODE.NXDOMAIN);
  const all = ok('web.default.svc.cluster.local', 'SRV');
  t.equal(all.answers.length, 2, 'SRV on the service name lists every named port');
  const hl = ok('_pg._tcp.db.data.svc.cluster.local', 'SRV');
  t.same(hl.answers.map((a) => (a as { data: { target: string; port: number } }).data.target).sort(), [
    '10-244-2-6.db.data.svc.cluster.local',
    'db-0.db.data.svc.cluster.local',
  ]);
  t.equal(hl.additionals.length, 2, 'headless SRV carries each target address');
  t.end();
});

t.test('ExternalName answers a CNAME', (t) => {
  const res = ok('ext.default.svc.cluster.local', 'A');
  t.same(
    res.answers.map((a) => [a.type, (a as { data: string }).data]),
    [['CNAME', 'db.example.com']],
  );
  t.end();
});

t.test('unknown names in the zone: NXDOMAIN with the SOA', (t) => {
  for (const name of [
    'nope.default.svc.cluster.local',
    'web.nope.svc.cluster.local',
    'google.com.default.svc.cluster.local', // ndots:5 search expansion of an outside name
    'web.default.cluster.local',
    'a.b.c.d.e.svc.cluster.local',
  ]) {
    const res = ok(name, 'A');
    t.equal(res.rcode, RCODE.NXDOMAIN, name);
    t.equal(res.authorities[0]?.type, 'SOA', `${name} carries SOA`);
    t.equal((res.authorities[0] as { name: string }).name, 'cluster.local');
  }
  t.end();
});

t.test('ndots:5 search walk: the first suffixes miss, the right one hits', (t) => {
  // A pod in "default" asks for "db.data": the resolver tries the search list in order.
  const tries = ['db.data.default.svc.cluster.local', 'db.data.svc.cluster.local'];
  t.equal(ok(tries[0]!, 'A').rcode, RCODE.NXDOMAIN);
  t.equal(ok(tries[1]!, 'A').answers.length, 2);
  // "web" from "default" hits on the first suffix.
  t.equal(ok('web.default.svc.cluster.local', 'A').answers.length, 1);
  t.end();
});

t.test('intermediate names exist without records (NODATA)', (t) => {
  for (const name of ['svc.cluster.local', 'default.svc.cluster.local', 'cluster.local']) {
    const res = ok(name, 'A');
    t.equal(res.rcode, RCODE.NOERROR, name);
    t.same(res.answers, []);
  }
  t.equal(ok('cluster.local', 'SOA').answers[0]?.type, 'SOA');
  t.end();
});

t.test('pod records (pods insecure)', (t) => {
  t.same(
    ok('10-244-9-9.default.pod.cluster.local', 'A').answers.map((a) => (a as { data: string }).data),
    ['10.244.9.9'],
  );
  t.equal(ok('10-244-9.default.pod.cluster.local', 'A').rcode, RCODE.NXDOMAIN);
  t.end();
});

t.test('PTR for service IPs; unknown addresses and outside names are forwarded', (t) => {
  const res = ok('10.0.96.10.in-addr.arpa', 'PTR');
  t.same(
    res.answers.map((a) => (a as { data: string }).data),
    ['web.default.svc.cluster.local'],
  );
  t.same(resolve(q('1.1.1.1.in-addr.arpa', 'PTR'), r), { kind: 'forward' });
  t.same(resolve(q('example.com', 'A'), r), { kind: 'forward' });
  t.same(resolve(q('cluster.local.example.com', 'A'), r), { kind: 'forward' });
  t.end();
});

t.test('ptrToIp parses v4 and v6 reverse names and rejects partial ones', (t) => {
  t.equal(ptrToIp('4.3.2.1.in-addr.arpa'), '1.2.3.4');
  t.equal(ptrToIp('3.2.1.in-addr.arpa'), undefined);
  t.equal(ptrToIp('4.3.2.300.in-addr.arpa'), undefined);
  const v6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';
  t.equal(ptrToIp(v6), 'fd00::1');
  t.end();
});

t.test('a service update and delete change answers', (t) => {
  const rr = sampleRecords();
  rr.applyService({
    type: 'MODIFIED',
    object: { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.11' } },
  });
  t.same(
    resolve(q('web.default.svc.cluster.local', 'A'), rr).kind === 'answer' &&
      (resolve(q('web.default.svc.cluster.local', 'A'), rr) as { answers: { data: string }[] }).answers.map(
        (a) => a.data,
      ),
    ['10.96.0.11'],
  );
  rr.applyService({ type: 'DELETED', object: { metadata: { namespace: 'default', name: 'web' } } });
  t.equal((resolve(q('web.default.svc.cluster.local', 'A'), rr) as { rcode: number }).rcode, RCODE.NXDOMAIN);
  t.end();
});
