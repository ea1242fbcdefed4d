// Cluster DNS on the real network stack: the server runs in a "node" namespace, a pod-like client namespace
// gets a rendered resolv.conf (via /etc/netns/<ns>/resolv.conf) and resolves with `dig` and glibc.
import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nativeSkipReason, run, withNetns } from '../lib/netns.js';
import { tsNodeArgs } from '../lib/tsx.js';
import { rootDiff, snapshotRoot } from '../lib/rootcheck.js';
import { podResolvConf, renderResolvConf } from '../../src/proxy/dns/resolvconf.js';

const dnsChild = fileURLToPath(new URL('../lib/fixtures/dns-child.ts', import.meta.url));
const upstreamChild = fileURLToPath(new URL('../lib/fixtures/fake-upstream.ts', import.meta.url));

const skip =
  nativeSkipReason() ?? ((await run('dig', ['-v'])).code !== 0 ? 'dig (dnsutils) is not installed' : undefined);
if (skip) {
  t.pass(`skipped: ${skip}`);
} else {
  t.test('dig and glibc resolve cluster names through cluster DNS in the node namespace', async (t) => {
    const before = await snapshotRoot();
    await t.test('inside namespaces', (t) =>
      withNetns(t, async (h) => {
        const node = await h.add('node');
        const pod = await h.add('pod');
        const upstream = await h.add('up');
        await h.sysctl(node, 'net.ipv4.ip_forward', '1');
        await h.veth(node, pod, { addrA: '10.242.0.1/24', addrB: '10.242.0.2/24' });
        await h.veth(node, upstream, { addrA: '10.243.0.1/24', addrB: '10.243.0.2/24' });
        await h.ip(upstream, 'route', 'add', 'default', 'via', '10.243.0.1');

        const up = h.spawn(upstream, process.execPath, tsNodeArgs(upstreamChild, '10.243.0.2', '53'));
        await up.waitFor(/ready upstream/, 20_000);
        const dns = h.spawn(node, process.execPath, tsNodeArgs(dnsChild, '10.242.0.1', '53', '10.243.0.2:53'));
        await dns.waitFor(/ready 53/, 20_000);
        let applied = 0;
        const send = async (ev: object) => {
          dns.child.stdin!.write(JSON.stringify(ev) + '\n');
          await dns.waitFor(new RegExp(`applied ${++applied}\\b`));
        };
        await send({
          kind: 'Service',
          type: 'ADDED',
          object: {
            metadata: { namespace: 'shop', name: 'web' },
            spec: { clusterIP: '10.96.7.7', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
          },
        });
        await send({
          kind: 'Service',
          type: 'ADDED',
          object: { metadata: { namespace: 'data', name: 'db' }, spec: { clusterIP: 'None' } },
        });
        await send({
          kind: 'EndpointSlice',
          type: 'ADDED',
          object: {
            metadata: { namespace: 'data', name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
            addressType: 'IPv4',
            endpoints: [
              { addresses: ['10.240.0.5'], conditions: { ready: true }, hostname: 'db-0' },
              { addresses: ['10.240.0.6'], conditions: { ready: true } },
            ],
            ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
          },
        });

        // The pod's resolv.conf as kubelet would write it; `ip netns exec` bind-mounts it over /etc/resolv.conf.
        const etc = `/etc/netns/${pod}`;
        mkdirSync(etc, { recursive: true });
        t.teardown(() => rmSync(etc, { recursive: true, force: true }));
        const conf = renderResolvConf(podResolvConf({ namespace: 'shop', clusterDNS: ['10.242.0.1'] }));
        writeFileSync(`${etc}/resolv.conf`, conf);
        t.match(conf, /search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);

        const dig = async (...args: string[]) =>
          (await h.mustExec(pod, 'dig', ['+short', '+time=2', '+tries=2', ...args])).trim().split('\n').filter(Boolean);

        t.same(await dig('web.shop.svc.cluster.local'), ['10.96.7.7'], 'A for the ClusterIP');
        t.same(await dig('+tcp', 'web.shop.svc.cluster.local'), ['10.96.7.7'], 'same over TCP');
        t.same((await dig('db.data.svc.cluster.local')).sort(), ['10.240.0.5', '10.240.0.6'], 'headless: endpoints');
        t.same(await dig('SRV', '_http._tcp.web.shop.svc.cluster.local'), ['0 100 80 web.shop.svc.cluster.local.']);
        t.same(await dig('-x', '10.96.7.7'), ['web.shop.svc.cluster.local.'], 'PTR');
        t.same(await dig('+search', 'web'), ['10.96.7.7'], 'search path: "web" from namespace shop');
        t.same((await dig('+search', 'db.data')).sort(), ['10.240.0.5', '10.240.0.6'], 'search path: "db.data"');
        t.same(await dig('example.com'), ['198.51.100.7'], 'other names are forwarded upstream');

        const nx = await h.mustExec(pod, 'dig', ['+time=2', 'nope.shop.svc.cluster.local']);
        t.match(nx, /status: NXDOMAIN/);
        t.match(nx, /AUTHORITY SECTION:\s*\ncluster\.local\.\s+\d+\s+IN\s+SOA\s+ns\.dns\.cluster\.local\./);

        // glibc's resolver follows resolv.conf: ndots:5 makes "web" go through the search list.
        const getent = await h.mustExec(pod, 'getent', ['ahostsv4', 'web']);
        t.match(getent, /^10\.96\.7\.7\s/m, 'getent resolves the short name via the search path');

        // Changes through events show up in answers.
        await send({
          kind: 'Service',
          type: 'DELETED',
          object: { metadata: { namespace: 'shop', name: 'web' } },
        });
        t.same(await dig('web.shop.svc.cluster.local'), [], 'deleted service no longer resolves');

        // The upstream going away gives SERVFAIL, not a hang or crash.
        await up.kill();
        const fail = await h.mustExec(pod, 'dig', ['+time=5', '+tries=1', 'example.org']);
        t.match(fail, /status: SERVFAIL/);
        t.same(await dig('db-0.db.data.svc.cluster.local'), ['10.240.0.5'], 'still serving after upstream failure');
      }),
    );
    t.same(rootDiff(before, await snapshotRoot()), [], 'root namespace unchanged');
  });
}
