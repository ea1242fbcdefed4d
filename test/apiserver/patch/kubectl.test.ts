// The patch engines driven by the real kubectl through the real API server: client-side apply (three-way
// strategic merge patches with $setElementOrder, $patch: delete and $retainKeys), set image, rollout pause and
// resume, and server-side apply conflicts against an earlier `kubectl scale`.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startApiServer } from '../../../src/apiserver/server.js';

const run = promisify(execFile);
const hasKubectl = (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, 'kubectl')));

function manifest(o: { name?: string; image: string; sidecar?: boolean; strategy?: 'Recreate' | 'RollingUpdate' }) {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name ?? 'web' },
    spec: {
      replicas: 2,
      ...(o.strategy ? { strategy: { type: o.strategy } } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'nginx', image: o.image, ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
            ...(o.sidecar === false ? [] : [{ name: 'side', image: 'busybox' }]),
          ],
        },
      },
    },
  });
}

t.test(
  'kubectl apply, set image, rollout, server-side apply',
  { skip: !hasKubectl && 'kubectl not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-patch-kubectl-'));
    const server = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
    t.teardown(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const file = join(dir, 'm.json');
    const kubectl = async (...args: string[]) => {
      try {
        const r = await run('kubectl', ['--kubeconfig', server.kubeconfigPath, ...args], { timeout: 60_000 });
        return r.stdout.trim();
      } catch (e) {
        return `ERR ${String((e as { stderr?: string }).stderr).trim()}`;
      }
    };
    const get = async (name: string, path: string) => kubectl('get', 'deploy', name, '-o', `jsonpath=${path}`);
    const apply = async (m: string, ...flags: string[]) => {
      writeFileSync(file, m);
      return kubectl('apply', ...flags, '-f', file);
    };

    t.equal(await apply(manifest({ image: 'nginx:1.25' })), 'deployment.apps/web created');
    t.equal(await apply(manifest({ image: 'nginx:1.25' })), 'deployment.apps/web unchanged');
    t.equal(await apply(manifest({ image: 'nginx:1.26' })), 'deployment.apps/web configured');
    t.equal(await get('web', '{.spec.template.spec.containers[*].image}'), 'nginx:1.26 busybox');
    t.equal(await get('web', '{.spec.template.spec.containers[0].env[0].value}'), '1', 'env kept');
    // Dropping the sidecar from the manifest makes kubectl send {"$patch":"delete","name":"side"}.
    t.equal(await apply(manifest({ image: 'nginx:1.26', sidecar: false })), 'deployment.apps/web configured');
    t.equal(await get('web', '{.spec.template.spec.containers[*].name}'), 'nginx');
    // Switching strategy type sends $retainKeys, which must clear the defaulted rollingUpdate block.
    t.equal(
      await apply(manifest({ image: 'nginx:1.26', sidecar: false, strategy: 'Recreate' })),
      'deployment.apps/web configured',
    );
    t.equal(await get('web', '{.spec.strategy}'), '{"type":"Recreate"}');
    t.equal(await kubectl('set', 'image', 'deploy/web', 'nginx=nginx:1.27'), 'deployment.apps/web image updated');
    t.equal(await kubectl('rollout', 'pause', 'deploy/web'), 'deployment.apps/web paused');
    t.equal(await get('web', '{.spec.paused}'), 'true');
    t.equal(await kubectl('rollout', 'resume', 'deploy/web'), 'deployment.apps/web resumed');
    t.equal(await get('web', '{.spec.paused}|{.spec.template.spec.containers[*].image}'), '|nginx:1.27');

    t.equal(
      await apply(manifest({ name: 'ssa', image: 'nginx:1.25' }), '--server-side'),
      'deployment.apps/ssa serverside-applied',
    );
    t.equal(await kubectl('scale', 'deploy/ssa', '--replicas=5'), 'deployment.apps/ssa scaled');
    const conflict = await apply(manifest({ name: 'ssa', image: 'nginx:1.25' }), '--server-side');
    t.match(
      conflict,
      /^ERR error: Apply failed with 1 conflict: conflict with "kubectl[^"]*"[^\n]*: \.spec\.replicas\n/,
    );
    t.equal(await get('ssa', '{.spec.replicas}'), '5', 'a conflict changes nothing');
    t.equal(
      await apply(manifest({ name: 'ssa', image: 'nginx:1.25' }), '--server-side', '--force-conflicts'),
      'deployment.apps/ssa serverside-applied',
    );
    t.equal(await get('ssa', '{.spec.replicas}'), '2');
    const failedTest = await kubectl(
      'patch',
      'deploy',
      'ssa',
      '--type',
      'json',
      '-p',
      '[{"op":"test","path":"/spec/replicas","value":9}]',
    );
    t.match(failedTest, /^ERR The request is invalid/);
  },
);
