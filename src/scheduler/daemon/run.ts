// Runs the scheduler daemon the way a process does: optionally behind Lease leader election, until stopped or until
// leadership is lost. Used by `skiff scheduler` and meant for `skiff up` (which passes its in-process client).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client } from '../../client/types.js';
import { resolveProfile } from '../profile.js';
import { defaultLeaderElection, type SchedulerConfig } from './config.js';
import { SchedulerDaemon } from './daemon.js';
import { LeaderElector } from '../../client/leader.js';

export interface RunSchedulerOptions {
  client: Client;
  /** Profiles and leader election; default: the default profile with leader election on. */
  config?: SchedulerConfig;
  engine?: 'wasm' | 'ts';
  seed?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface RunningScheduler {
  /** Resolves 'stopped' after stop(), or 'lost' when leadership was lost (the process should exit non-zero). */
  done: Promise<'stopped' | 'lost'>;
  stop(): Promise<void>;
  readonly daemon: SchedulerDaemon;
}

export function runScheduler(o: RunSchedulerOptions): RunningScheduler {
  const config = o.config ?? { profiles: [resolveProfile()], leaderElection: { ...defaultLeaderElection } };
  const log = o.log ?? (() => {});
  const daemon = new SchedulerDaemon({
    client: o.client,
    profiles: config.profiles,
    engine: o.engine,
    seed: o.seed,
    batchSize: o.batchSize,
    log,
  });
  const stop = new AbortController();
  let lost = false;
  let started: Promise<void> | undefined;
  const start = () => {
    started = daemon.start().catch((err: unknown) => {
      log(`scheduler: ${(err as Error).message}`);
      stop.abort();
    });
  };
  const le = config.leaderElection;
  const waitForStop = new Promise<void>((resolve) =>
    stop.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  let leading = false;
  const elector = le.leaderElect
    ? new LeaderElector({
        client: o.client,
        namespace: le.resourceNamespace,
        name: le.resourceName,
        identity: `${hostname()}_${randomBytes(6).toString('hex')}`,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        signal: stop.signal,
        onStartedLeading: () => {
          leading = true;
          log('scheduler: became leader');
          start();
        },
        onStoppedLeading: () => {
          lost = !stop.signal.aborted;
          stop.abort();
        },
      })
    : undefined;
  const elected = elector ? elector.run() : (start(), waitForStop);
  const done = elected.then(async () => {
    await waitForStop;
    await started;
    await daemon.stop();
    // Released only once the daemon stopped binding, so the next leader never overlaps with this one.
    if (elector && leading && !lost) await elector.release();
    return lost ? ('lost' as const) : ('stopped' as const);
  });
  return {
    daemon,
    done,
    async stop() {
      stop.abort();
      await done;
    },
  };
}
