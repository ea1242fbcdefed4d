// The harness itself: namespaces, veth + bridge wiring, servers inside, and teardown leaving nothing behind.
import t from 'tap';
import { nativeSkipReason, run, withNetns, Netns } from './netns.js';
import { rootDiff, snapshotRoot } from './rootcheck.js';
import { httpLoad } from './load.js';

const skip = nativeSkipReason();
if (skip) {
  t.comment(skip);
  t.pass(`skipped: ${skip}`);
} else {
  t.test('namespaces, bridge, veths, servers; all gone after teardown; root untouched', async (t) => {
    const before = await snapshotRoot();
    let names: string[] = [];
    let harnessId = '';
    await t.test('inside', async (t) => {
      await withNetns(t, async (h) => {
        harnessId = h.id;
        const hub = await h.add('hub');
        const a = await h.add('a');
        const b = await h.add('b');
        names = [hub, a, b];
        const br = await h.bridge(hub);
        for (const [ns, ip] of [
          [a, '10.213.0.2/24'],
          [b, '10.213.0.3/24'],
        ] as const) {
          const v = await h.veth(hub, ns, { addrB: ip });
          await h.attach(hub, v.a, br);
        }
        await h.httpServer(b, '10.213.0.3', 8080, 'server-b');
        const r = await h.exec(a, 'curl', ['-s', '--max-time', '5', 'http://10.213.0.3:8080/']);
        t.equal(r.stdout, 'server-b', 'a reaches b across the bridge');
        const load = await httpLoad(h, a, 'http://10.213.0.3:8080/', { count: 50, concurrency: 4, deadlineMs: 20_000 });
        t.same(load.counts, { 'server-b': 50 });
        t.equal(load.errors, 0);
        const listed = await run('ip', ['netns', 'list']);
        for (const n of names) t.match(listed.stdout, n);
        t.equal((await h.exec(a, 'ip', ['-o', 'link'])).stdout.split('\n').filter(Boolean).length, 2, 'lo + veth in a');
      });
    });
    const listed = await run('ip', ['netns', 'list']);
    for (const n of names) t.notMatch(listed.stdout, n, `${n} removed`);
    const ps = await run('ps', ['-eo', 'args']);
    t.notMatch(ps.stdout, 'server-b', 'server process killed');
    const after = await snapshotRoot();
    t.same(rootDiff(before, after), [], 'root namespace unchanged');
    t.notMatch(after.links, harnessId);
  });

  t.test('teardown also runs when the test body throws', async (t) => {
    let ns = '';
    const inner = new Netns();
    try {
      ns = await inner.add('boom');
      inner.spawn(ns, 'sleep', ['300']);
      throw new Error('boom');
    } catch (err) {
      t.equal((err as Error).message, 'boom');
    } finally {
      await inner.cleanup();
    }
    t.notMatch((await run('ip', ['netns', 'list'])).stdout, ns);
  });
}
