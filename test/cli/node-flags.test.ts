// The V8 flags skiff runs with: which are missing, and benchmarks running themselves again with them.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MALLOC_TUNABLE, missingNodeFlags, NODE_FLAGS, rerunWithNodeFlags } from '../../src/cli/node-flags.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

t.test('missingNodeFlags: flags given in NODE_OPTIONS count, whatever their value or spelling', async (t) => {
  const saved = process.env.NODE_OPTIONS;
  t.teardown(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });
  process.env.NODE_OPTIONS = '';
  t.same(missingNodeFlags(), NODE_FLAGS, 'none given: all missing');
  process.env.NODE_OPTIONS = '--max_semi_space_size=64';
  t.same(missingNodeFlags(), ['--no-memory-reducer'], 'underscores and another value still count');
  process.env.NODE_OPTIONS = '--no-memory-reducer --max-semi-space-size=8';
  t.same(missingNodeFlags(), []);
});

t.test('a benchmark started without the flags runs once more with them and exits as that run did', async (t) => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.GLIBC_TUNABLES;
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'bench', 'nosuch'], { env, encoding: 'utf8' });
  t.equal(r.status, 2, "the child's exit code");
  t.equal(r.stderr.match(/usage: skiff bench/g)?.length, 1, 'the usage is printed once, by the child');
  const direct = spawnSync(process.execPath, [...NODE_FLAGS, '--import', 'tsx', main, 'bench', 'nosuch'], {
    env: { ...env, GLIBC_TUNABLES: MALLOC_TUNABLE },
    encoding: 'utf8',
  });
  t.equal(direct.status, 2);
  t.equal(direct.stderr.match(/usage: skiff bench/g)?.length, 1, 'with the flags given, no second run');
});

t.test(
  'rerunWithNodeFlags: the child runs with the flags and the malloc tunable; its exit code comes back',
  async (t) => {
    const saved = process.env.GLIBC_TUNABLES;
    t.teardown(() => {
      if (saved === undefined) delete process.env.GLIBC_TUNABLES;
      else process.env.GLIBC_TUNABLES = saved;
    });
    process.env.GLIBC_TUNABLES = 'glibc.malloc.arena_max=4';
    const flags = `${JSON.stringify(NODE_FLAGS)}.every((f) => process.execArgv.includes(f))`;
    const tunables = `process.env.GLIBC_TUNABLES === ${JSON.stringify(`glibc.malloc.arena_max=4:${MALLOC_TUNABLE}`)}`;
    t.equal(
      await rerunWithNodeFlags(['-e', `process.exit(${flags} && ${tunables} ? 7 : 3)`]),
      7,
      'added to what was set',
    );
  },
);
