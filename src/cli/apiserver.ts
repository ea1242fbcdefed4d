// `skiff apiserver`: runs the API server alone (store, watch cache, REST, auth/TLS) until SIGTERM/SIGINT.
import { parseStoreFlags } from '../store/index.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../apiserver/server.js';

export interface ServerFlags {
  options: ApiServerOptions;
  nodes: number;
  rest: string[];
}

const usage = `usage: skiff apiserver [--data DIR] [--port PORT] [--bind-address IP] [--insecure-http]
                       [--service-cluster-ip-range CIDR] [--service-node-port-range A-B]
                       [--store sqlite|etcd] [--etcd-endpoints URL,...]`;

/** Flags shared by `skiff apiserver` and `skiff up`. Throws with a clear message on bad values. */
export function parseServerFlags(argv: string[]): ServerFlags {
  const { options: storeOptions, rest: afterStore } = parseStoreFlags(argv);
  const options: ApiServerOptions = { dataDir: './data', port: 6443, storeOptions };
  let nodes = 0;
  const rest: string[] = [];
  for (let i = 0; i < afterStore.length; i++) {
    const arg = afterStore[i]!;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = eq >= 0 ? arg.slice(eq + 1) : afterStore[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    const int = (v: string, min: number, max: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`${name} must be an integer in ${min}..${max}, got "${v}"`);
      return n;
    };
    switch (name) {
      case '--data':
        options.dataDir = value();
        storeOptions.dataDir = options.dataDir;
        break;
      case '--port':
        options.port = int(value(), 0, 65535);
        break;
      case '--bind-address':
        options.host = value();
        break;
      case '--insecure-http':
        options.insecureHttp = true;
        break;
      case '--service-cluster-ip-range':
        options.serviceCidr = value();
        break;
      case '--service-node-port-range': {
        const m = /^(\d+)-(\d+)$/.exec(value());
        if (!m || Number(m[1]) > Number(m[2])) throw new Error(`${name} must look like 30000-32767`);
        options.nodePortRange = [Number(m[1]), Number(m[2])];
        break;
      }
      case '--nodes':
        nodes = int(value(), 0, 10_000);
        break;
      default:
        rest.push(arg);
    }
  }
  return { options, nodes, rest };
}

/** Resolves when SIGTERM or SIGINT arrives. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGTERM', on('SIGTERM'));
    process.once('SIGINT', on('SIGINT'));
  });
}

export async function serveUntilSignal(
  server: ApiServer,
  extra: () => Promise<void> = async () => {},
): Promise<number> {
  const sig = await untilSignal();
  process.stderr.write(`skiff: ${sig}: shutting down\n`);
  await extra();
  await server.close();
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let flags: ServerFlags;
  try {
    flags = parseServerFlags(argv);
    if (flags.rest.length) throw new Error(`unknown argument "${flags.rest[0]}"\n${usage}`);
  } catch (e) {
    process.stderr.write(`skiff apiserver: ${(e as Error).message}\n`);
    return 2;
  }
  const server = await startApiServer(flags.options);
  process.stdout.write(`skiff apiserver ready at ${server.url} (kubeconfig: ${server.kubeconfigPath})\n`);
  return serveUntilSignal(server);
}
