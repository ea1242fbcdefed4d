// Decodes the protobuf bodies the real kubectl (1.32+, on PATH) sends and compares them with the JSON that
// kubectl 1.31 (which still sends JSON) sends for the same command.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtobuf } from '../../../src/apiserver/protobuf/index.js';
import { startKubectlStub } from './kubectl-stub.js';

const run = promisify(execFile);

function kubectlDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, 'kubectl');
    if (existsSync(p)) return dirname(realpathSync(p));
  }
  return undefined;
}

const commands: string[][] = [
  ['create', 'deployment', 'web', '--image=busybox', '--replicas=2', '--port=80'],
  ['create', 'deployment', 'multi', '--image=busybox', '--image=nginx:1.27'],
  ['create', 'namespace', 'team-a'],
  ['create', 'service', 'clusterip', 's1', '--tcp=80:8080', '--tcp=443'],
  ['create', 'service', 'nodeport', 's2', '--tcp=80:http', '--node-port=30080'],
  ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
  ['create', 'service', 'loadbalancer', 'lb', '--tcp=80:8080'],
  ['create', 'serviceaccount', 'robot'],
  ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.io', '--docker-username=u', '--docker-password=p'],
  ['create', 'configmap', 'c1', '--from-literal=a=b', '--from-literal=long=x y z'],
  ['create', 'secret', 'generic', 's3', '--from-literal=password=s3cr3t', '--type=Opaque'],
  ['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=50'],
];

async function capture(bin: string) {
  const stub = await startKubectlStub();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-kubectl-'));
  writeFileSync(join(dir, 'config'), '');
  try {
    for (const c of commands) {
      await run(
        bin,
        [
          ...c,
          `--server=${stub.url}`,
          `--kubeconfig=${join(dir, 'config')}`,
          `--cache-dir=${join(dir, 'cache')}`,
          '--dry-run=server',
          '-o',
          'name',
        ],
        { timeout: 30000 },
      ).catch(() => undefined);
    }
    return stub.captured;
  } finally {
    await stub.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const dir = kubectlDir();
const has = (v: string) => dir !== undefined && existsSync(join(dir, `kubectl.${v}`));

t.test(
  'kubectl 1.32 protobuf bodies decode to what kubectl 1.31 sends as JSON',
  { skip: !has('1.31') && 'kubectl binaries not installed' },
  async (t) => {
    const [json, proto] = [await capture(join(dir!, 'kubectl.1.31')), await capture(join(dir!, 'kubectl.1.32'))];
    t.equal(json.length, commands.length, 'every command reached the stub (JSON)');
    t.equal(proto.length, commands.length, 'every command reached the stub (protobuf)');
    for (let i = 0; i < commands.length; i++) {
      const want = JSON.parse(json[i]!.body.toString());
      t.match(
        proto[i]!.contentType,
        /application\/vnd\.kubernetes\.protobuf/,
        `${commands[i]!.join(' ')} sent protobuf`,
      );
      t.same(decodeProtobuf(proto[i]!.body), want, commands[i]!.join(' '));
    }
  },
);

t.test(
  'kubectl 1.33 autoscale sends autoscaling/v2',
  { skip: !has('1.33') && 'kubectl 1.33 not installed' },
  async (t) => {
    const proto = await capture(join(dir!, 'kubectl.1.33'));
    const hpa = proto.find((c) => c.url.includes('horizontalpodautoscalers'));
    t.ok(hpa);
    t.same(decodeProtobuf(hpa!.body), {
      kind: 'HorizontalPodAutoscaler',
      apiVersion: 'autoscaling/v2',
      metadata: { name: 'web', creationTimestamp: null },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' },
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        ],
      },
      status: { desiredReplicas: 0 },
    });
  },
);
