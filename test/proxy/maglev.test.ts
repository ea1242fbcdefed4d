// Maglev tables: balance, minimal disruption, order independence, weights, and TS ↔ Wasm parity.
import t from 'tap';
import {
  maglevTable,
  flattenTable,
  sortEndpoints,
  fillTable,
  defaultTableSize,
  TABLE_SIZES,
  isPrime,
  nextPrime,
  type MaglevEndpoint,
} from '../../src/proxy/maglev.js';
import { encodeBatch, fillBatchTs } from '../../src/proxy/lb/batch.js';
import { LbKernel } from '../../src/proxy/lb/wasm.js';
import { TableBuilder, exactTable } from '../../src/proxy/lb/tables.js';
import { mulberry32 } from '../lib/rng.js';

function endpoints(n: number, prefix = '10.1'): MaglevEndpoint[] {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}.${i >> 8}.${i & 255}:8080` }));
}

const rng = mulberry32;

function shares(table: Int32Array, n: number): number[] {
  const count = new Array<number>(n).fill(0);
  for (const s of table) count[s]!++;
  return count;
}

function owners(result: { endpoints: MaglevEndpoint[]; table: Int32Array }): string[] {
  return Array.from(result.table, (i) => result.endpoints[i]!.name);
}

t.test('every slot is filled and shares are balanced when M ≥ 100 × endpoints', async (t) => {
  for (const n of [2, 3, 7, 10, 31, 50]) {
    const m = nextPrime(100 * n);
    const { table } = maglevTable(endpoints(n), m);
    t.equal(table.length, m);
    t.notOk(table.includes(-1), `n=${n}: no empty slot`);
    const c = shares(table, n);
    const ratio = Math.max(...c) / Math.min(...c);
    t.ok(ratio <= 1.1, `n=${n} M=${m}: max/min share ${ratio.toFixed(3)} ≤ 1.1`);
  }
});

// Measured extra movement beyond the removed endpoint's own 1/N: up to ~3% at M ≈ 100·N, ≤ 1.8% at M ≈ 300·N,
// < 1% at M ≈ 1000·N (the paper's point: disruption falls as M grows). So this bound is checked at M ≥ 300·N.
t.test('removing one of N endpoints moves at most 1/N + 2% of the slots (M ≥ 300·N)', async (t) => {
  const random = rng(7);
  for (const n of [3, 5, 10, 20, 40]) {
    const m = nextPrime(300 * n);
    const all = endpoints(n, '10.2');
    const before = owners(maglevTable(all, m));
    for (let trial = 0; trial < 3; trial++) {
      const gone = Math.floor(random() * n);
      const after = owners(
        maglevTable(
          all.filter((_, i) => i !== gone),
          m,
        ),
      );
      let moved = 0;
      for (let s = 0; s < m; s++) if (before[s] !== after[s]) moved++;
      const bound = 1 / n + 0.02;
      t.ok(moved / m <= bound, `n=${n} removing #${gone}: moved ${(moved / m).toFixed(4)} ≤ ${bound.toFixed(4)}`);
      // The removed endpoint's own slots must all have moved (at least 1/N-ish of the table).
      t.ok(moved >= Math.floor(m / n), `n=${n}: the removed endpoint's slots moved`);
    }
  }
});

t.test('the same set gives the same table regardless of input order', async (t) => {
  const random = rng(11);
  const all = endpoints(25, '10.3');
  const reference = owners(maglevTable(all, 2503));
  for (let k = 0; k < 5; k++) {
    const shuffled = [...all].sort(() => random() - 0.5);
    t.same(owners(maglevTable(shuffled, 2503)), reference);
  }
});

t.test('weights give proportional shares', async (t) => {
  const eps: MaglevEndpoint[] = [
    { name: 'a:1', weight: 1 },
    { name: 'b:1', weight: 2 },
    { name: 'c:1', weight: 4 },
    { name: 'd:1', weight: 0 },
  ];
  const { endpoints: sorted, table } = maglevTable(eps, 7001);
  const c = shares(table, 4);
  const byName = Object.fromEntries(sorted.map((e, i) => [e.name, c[i]!]));
  t.equal(byName['d:1'], 0, 'weight 0 gets nothing');
  t.ok(Math.abs(byName['b:1']! / byName['a:1']! - 2) < 0.05, `b/a = ${byName['b:1']! / byName['a:1']!}`);
  t.ok(Math.abs(byName['c:1']! / byName['a:1']! - 4) < 0.1, `c/a = ${byName['c:1']! / byName['a:1']!}`);
  const none = maglevTable([{ name: 'x', weight: 0 }], 13);
  t.same(Array.from(none.table), new Array(13).fill(-1), 'all-zero weights leave the table empty');
});

