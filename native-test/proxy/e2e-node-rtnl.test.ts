// rtnetlink node helpers on the real kernel, inside a namespace this test creates.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { nativeSkipReason, withNetns } from '../lib/netns.js';
import { runTsInNs } from '../lib/tsx.js';
import { rootDiff, snapshotRoot } from '../lib/rootcheck.js';

const child = fileURLToPath(new URL('../lib/fixtures/rtnl-child.ts', import.meta.url));
type Result = { ok?: unknown; error?: string };

const skip = nativeSkipReason();
if (skip) {
  t.pass(`skipped: ${skip}`);
} else {
  t.test('dummy interface, LB addresses and a service-range route via netlink', async (t) => {
    const before = await snapshotRoot();
    await t.test('in a namespace', async (t) =>
      withNetns(t, async (h) => {
        const ns = await h.add('rtnl');
        const ops = (list: { op: string; args: unknown[] }[]) =>
          runTsInNs<Result[]>(h, ns, child, [JSON.stringify(list)]);

        const r1 = await ops([
          { op: 'ensureDummy', args: ['skiff-lb'] },
          { op: 'ensureDummy', args: ['skiff-lb'] },
          { op: 'syncAddresses', args: ['skiff-lb', ['192.0.2.10/32', '192.0.2.11']] },
          { op: 'addAddress', args: ['skiff-lb', '192.0.2.10/32'] },
          { op: 'replaceRoute', args: [{ dst: '10.96.0.0/16', dev: 'skiff-lb' }] },
          { op: 'replaceRoute', args: [{ dst: '10.96.0.0/16', dev: 'skiff-lb' }] },
          { op: 'replaceRoute', args: [{ dst: '198.51.100.0/24', type: 'blackhole' }] },
          { op: 'routes', args: [] },
          { op: 'ensureDummy', args: ['lo'] },
          { op: 'addAddress', args: ['nope0', '192.0.2.1/32'] },
        ]);
        const made = r1[0]!.ok as { index: number; kind: string };
        t.type(made.index, 'number', 'holder interface created');
        t.ok(['dummy', 'bridge'].includes(made.kind), `kind ${made.kind}`);
        t.same(r1[1]!.ok, made, 'ensureDummy is idempotent');
        t.same(r1[2]!.ok, { added: ['192.0.2.10/32', '192.0.2.11/32'], removed: [] });
        t.notOk(r1[3]!.error, 'adding a present address is fine');
        t.notOk(r1[5]!.error, 'replacing a route is idempotent');
        const routes = r1[7]!.ok as { dst: string; dev?: string; type: string }[];
        t.ok(routes.some((r) => r.dst === '10.96.0.0/16' && r.dev === 'skiff-lb' && r.type === 'unicast'));
        t.ok(routes.some((r) => r.dst === '198.51.100.0/24' && r.type === 'blackhole'));
        t.match(r1[8]!.error, /not a dummy/, 'refuses to adopt a non-dummy interface');
        t.match(r1[9]!.error, /no network interface "nope0"/);

        // What iproute2 sees agrees with what netlink wrote.
        const link = await h.ip(ns, '-d', 'link', 'show', 'skiff-lb');
        t.match(link, made.kind === 'dummy' ? /dummy/ : /bridge/);
        t.match(link, /UP|UNKNOWN/);
        const addrs = await h.ip(ns, '-o', '-4', 'addr', 'show', 'dev', 'skiff-lb');
        t.match(addrs, /192\.0\.2\.10\/32/);
        t.match(addrs, /192\.0\.2\.11\/32/);
        t.match(await h.ip(ns, 'route', 'show', '10.96.0.0/16'), /10\.96\.0\.0\/16 dev skiff-lb/);

        // A locally originated connection to a service-range address now has a route (nat output can DNAT it).
        t.match(await h.ip(ns, 'route', 'get', '10.96.3.4'), /dev skiff-lb/);

        const r2 = await ops([
          { op: 'syncAddresses', args: ['skiff-lb', ['192.0.2.11/32', '192.0.2.12/32']] },
          { op: 'deleteRoute', args: [{ dst: '10.96.0.0/16', dev: 'skiff-lb' }] },
          { op: 'deleteRoute', args: [{ dst: '10.96.0.0/16', dev: 'skiff-lb' }] },
          { op: 'delAddress', args: ['skiff-lb', '192.0.2.99/32'] },
          { op: 'addresses', args: ['skiff-lb'] },
          { op: 'deleteLink', args: ['skiff-lb'] },
          { op: 'deleteLink', args: ['skiff-lb'] },
        ]);
        t.same(r2[0]!.ok, { added: ['192.0.2.12/32'], removed: ['192.0.2.10/32'] });
        t.notOk(r2[2]!.error, 'deleting an absent route is fine');
        t.notOk(r2[3]!.error, 'deleting an absent address is fine');
        t.same((r2[4]!.ok as string[]).filter((a) => !a.includes(':')).sort(), ['192.0.2.11/32', '192.0.2.12/32']);
        t.notOk(r2[6]!.error, 'deleting a missing link is fine');
        t.notMatch(await h.ip(ns, '-o', 'link'), /skiff-lb/);
        t.equal((await h.ip(ns, 'route', 'show', '10.96.0.0/16')).trim(), '');
      }),
    );
    t.same(rootDiff(before, await snapshotRoot()), [], 'root namespace unchanged');
  });
}
