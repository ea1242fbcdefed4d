// The iptables data plane without root: its restore input, with commands captured instead of run.
import t from 'tap';
import { IptablesDataPlane } from '../../src/proxy/iptables/dataplane.js';
import { chainName } from '../../src/proxy/iptables/rules.js';
import type { EndpointState, ServicePortState } from '../../src/proxy/types.js';
import { endpointState, servicePortState } from '../../native-test/lib/states.js';

const ep = (ip: string): EndpointState => endpointState(ip);
const port = (name: string, ip: string, eps: EndpointState[], extra: Partial<ServicePortState> = {}) =>
  servicePortState(name, ip, eps, { externalEndpoints: eps, ...extra });

t.test('only chains whose rules changed are rewritten; stale ones are deleted', async (t) => {
  const calls: string[][] = [];
  const plane = new IptablesDataPlane({
    nodeIPs: ['192.168.1.1'],
    exec: async (argv) => {
      calls.push(argv);
      if (argv[0] === 'iptables' && argv.includes('-C')) throw new Error('no such rule');
      return '';
    },
  });
  const a = port('a', '10.96.0.1', [ep('10.0.0.1'), ep('10.0.0.2')]);
  const b = port('b', '10.96.0.2', [ep('10.0.1.1')], { nodePort: 30080 });
  const first = await plane.sync(
    new Map([
      [a.key, a],
      [b.key, b],
    ]),
  );
  t.ok(first.full);
  t.ok(
    calls.some((c) => c.join(' ') === 'iptables -t nat -I PREROUTING 1 -j SKIFF-SERVICES'),
    'jump inserted',
  );
  const full = plane.lastRestore;
  t.match(full, /-m statistic --mode random --probability 0\.5000000000 -j SKIFF-SEP-/);
  t.match(full, /-A SKIFF-NODEPORTS .* --dport 30080 -j SKIFF-MARK-MASQ/);
  t.match(full, /-A SKIFF-SERVICES -d 192\.168\.1\.1\/32 -j SKIFF-NODEPORTS/);

  const a2 = port('a', '10.96.0.1', [ep('10.0.0.1')]);
  const second = await plane.sync(new Map([[a2.key, a2]]));
  t.notOk(second.full);
  const restore = plane.lastRestore;
  const oldSvc = chainName('SKIFF-SVC-', `${a.key}/10.0.0.1:8080,10.0.0.2:8080`);
  const newSvc = chainName('SKIFF-SVC-', `${a2.key}/10.0.0.1:8080`);
  const bSvc = chainName('SKIFF-SVC-', `${b.key}/10.0.1.1:8080`);
  t.match(restore, new RegExp(`^-X ${oldSvc}$`, 'm'), 'the old service chain is deleted');
  t.match(restore, new RegExp(`^:${newSvc} `, 'm'), 'the new one written');
  t.notMatch(restore, new RegExp(`^:${bSvc} `, 'm'), 'the unchanged service is not rewritten');
  t.match(restore, new RegExp(`-j ${bSvc}$`, 'm'), 'but still referenced from SKIFF-SERVICES');
});

t.test('no endpoints: REJECT (or DROP for Local policy) in the filter table; affinity uses recent', async (t) => {
  const plane = new IptablesDataPlane({ nodeIPs: ['192.168.1.1'], exec: async () => '' });
  const empty = port('e', '10.96.0.3', [], { externalEndpoints: [], nodePort: 30081, externalNoEndpoints: 'drop' });
  const sticky = port('s', '10.96.0.4', [ep('10.0.2.1'), ep('10.0.2.2')], { affinityTimeoutSeconds: 600 });
  await plane.sync(
    new Map([
      [empty.key, empty],
      [sticky.key, sticky],
    ]),
  );
  const r = plane.lastRestore;
  t.match(r, /\*filter[\s\S]*-A SKIFF-EP-CHECK .*-d 10\.96\.0\.3\/32 .*-j REJECT/);
  t.match(r, /-A SKIFF-EP-CHECK .*-d 192\.168\.1\.1\/32 .*--dport 30081 -j DROP/);
  t.match(r, /-m recent --name SKIFF-SEP-\w+ --mask 255\.255\.255\.255 --rsource --rcheck --seconds 600 --reap/);
});
