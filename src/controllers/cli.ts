// `skiff controller-manager`: runs the controllers against an API server (kubeconfig) behind the
// kube-system/kube-controller-manager Lease, like kube-controller-manager.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { createClient } from '../client/create.js';
import { LeaderElector } from '../client/leader.js';
import { controllerTable, startControllers, type RunningControllers } from './index.js';

const usage = `usage: skiff controller-manager [--kubeconfig FILE] [--controllers NAME,...|*,-NAME]
                                [--leader-elect=true|false]
controllers: ${Object.keys(controllerTable).join(', ')}
`;

/** kube-controller-manager's --controllers: "*" = all, "name" = on, "-name" = off. */
export function selectControllers(spec: string): string[] {
  const known = Object.keys(controllerTable);
  const items = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) {
    const n = i.replace(/^-/, '');
    if (n !== '*' && !known.includes(n)) throw new Error(`unknown controller "${n}" (known: ${known.join(', ')})`);
  }
  const all = items.includes('*');
  return known.filter((n) => !items.includes(`-${n}`) && (all || items.includes(n)));
}

export async function run(argv: string[]): Promise<number> {
  let values;
  let names: string[];
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        controllers: { type: 'string', default: '*' },
        'leader-elect': { type: 'string', default: 'true' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (!['true', 'false'].includes(values['leader-elect']!)) throw new Error('--leader-elect must be true or false');
    names = selectControllers(values.controllers!);
  } catch (err) {
    process.stderr.write(`skiff controller-manager: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`skiff ${line}\n`);
  const client = createClient(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {});
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
  let running: RunningControllers | undefined;
  let lost = false;
  let leading: Promise<void> | undefined;
  const lead = async () => {
    running = await startControllers({ client, log }, names);
    log(`controller-manager: started ${running.controllers.map((c) => c.name).join(', ') || 'nothing'}`);
  };
  if (values['leader-elect'] === 'true') {
    // Upstream defaults: leaseDuration 15 s, renewDeadline 10 s, retryPeriod 2 s.
    const elector = new LeaderElector({
      client,
      namespace: 'kube-system',
      name: 'kube-controller-manager',
      identity: `${hostname()}_${randomUUID()}`,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      signal: stop.signal,
      onStartedLeading: () => {
        log('controller-manager: became leader');
        leading = lead().catch((e) => {
          log(`controller-manager: ${(e as Error).message}`);
        });
      },
      onStoppedLeading: () => {
        // Upstream exits when it loses the lease so that two managers never act at once.
        if (!stop.signal.aborted) {
          lost = true;
          stop.abort();
        }
      },
    });
    await elector.run();
    // Controllers still starting are stopped once they are up, never left running behind a lost lease.
    await leading;
    await running?.stop();
    if (!lost) await elector.release();
  } else {
    await lead();
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    await running?.stop();
  }
  await client.close();
  if (lost) log('controller-manager: leader election lost');
  return lost ? 1 : 0;
}
