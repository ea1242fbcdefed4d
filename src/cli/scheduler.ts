// `skiff scheduler`: runs the scheduler daemon against an API server (kubeconfig), optionally with a
// KubeSchedulerConfiguration file and leader election through a Lease.
import { parseArgs } from 'node:util';
import { createClient } from '../client/create.js';
import { defaultLeaderElection, loadSchedulerConfig, type SchedulerConfig } from '../scheduler/daemon/config.js';
import { runScheduler } from '../scheduler/daemon/run.js';
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
