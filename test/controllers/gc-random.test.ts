// Randomised ownership graphs (seeded): after each deletion with a random propagation policy the collector must
// converge to exactly the objects and ownerReferences a direct simulation of the upstream rules predicts.
import t from 'tap';
import { resources } from '../../src/client/index.js';
import { controllerEnv, eventually, type Obj } from './fixtures/env.js';
import { mulberry32 } from '../lib/rng.js';

const cms = resources.configmaps('default');
type Policy = 'Background' | 'Foreground' | 'Orphan';

const prng = mulberry32;

/** Expected world: name → owner names (refs to missing uids are named "missing:<n>"). */
type World = Map<string, string[]>;

/** Applies the collector's rules to a fixpoint: objects whose references all point to dead owners die. */
function settle(world: World): World {
  const next = new Map([...world].map(([k, v]) => [k, [...v]]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, owners] of next) {
      if (!owners.length) continue;
      const live = owners.filter((o) => next.has(o));
      if (live.length === owners.length) continue;
      changed = true;
      if (live.length === 0) next.delete(name);
      else next.set(name, live);
    }
  }
  return next;
}

function snapshot(items: Obj[]): World {
  const byUid = new Map(items.map((o) => [o.metadata.uid, o.metadata.name]));
  const w: World = new Map();
  for (const o of items)
    w.set(
      o.metadata.name,
      (o.metadata.ownerReferences ?? []).map((r: Obj) => byUid.get(r.uid) ?? `missing:${r.name}`),
    );
  return w;
}

const show = (w: World) =>
  [...w]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}<-[${[...v].sort().join(',')}]`)
    .join(' ');

for (const seed of [1, 2, 3]) {
  t.test(`seed ${seed}`, async (t) => {
    const rand = prng(seed);
    const env = await controllerEnv(t, ['garbagecollector']);
    const { client } = env;
    const uids = new Map<string, string>();
    let world: World = new Map();
    // 40 objects; each names up to 2 earlier ones, sometimes a uid that exists nowhere.
    for (let i = 0; i < 40; i++) {
      const name = `o${i}`;
      const owners = new Set<string>();
      const n = i === 0 ? 0 : Math.floor(rand() * 3);
      for (let j = 0; j < n; j++) owners.add(`o${Math.floor(rand() * i)}`);
      const refs = [...owners]
        .filter((o) => world.has(o))
        .map((o) => ({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: o,
          uid: uids.get(o)!,
          blockOwnerDeletion: rand() < 0.5,
        }));
      if (rand() < 0.1)
        refs.push({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: `ghost${i}`,
          uid: `ghost-uid-${i}`,
          blockOwnerDeletion: false,
        });
      const created = (await client.create(cms, { metadata: { name, ownerReferences: refs } })) as Obj;
      uids.set(name, created.metadata.uid);
      world.set(
        name,
        refs.map((r) => (r.name.startsWith('ghost') ? `missing:${r.name}` : r.name)),
      );
    }
    const converge = async (what: string) => {
      world = settle(world);
      const want = show(world);
      let got = '';
      await eventually(
        `${what}: ${want}\n got ${got}`,
        async () => {
          got = show(
            snapshot(((await client.list(cms)) as Obj).items.filter((o: Obj) => /^o\d+$/.test(o.metadata.name))),
          );
          return got === want;
        },
        30_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n want ${want}\n got  ${got}`);
      });
      t.pass(what);
    };
    await converge('objects naming only missing owners are collected, dangling references dropped');
    const policies: Policy[] = ['Background', 'Foreground', 'Orphan'];
    for (let step = 0; step < 12 && world.size; step++) {
      // Mostly objects that own something, so deletions cascade.
      const owning = [...new Set([...world.values()].flat())].filter((o) => world.has(o));
      const names = owning.length && rand() < 0.8 ? owning : [...world.keys()];
      const victim = names[Math.floor(rand() * names.length)]!;
      const policy = policies[Math.floor(rand() * policies.length)]!;
      await client.delete(cms, victim, { propagationPolicy: policy });
      world.delete(victim);
      // Orphan: dependents lose the reference; otherwise they are judged by their remaining owners.
      if (policy === 'Orphan')
        for (const [k, v] of world)
          world.set(
            k,
            v.filter((o) => o !== victim),
          );
      const before = world.size;
      await converge(`delete ${victim} (${policy}): ${before} → ${settle(world).size} objects`);
    }
  });
}
