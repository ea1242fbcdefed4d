// The real kubectl against `skiff up` (garbage collector running): `delete --cascade=background|foreground|orphan`
// on a hand-made Deployment → ReplicaSet → Pod chain, `delete ns`, `edit` with a scripted EDITOR (valid and invalid
// edits), and graceful pod deletion with and without a node.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSkiffUp } from '../lib/skiff-up.js';

const template = (app: string) => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] },
});

t.test('kubectl delete cascades and edit against skiff up', async (t) => {
  const up = await startSkiffUp(t, 'skiff-kubectl-gc-', ['--nodes', '0']);
  const { dir, until } = up;
  const k = up.kubectl;
  const kFail = up.kubectlFails;
  const apply = (obj: unknown) => k(['apply', '-f', '-'], { input: JSON.stringify(obj) });
  const jp = (args: string[], path: string) => k([...args, '-o', `jsonpath={${path}}`]);
  const names = async (what: string, ns: string) => (await k(['get', what, '-n', ns, '-o', 'name'])).trim();

  /** Deployment → ReplicaSet → two Pods in `ns`, linked by hand with the real uids (no deployment controller). */
  const chain = async (ns: string, name: string) => {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: template(name) },
    });
    const dUid = await jp(['get', 'deploy', name, '-n', ns], '.metadata.uid');
    const ref = (kind: string, n: string, uid: string) => ({
      apiVersion: kind === 'Deployment' ? 'apps/v1' : 'apps/v1',
      kind,
      name: n,
      uid,
      controller: true,
      blockOwnerDeletion: true,
    });
    await apply({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${name}-rs`, namespace: ns, ownerReferences: [ref('Deployment', name, dUid)] },
      spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: template(name) },
    });
    const rsUid = await jp(['get', 'rs', `${name}-rs`, '-n', ns], '.metadata.uid');
    for (const p of ['a', 'b'])
      await apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${name}-${p}`,
          namespace: ns,
          labels: { app: name },
          ownerReferences: [ref('ReplicaSet', `${name}-rs`, rsUid)],
        },
        spec: template(name).spec,
      });
    return { dUid, rsUid };
  };

  await k(['create', 'namespace', 'gc']);

  await t.test('--cascade=background: the owner goes at once, the garbage collector takes the rest', async (t) => {
    await chain('gc', 'bg');
    t.match(await k(['delete', 'deploy', 'bg', '-n', 'gc', '--cascade=background']), /deployment\.apps "bg" deleted/);
    await until('replicaset and pods collected', async () => {
      const left = `${await names('rs', 'gc')} ${await names('pods', 'gc')}`;
      return !/bg-/.test(left);
    });
    t.pass('replicaset and pods deleted');
  });

  await t.test('--cascade=foreground: dependents are gone before kubectl sees the owner go', async (t) => {
    await chain('gc', 'fg');
    // kubectl waits (default --wait=true) until the owner itself is gone.
    t.match(await k(['delete', 'deploy', 'fg', '-n', 'gc', '--cascade=foreground']), /deployment\.apps "fg" deleted/);
    t.equal(await names('deploy', 'gc'), '', 'deployment gone');
    t.notMatch(await names('rs', 'gc'), /fg-rs/, 'replicaset already gone');
    t.notMatch(await names('pods', 'gc'), /fg-/, 'pods already gone');
  });

  await t.test('foreground deletion is visible while it waits', async (t) => {
    await chain('gc', 'fw');
    // A finalizer of our own on a pod holds the chain, so the waiting state can be observed.
    await k([
      'patch',
      'pod',
      'fw-a',
      '-n',
      'gc',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    await k(['delete', 'deploy', 'fw', '-n', 'gc', '--cascade=foreground', '--wait=false']);
    await until('replicaset terminating in the foreground', async () =>
      (await jp(['get', 'rs', 'fw-rs', '-n', 'gc'], '.metadata.finalizers')).includes('foregroundDeletion'),
    );
    t.match(await jp(['get', 'deploy', 'fw', '-n', 'gc'], '.metadata.finalizers'), /foregroundDeletion/);
    t.not(await jp(['get', 'deploy', 'fw', '-n', 'gc'], '.metadata.deletionTimestamp'), '', 'deployment terminating');
    await until('pod fw-b deleted', async () => !(await names('pods', 'gc')).includes('fw-b'));
    t.match(await names('pods', 'gc'), /fw-a/, 'the held pod stays');
    t.match(await names('deploy', 'gc'), /fw/, 'so the deployment waits');
    await k(['patch', 'pod', 'fw-a', '-n', 'gc', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await until('deployment gone', async () => (await names('deploy', 'gc')) === '');
    t.notMatch(await names('rs', 'gc'), /fw-rs/, 'replicaset gone');
  });

  await t.test('--cascade=orphan: dependents stay without the ownerReference', async (t) => {
    const { rsUid } = await chain('gc', 'or');
    t.match(await k(['delete', 'deploy', 'or', '-n', 'gc', '--cascade=orphan']), /deployment\.apps "or" deleted/);
    t.equal(await names('deploy', 'gc'), '', 'deployment gone');
    t.equal(await jp(['get', 'rs', 'or-rs', '-n', 'gc'], '.metadata.uid'), rsUid, 'the same replicaset is kept');
    t.equal(await jp(['get', 'rs', 'or-rs', '-n', 'gc'], '.metadata.ownerReferences'), '', 'with no ownerReferences');
    t.equal(
      await jp(['get', 'pod', 'or-a', '-n', 'gc'], '.metadata.ownerReferences[0].uid'),
      rsUid,
      'pods still belong to the replicaset',
    );
    // Deleting the orphaned replicaset now collects its pods.
    await k(['delete', 'rs', 'or-rs', '-n', 'gc']);
    await until('pods collected', async () => !/or-/.test(await names('pods', 'gc')));
    t.pass('pods of the orphaned replicaset go with it');
  });

  await t.test('a dependent naming an owner uid that does not exist is collected', async (t) => {
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owner', namespace: 'gc' },
      data: { a: '1' },
    });
    const uid = await jp(['get', 'cm', 'owner', '-n', 'gc'], '.metadata.uid');
    const dep = (name: string, ownerUid: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: 'gc',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: ownerUid }],
      },
    });
    await apply(dep('right-uid', uid));
    await apply(dep('wrong-uid', '6a1d1a6e-0000-4000-8000-000000000000'));
    await until('wrong-uid collected', async () => !(await names('cm', 'gc')).includes('wrong-uid'));
    t.match(await names('cm', 'gc'), /right-uid/, 'the dependent of the existing owner stays');
  });

  await t.test('kubectl edit with a scripted EDITOR', async (t) => {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ed', namespace: 'gc' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'ed' } }, template: template('ed') },
    });
    const rv = await jp(['get', 'deploy', 'ed', '-n', 'gc'], '.metadata.resourceVersion');
    t.match(
      await k(['edit', 'deploy', 'ed', '-n', 'gc'], { env: { EDITOR: 'sed -i s/nginx:1.25/nginx:1.27/' } }),
      /deployment\.apps\/ed edited/,
    );
    t.equal(await jp(['get', 'deploy', 'ed', '-n', 'gc'], '.spec.template.spec.containers[0].image'), 'nginx:1.27');
    t.equal(await jp(['get', 'deploy', 'ed', '-n', 'gc'], '.metadata.generation'), '2', 'generation bumped');
    t.not(await jp(['get', 'deploy', 'ed', '-n', 'gc'], '.metadata.resourceVersion'), rv);

    // A scripted editor that records every buffer kubectl hands it, then applies one idempotent replacement
    // (kubectl reopens the buffer with the error on top; an unchanged second round cancels the edit).
    const seen = join(dir, 'editor-seen.txt');
    const script = join(dir, 'editor.cjs');
    writeFileSync(
      script,
      [
        "const fs = require('fs');",
        'const [from, to, file] = process.argv.slice(2);',
        'const text = fs.readFileSync(file, "utf8");',
        `fs.appendFileSync(${JSON.stringify(seen)}, text + "\\n----\\n");`,
        'fs.writeFileSync(file, text.split(from).join(to));',
      ].join('\n'),
    );
    const editor = (from: string, to: string) => `node ${script} '${from}' '${to}'`;

    // An edit the server rejects: kubectl shows the Invalid error, nothing stored changes.
    const before = await k(['get', 'deploy', 'ed', '-n', 'gc', '-o', 'json']);
    writeFileSync(seen, '');
    const bad = await kFail(['edit', 'deploy', 'ed', '-n', 'gc'], {
      env: { EDITOR: editor('replicas: 1', 'replicas: -3') },
    });
    t.match(bad, /deployments\.apps "ed" is invalid/);
    t.match(bad, /Edit cancelled, no valid changes were saved/);
    t.match(
      readFileSync(seen, 'utf8'),
      /# \* spec\.replicas: Invalid value: -3: must be greater than or equal to 0/,
      "the reopened buffer carries the server's field error",
    );
    t.equal(await k(['get', 'deploy', 'ed', '-n', 'gc', '-o', 'json']), before, 'stored object unchanged');

    // Content that is not YAML at all: kubectl's own error, nothing sent, nothing changed.
    writeFileSync(seen, '');
    const garbled = await kFail(['edit', 'deploy', 'ed', '-n', 'gc'], {
      env: { EDITOR: editor('kind: Deployment', 'kind: [Deployment') },
    });
    t.match(garbled, /Edit cancelled, no valid changes were saved/);
    t.match(
      readFileSync(seen, 'utf8'),
      /# \* <nil>: Invalid value: "The edited file failed validation": yaml: line \d+/,
    );
    t.equal(await k(['get', 'deploy', 'ed', '-n', 'gc', '-o', 'json']), before, 'stored object unchanged');

    // Editing a config map's data.
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: 'gc' },
      data: { mode: 'old' },
    });
    await k(['edit', 'cm', 'cfg', '-n', 'gc'], { env: { EDITOR: 'sed -i s/mode:\\ old/mode:\\ new/' } });
    t.equal(await jp(['get', 'cm', 'cfg', '-n', 'gc'], '.data.mode'), 'new');
  });

  await t.test('pods: unbound ones go at once, bound ones wait for their node agent', async (t) => {
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'free', namespace: 'gc' },
      spec: template('x').spec,
    });
    // Default grace period, default --wait: returns once the pod is gone (nothing runs it, so nothing to stop).
    t.match(await k(['delete', 'pod', 'free', '-n', 'gc']), /pod "free" deleted/);
    t.notMatch(await names('pods', 'gc'), /pod\/free/);
    // Bound to a node (no node agent here): like upstream, it stays Terminating until its kubelet confirms. The
    // node is cordoned so the scheduler places nothing else on it.
    await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { unschedulable: true } });
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bound', namespace: 'gc' },
      spec: { ...template('x').spec, nodeName: 'n1' },
    });
    await k(['delete', 'pod', 'bound', '-n', 'gc', '--wait=false']);
    t.not(await jp(['get', 'pod', 'bound', '-n', 'gc'], '.metadata.deletionTimestamp'), '', 'terminating');
    t.equal(await jp(['get', 'pod', 'bound', '-n', 'gc'], '.metadata.deletionGracePeriodSeconds'), '30');
    t.match(await k(['get', 'pod', 'bound', '-n', 'gc']), /Terminating/);
    t.match(await k(['delete', 'pod', 'bound', '-n', 'gc', '--grace-period=0', '--force']), /"bound" force deleted/);
    t.notMatch(await names('pods', 'gc'), /pod\/bound/);
    await k(['delete', 'node', 'n1']);
  });

  await t.test('kubectl delete ns removes everything in it', async (t) => {
    await k(['create', 'namespace', 'doomed']);
    await chain('doomed', 'app');
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'doomed' },
      data: { a: 'b' },
    });
    await k(['create', 'service', 'clusterip', 'svc', '-n', 'doomed', '--tcp=80:80']);
    t.match(await k(['delete', 'ns', 'doomed']), /namespace "doomed" deleted/);
    t.match(await kFail(['get', 'ns', 'doomed']), /NotFound|not found/);
    for (const what of ['deploy', 'rs', 'pods', 'cm', 'svc'])
      t.equal(await names(what, 'doomed'), '', `no ${what} left`);
    t.match(await names('ns', 'gc'), /namespace\/gc/, 'other namespaces stay');
  });

  const code = await up.stop();
  t.equal(code, 0, 'skiff up stops cleanly with the controllers running');
});
