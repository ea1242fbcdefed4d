// `skiff scheduler`: runs the scheduler daemon against an API server (kubeconfig), optionally with a
// KubeSchedulerConfiguration file and leader election through a Lease.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createClient } from '../client/create.js';
import { defaultLeaderElection, loadSchedulerConfig, type SchedulerConfig } from '../scheduler/daemon/config.js';
import { SchedulerDaemon } from '../scheduler/daemon/daemon.js';
import { LeaderElector } from '../scheduler/daemon/leader.js';
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
  const config: SchedulerConfig = values.config
    ? loadSchedulerConfig(values.config)
    : { profiles: [resolveProfile()], leaderElection: defaultLeaderElection };
  if (values['leader-elect'] !== undefined) config.leaderElection.leaderElect = values['leader-elect'] !== 'false';
  const client = createClient(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {});
  const daemon = new SchedulerDaemon({
    client,
    profiles: config.profiles,
    engine,
    seed: values.seed ? Number(values.seed) : undefined,
    batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
    log: (line) => process.stderr.write(line + '\n'),
  });
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
  let lost = false;
  if (config.leaderElection.leaderElect) {
    const le = config.leaderElection;
    const elector = new LeaderElector({
      client,
      namespace: le.resourceNamespace,
      name: le.resourceName,
      identity: `${hostname()}_${randomBytes(6).toString('hex')}`,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      signal: stop.signal,
      onStartedLeading: () => {
        process.stderr.write('skiff scheduler: became leader\n');
        daemon.start().catch((err) => {
          process.stderr.write(`skiff scheduler: ${(err as Error).message}\n`);
          stop.abort();
        });
      },
      onStoppedLeading: () => {
        lost = !stop.signal.aborted;
        stop.abort();
      },
    });
    await elector.run();
  } else {
    await daemon.start();
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  await daemon.stop();
  await client.close();
  if (lost) process.stderr.write('skiff scheduler: leader election lost\n');
  return lost ? 1 : 0;
}