t.test('bad input is rejected', async (t) => {
  t.throws(() => maglevTable([{ name: 'a' }, { name: 'a' }], 13), /duplicate/);
  t.throws(() => maglevTable([{ name: 'a' }], 0), /positive integer/);
  t.throws(() => maglevTable([{ name: 'a', weight: -1 }], 13), /weight/);
  t.throws(() => maglevTable([{ name: 'a', weight: 1.5 }], 13), /weight/);
});

t.test('default sizes: 1 slot for one endpoint, else a ladder prime ≥ k·N, capped', async (t) => {
  t.equal(defaultTableSize(0), 1);
  t.equal(defaultTableSize(1), 1);
  for (const n of [2, 10, 100, 500]) {
    const m = defaultTableSize(n);
    t.ok(isPrime(m), `${m} prime`);
    t.ok(m >= Math.min(8 * n, 4093), `n=${n}: M=${m} ≥ 8n (capped)`);
  }
  t.equal(defaultTableSize(10_000), 4093);
  for (const p of TABLE_SIZES.slice(1)) t.ok(isPrime(p), `ladder size ${p} is prime`);
});

t.test('exact tables hold each endpoint weight/gcd times, in name order', async (t) => {
  const sorted = sortEndpoints([{ name: 'b' }, { name: 'a' }, { name: 'c' }]);
  t.same(Array.from(exactTable(sorted)!), [0, 1, 2]);
  const weighted = sortEndpoints([
    { name: 'a', weight: 2 },
    { name: 'b', weight: 4 },
  ]);
  t.same(Array.from(exactTable(weighted)!), [0, 1, 1]);
  t.equal(
    exactTable(
      sortEndpoints([
        { name: 'a', weight: 1 },
        { name: 'b', weight: 9999 },
      ]),
    ),
    undefined,
    'too big',
  );
});

t.test('the Wasm kernel fills exactly the tables the TS twin fills', async (t) => {
  const random = rng(3);
  const kernel = new LbKernel();
  const tables = [];
  for (let k = 0; k < 60; k++) {
    const n = Math.floor(random() * 40);
    const eps = endpoints(n, `10.${4 + (k % 50)}`).map((e) => ({
      name: e.name,
      weight: k % 3 === 0 ? Math.floor(random() * 5) : 1,
    }));
    const m = TABLE_SIZES[1 + Math.floor(random() * (TABLE_SIZES.length - 1))]!;
    tables.push(flattenTable(sortEndpoints(eps), m));
  }
  tables.push(flattenTable(sortEndpoints(endpoints(1)), 1));
  const input = encodeBatch(tables);
  const ts = fillBatchTs(input);
  const wasm = kernel.fillBatch(input);
  t.equal(wasm.length, ts.length);
  t.same(Array.from(wasm), Array.from(ts), 'identical slots');
  // And a single table through the plain function, for a direct twin check.
  const one = tables[5]!;
  const direct = new Int32Array(one.m);
  fillTable(one, direct);
  t.same(Array.from(kernel.fillBatch(encodeBatch([one]))), Array.from(direct));
});

t.test('the table builder gives the same tables through the pool, in-thread Wasm and TS', async (t) => {
  const specs = Array.from({ length: 30 }, (_, k) => ({
    endpoints: endpoints(1 + (k % 12), `10.${100 + k}`),
    kind: k % 2 === 0 ? ('maglev' as const) : ('exact' as const),
  }));
  const pooled = new TableBuilder({ threads: 1, poolThresholdSlots: 0 });
  const inThread = new TableBuilder({ threads: 0 });
  const ts = new TableBuilder({ typescriptOnly: true });
  try {
    const [a, b, c] = await Promise.all([pooled.build(specs), inThread.build(specs), ts.build(specs)]);
    const flat = (r: typeof a) => r.map((x) => [x.endpoints.map((e) => e.name), Array.from(x.slots)]);
    t.same(flat(a), flat(c), 'pool = TS');
    t.same(flat(b), flat(c), 'in-thread Wasm = TS');
    t.equal(a[1]!.slots.length, a[1]!.endpoints.length, 'exact table has one slot per endpoint');
    t.ok(a[2]!.slots.length >= 8 * 3, 'maglev table has ≥ 8 slots per endpoint');
  } finally {
    await pooled.close();
  }
});
