// `skiff bench gc [--json] [--pods N]`: the garbage collector against an in-process API server (SQLite) — start-up
// (graph built from lists) and how fast it collects N pods of 10 ReplicaSets deleted with each propagation policy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../apiserver/server.js';
import { createClient } from '../../client/create.js';
import { pods as podsAt, replicasets as rsAt } from '../../client/resources.js';
import type { Client, KubeObject } from '../../client/types.js';
import { GarbageCollector } from './collector.js';

const OWNERS = 10;
const NS = 'default';

interface Phase {
  ms: number;
  cpuMs: number;
}

async function createChain(client: Client, pods: number, tag: string): Promise<void> {
  const per = Math.ceil(pods / OWNERS);
  for (let o = 0; o < OWNERS; o++) {
    const name = `${tag}-rs${o}`;
    const rs = (await client.create(rsAt(NS), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name },
      spec: {
        replicas: per,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    })) as KubeObject;
    const ref = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name,
      uid: rs.metadata!.uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    for (let i = 0; i < per; i += 64)
      await Promise.all(
        Array.from({ length: Math.min(64, per - i) }, (_, j) =>
          client.create(podsAt(NS), {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `${name}-${i + j}`, labels: { app: name }, ownerReferences: [ref] },
            spec: { containers: [{ name: 'c', image: 'nginx' }] },
          }),
        ),
      );
  }
}

async function until(cond: () => Promise<boolean>, what: string, limitMs = 600_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(fn: () => Promise<void>): Promise<Phase> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const i = argv.indexOf('--pods');
  const pods = i >= 0 ? Number(argv[i + 1]) : 5000;
  if (!Number.isInteger(pods) || pods < OWNERS) {
    process.stderr.write(`skiff bench gc: --pods must be an integer ≥ ${OWNERS}\n`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-gc-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {} });
  const client = createClient({ inject: server.fastify, token: server.adminToken, userAgent: 'bench' });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let gc: GarbageCollector | undefined;
  try {
    const count = async (res: typeof podsAt | typeof rsAt) => (await client.list(res(NS), { limit: 1 })).items.length;
    const remaining = async (res: typeof podsAt | typeof rsAt) => (await count(res)) === 0;
    const phase = async (policy: 'Background' | 'Foreground' | 'Orphan', tag: string) => {
      await createChain(client, pods, tag);
      return measure(async () => {
        await Promise.all(
          Array.from({ length: OWNERS }, (_, o) =>
            client.delete(rsAt(NS), `${tag}-rs${o}`, { propagationPolicy: policy }),
          ),
        );
        // Done when the owners are gone (what kubectl waits for) and, unless orphaned, their pods.
        await until(() => remaining(rsAt), `${policy} owners`);
        if (policy !== 'Orphan') await until(() => remaining(podsAt), `${policy} pods`);
      });
    };
    gc = new GarbageCollector({ client, log });
    await gc.start();
    const background = await phase('Background', 'bg');
    const foreground = await phase('Foreground', 'fg');
    const orphan = await phase('Orphan', 'or');
    const kept = (await client.list<KubeObject>(podsAt(NS))).items;
    if (
      kept.length !== pods ||
      kept.some((p) => (p.metadata as { ownerReferences?: unknown[] }).ownerReferences?.length)
    )
      throw new Error(`orphaning left ${kept.length} pods (expected ${pods}) or references behind`);
    // Start-up: a fresh collector builds its graph from lists of the orphaned pods plus a new chain.
    await gc.stop();
    await createChain(client, pods, 'start');
    gc = new GarbageCollector({ client, log });
    const start = await measure(() => gc!.start());
    const perSec = (p: Phase) => Math.round((pods / p.ms) * 1000);
    const figures = {
      pods,
      startMs: Math.round(start.ms),
      backgroundPerSec: perSec(background),
      foregroundPerSec: perSec(foreground),
      orphanPerSec: perSec(orphan),
      cpuMsPerPodBackground: +(background.cpuMs / pods).toFixed(3),
      cpuMsPerPodForeground: +(foreground.cpuMs / pods).toFixed(3),
      cpuMsPerPodOrphan: +(orphan.cpuMs / pods).toFixed(3),
    };
    process.stdout.write(
      [
        `garbage collector, ${pods} pods of ${OWNERS} ReplicaSets (API server in the same process; CPU includes it)`,
        `  start-up (lists + graph of ${2 * pods + OWNERS} pods and replicasets): ${figures.startMs} ms, ${Math.round(start.cpuMs)} CPU-ms`,
        `  background: ${figures.backgroundPerSec} pods/s, ${figures.cpuMsPerPodBackground} CPU-ms per pod`,
        `  foreground: ${figures.foregroundPerSec} pods/s, ${figures.cpuMsPerPodForeground} CPU-ms per pod`,
        `  orphan:     ${figures.orphanPerSec} pods/s, ${figures.cpuMsPerPodOrphan} CPU-ms per pod`,
        '',
      ].join('\n'),
    );
    if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    return 0;
  } finally {
    await gc?.stop();
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
