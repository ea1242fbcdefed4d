// `skiff up`: the all-in-one process. Starts the API server, the scheduler and the controllers (node agents join in
// a later issue), writes DIR/kubeconfig, prints a line containing "ready", and shuts down cleanly on SIGTERM.
import { startApiServer } from '../apiserver/server.js';
import { parseServerFlags, serveUntilSignal } from './apiserver.js';
import { startInProcessScheduler } from './scheduler.js';
import { startInProcessControllers } from '../controllers/inprocess.js';

const usage = `usage: skiff up [--data DIR] [--port PORT] [--nodes N] [--store sqlite|etcd] [--etcd-endpoints URL,...]
                [--bind-address IP] [--insecure-http] [--service-cluster-ip-range CIDR]`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let flags;
  try {
    flags = parseServerFlags(argv);
    if (flags.rest.length) throw new Error(`unknown argument "${flags.rest[0]}"\n${usage}`);
  } catch (e) {
    process.stderr.write(`skiff up: ${(e as Error).message}\n`);
    return 2;
  }
  const server = await startApiServer(flags.options);
  // --nodes N: 0 = control plane only. Node agents join in later issues.
  if (flags.nodes > 0)
    process.stderr.write(`skiff up: --nodes ${flags.nodes}: node agents are not part of this build yet\n`);
  // --- scheduler (issue 4): the daemon on the in-process client, leader-elected through the kube-scheduler Lease ---
  const scheduler = startInProcessScheduler(server);
  // --- end scheduler ---
  // --- controllers: garbage collector (and later ones) on the in-process client, synced before "ready" ---
  const controllers = await startInProcessControllers(server);
  // --- end controllers ---
  process.stdout.write(
    `skiff up: control plane ready at ${server.url}; kubeconfig written to ${server.kubeconfigPath}\n`,
  );
  return serveUntilSignal(server, async () => {
    await scheduler.stop();
    await controllers.stop();
  });
}
