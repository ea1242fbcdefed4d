// `skiff bench <name>`: one benchmark module per subsystem under src/bench/, each printing figures and,
// with --json, one JSON object on its last line.

type Bench = { run(argv: string[]): Promise<number | void> };

const benches: Record<string, () => Promise<Bench>> = {
  // one line per benchmark, e.g.  store: () => import('../bench/store.js'),
  proxy: () => import('../bench/proxy.js'),
  api: () => import('../bench/api.js'),
  scheduler: () => import('../bench/scheduler.js'),
  store: () => import('../bench/store.js'),
  gc: () => import('../controllers/gc/bench.js'),
};

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? benches[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: skiff bench <${Object.keys(benches).join(' | ')}> [--json]\n`);
    return 2;
  }
  return (await (await load()).run(rest)) ?? 0;
}
