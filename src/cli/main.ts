// skiff's command-line entry: dispatches `skiff <command>` to one module per command, loaded on demand.
import { missingMallocTunable, missingNodeFlags, rerunWithNodeFlags } from './node-flags.js';

type CommandModule = { run(argv: string[]): Promise<number | void> };

/** Each command lives in its own file under src/cli/ and exports run(argv). */
const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  apiserver: { summary: 'run the API server alone', load: () => import('./apiserver.js') },
  up: {
    summary: 'run the all-in-one control plane (API server, later scheduler, controllers, nodes)',
    load: () => import('./up.js'),
  },
  bench: { summary: 'run a benchmark (store | api | scheduler | proxy)', load: () => import('./bench.js') },
  scheduler: {
    summary: 'run the scheduler daemon (kube-scheduler default profile)',
    load: () => import('./scheduler.js'),
  },
  proxy: {
    summary: 'run the service proxy (Services → nftables/iptables on this node)',
    load: () => import('./proxy.js'),
  },
  'controller-manager': {
    summary: 'run the controllers (garbage collector, pod GC)',
    load: () => import('../controllers/cli.js'),
  },
  // one line per command, e.g.  up: { summary: '…', load: () => import('./up.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: skiff <command> [flags]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`skiff: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  // Benchmarks measure skiff as it runs (see node-flags.ts), however they were started.
  if (name === 'bench' && (missingNodeFlags().length > 0 || missingMallocTunable())) return rerunWithNodeFlags();
  let mod: CommandModule;
  try {
    mod = await command.load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write(`skiff: command "${name}" is not built in this version\n`);
      return 2;
    }
    throw err;
  }
  return (await mod.run(rest)) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`skiff: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
