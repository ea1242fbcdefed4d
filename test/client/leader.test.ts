// Lease leader election: one holder at a time, takeover only after the lease goes unrenewed for its duration.
import t from 'tap';
import { LeaderElector } from '../../src/client/leader.js';
import { FakeCluster } from '../scheduler/daemon/fixtures/fake-cluster.js';

const leases = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' };

function elector(cluster: FakeCluster, identity: string, now: () => number) {
  return new LeaderElector({
    client: cluster.client(),
    namespace: 'kube-system',
    name: 'kube-scheduler',
    identity,
    leaseDurationMs: 15000,
    renewDeadlineMs: 10000,
    retryPeriodMs: 2000,
    now,
    signal: new AbortController().signal,
    onStartedLeading: () => {},
    onStoppedLeading: () => {},
  });
}

t.test('acquire, hold, take over after expiry', async (t) => {
  const cluster = new FakeCluster();
  let now = 1_700_000_000_000;
  const clock = () => now;
  const a = elector(cluster, 'a', clock);
  const b = elector(cluster, 'b', clock);
  t.ok(await a.tryAcquireOrRenew(), 'a creates the lease');
  t.notOk(await b.tryAcquireOrRenew(), 'b sees a fresh holder');
  now += 10_000;
  t.ok(await a.tryAcquireOrRenew(), 'a renews');
  t.notOk(await b.tryAcquireOrRenew(), 'b saw the renewal');
  now += 14_999;
  t.notOk(await b.tryAcquireOrRenew(), 'not yet expired from b’s point of view');
  now += 1;
  t.ok(await b.tryAcquireOrRenew(), 'b takes over after leaseDuration without renewal');
  const lease = cluster.find(leases, 'kube-scheduler')!;
  t.match(lease.spec, { holderIdentity: 'b', leaseDurationSeconds: 15, leaseTransitions: 1 });
  t.notOk(await a.tryAcquireOrRenew(), 'a lost it');
});

t.test('a stale resourceVersion loses the race', async (t) => {
  const cluster = new FakeCluster();
  const a = elector(cluster, 'a', () => 1);
  t.ok(await a.tryAcquireOrRenew());
  const client = cluster.client();
  const lease = await client.get<{ metadata: { resourceVersion: string } }>(leases, 'kube-scheduler');
  await client.update(leases, { ...lease, spec: { holderIdentity: 'x' } });
  await t.rejects(client.update(leases, lease), /modified/);
});

t.test('release on a clean stop: the holder is cleared and a standby leads at once', async (t) => {
  const cluster = new FakeCluster();
  const now = 1_700_000_000_000;
  const a = elector(cluster, 'a', () => now);
  const b = elector(cluster, 'b', () => now);
  t.ok(await a.tryAcquireOrRenew());
  t.notOk(await b.tryAcquireOrRenew(), 'b waits while a holds the lease');
  await b.release();
  t.match(cluster.find(leases, 'kube-scheduler')!.spec, { holderIdentity: 'a' }, 'only the holder can release');
  await a.release();
  t.match(cluster.find(leases, 'kube-scheduler')!.spec, { holderIdentity: '', leaseDurationSeconds: 1 });
  t.ok(await b.tryAcquireOrRenew(), 'b acquires without waiting out the lease');
  t.match(cluster.find(leases, 'kube-scheduler')!.spec, { holderIdentity: 'b', leaseTransitions: 1 });
});
