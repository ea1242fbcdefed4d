// `skiff scheduler`: runs the scheduler daemon against an API server (kubeconfig), optionally with a
// KubeSchedulerConfiguration file and leader election through a Lease.
import { parseArgs } from 'node:util';
import type { ApiServer } from '../apiserver/server.js';
import { createClient } from '../client/create.js';
import { defaultLeaderElection, loadSchedulerConfig, type SchedulerConfig } from '../scheduler/daemon/config.js';
import { runScheduler, type RunningScheduler } from '../scheduler/daemon/run.js';
import { resolveProfile } from '../scheduler/profile.js';

const usage = `usage: skiff scheduler [--kubeconfig FILE] [--config FILE] [--engine wasm|ts] [--seed N]
                       [--leader-elect=true|false] [--batch-size N]
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        config: { type: 'string' },
        engine: { type: 'string' },
        seed: { type: 'string' },
        'leader-elect': { type: 'string' },
        'batch-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`skiff scheduler: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const engine = values.engine;
  if (engine !== undefined && engine !== 'wasm' && engine !== 'ts') {
    process.stderr.write(`skiff scheduler: --engine must be wasm or ts\n`);
    return 2;
  }
  const numberFlag = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  const config: SchedulerConfig = values.config
    ? loadSchedulerConfig(values.config)
    : { profiles: [resolveProfile()], leaderElection: { ...defaultLeaderElection } };
  if (values['leader-elect'] !== undefined) config.leaderElection.leaderElect = values['leader-elect'] !== 'false';
  const client = createClient(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {});
  const running = runScheduler({
    client,
    config,
    engine,
    seed: numberFlag('seed', values.seed),
    batchSize: numberFlag('batch-size', values['batch-size']),
    log: (line) => process.stderr.write(`skiff ${line}\n`),
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.stop());
  const outcome = await running.done;
  await client.close();
  if (outcome === 'lost') process.stderr.write('skiff scheduler: leader election lost\n');
  return outcome === 'lost' ? 1 : 0;
}

/**
 * The scheduler inside `skiff up`: the same daemon, talking to the API server in this process through the direct
 * transport (no sockets or HTTP framing, same handlers, same admission), behind the kube-scheduler Lease like upstream.
 */
export function startInProcessScheduler(server: ApiServer): { running: RunningScheduler; stop(): Promise<void> } {
  const client = createClient({ inject: server.fastify, token: server.adminToken, userAgent: 'skiff-scheduler' });
  const running = runScheduler({
    client,
    config: { profiles: [resolveProfile()], leaderElection: { ...defaultLeaderElection } },
    log: (line) => process.stderr.write(`skiff ${line}\n`),
  });
  void running.done.then((outcome) => {
    if (outcome === 'lost') process.stderr.write('skiff up: scheduler lost its leader lease; scheduling stopped\n');
  });
  return {
    running,
    async stop() {
      await running.stop();
      await client.close();
    },
  };
}
