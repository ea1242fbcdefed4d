import t from 'tap';
import { parseQuantity, milliValue, value, formatQuantity, isQuantity } from '../../src/api/quantity.js';

t.test('milli and whole values round up like upstream', (t) => {
  const cases: [string, number, number][] = [
    ['100m', 100, 1],
    ['1', 1000, 1],
    ['0.5', 500, 1],
    ['2', 2000, 2],
    ['1e3', 1_000_000, 1000],
    ['1.5k', 1_500_000, 1500],
    ['500Mi', 500 * 1024 * 1024 * 1000, 500 * 1024 * 1024],
    ['1Gi', 1024 ** 3 * 1000, 1024 ** 3],
    ['1n', 1, 1],
    ['0', 0, 0],
    ['-100m', -100, 0],
    ['1.0001', 1001, 2],
  ];
  for (const [text, milli, whole] of cases) {
    t.equal(milliValue(text), milli, `${text} milli`);
    t.equal(value(text), whole, `${text} value`);
  }
  t.end();
});

t.test('rejects garbled input', (t) => {
  for (const bad of ['', 'abc', '1.2.3', '5Mb', ' 1', '1 ', '--1', 'Mi', '1e', '1Ki2', '0x10', '1e3Mi']) {
    t.notOk(isQuantity(bad), JSON.stringify(bad));
    t.throws(() => parseQuantity(bad));
  }
  t.ok(isQuantity(3));
  t.notOk(isQuantity(NaN));
  t.end();
});

t.test('canonical form', (t) => {
  const cases: [string, string][] = [
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1024Ki', '1Mi'],
    ['1536Mi', '1536Mi'],
    ['2000', '2k'],
    ['1e3', '1e3'],
    ['100m', '100m'],
    ['0', '0'],
  ];
  for (const [text, canonical] of cases) t.equal(formatQuantity(text), canonical, text);
  t.end();
});
