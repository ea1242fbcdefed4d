// The shortcuts on the create path keep their answers: unknown-field pre-check, quantity verdict cache, store
// encoding, the accepted-header cache of token authentication, and the per-second timestamp.
import t from 'tap';
import { encodeForStore } from '../../src/apiserver/codec.js';
import { hasUnknownFields, unknownFields, kindSchema, podSpec } from '../../src/apiserver/schema.js';
import { Errors, validateQuantity } from '../../src/apiserver/validation.js';
import { TokenAuthenticator } from '../../src/apiserver/auth.js';
import { rfc3339 } from '../../src/apiserver/rest.js';
import { mulberry32 } from '../lib/rng.js';

const rng = mulberry32;

const podSchema = kindSchema({ spec: podSpec, status: true });

t.test('hasUnknownFields agrees with unknownFields on varied pods', (t) => {
  const r = rng(42);
  const keys = ['name', 'image', 'labels', 'containers', 'spec', 'metadata', 'imagee', 'constructor', 'toString', 'x'];
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const value = (d: number): unknown => {
    const c = r();
    if (d <= 0 || c < 0.4) return pick(['a', 1, null, true]);
    if (c < 0.75) {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 3; i++) o[pick(keys)] = value(d - 1);
      return o;
    }
    return [value(d - 1), value(d - 1)];
  };
  let withUnknown = 0;
  for (let i = 0; i < 2000; i++) {
    const pod: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    };
    const spec = pod.spec as Record<string, any>;
    if (r() < 0.3) (pod.metadata as Record<string, unknown>)[pick(keys)] = value(2);
    if (r() < 0.3) spec.containers[0][pick(keys)] = value(2);
    if (r() < 0.3) spec[pick(keys)] = value(3);
    if (r() < 0.1) pod[pick(keys)] = value(2);
    const full = unknownFields(pod, podSchema);
    if (full.length) withUnknown++;
    t.equal(hasUnknownFields(pod, podSchema), full.length > 0, JSON.stringify(pod));
    if (hasUnknownFields(pod, podSchema) !== full.length > 0) break;
  }
  t.ok(withUnknown > 200 && withUnknown < 1800, `both answers exercised (${withUnknown} with unknown fields)`);
  t.end();
});

t.test('field names of Object.prototype are unknown fields, not schema entries', (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { constructor: 1, toString: 'x' } };
  t.same(unknownFields(pod, podSchema), ['spec.constructor', 'spec.toString']);
  t.ok(hasUnknownFields(pod, podSchema));
  t.end();
});

t.test('quantity verdicts are the same the first and the second time', (t) => {
  for (const q of ['100m', '64Mi', '-1', '-500m', '1.5.3', 'abc', '', ' 1', 5, -5, 1.5, {}, null]) {
    const first = new Errors();
    validateQuantity(q, 'f', first);
    const second = new Errors();
    validateQuantity(q, 'f', second);
    t.same(second.list, first.list, `quantity ${JSON.stringify(q)}`);
  }
  const neg = new Errors();
  validateQuantity('-1', 'f', neg);
  t.match(neg.list, [{ type: 'FieldValueInvalid', message: /must be greater than or equal to 0/ }]);
  const bad = new Errors();
  validateQuantity('1.5.3', 'f', bad);
  t.match(bad.list, [{ type: 'FieldValueInvalid', message: /quantities must match/ }]);
  const ok = new Errors();
  validateQuantity('64Mi', 'f', ok);
  t.same(ok.list, []);
  t.end();
});

/** The encoding as first written: rest/spread syntax. */
function referenceEncode(obj: Record<string, any>): string {
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = (metadata ?? {}) as Record<string, unknown>;
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

t.test('encodeForStore: same text as the reference encoding, resourceVersion and selfLink dropped', (t) => {
  const cases: Record<string, any>[] = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', resourceVersion: '5', selfLink: '/x' }, spec: {} },
    { spec: { a: 1 }, kind: 'Pod', status: { phase: 'Running' }, metadata: { name: 'p' }, apiVersion: 'v1' },
    { kind: 'ConfigMap', data: { x: 'y' } },
    JSON.parse(
      '{"apiVersion":"v1","kind":"X","metadata":{"__proto__":{"a":1},"resourceVersion":"1"},"__proto__":{"b":2}}',
    ),
    { apiVersion: 'v1', kind: 'X', metadata: null, extra: undefined, z: [1, { y: null }] },
    {},
  ];
  for (const c of cases) t.equal(encodeForStore(c), referenceEncode(c), JSON.stringify(c));
  t.notMatch(encodeForStore(cases[0]!), /resourceVersion|selfLink/);
  t.match(encodeForStore(cases[3]!), /"__proto__":\{"b":2\}/, 'a "__proto__" field stays data');
  t.end();
});

t.test('token authentication: accepted headers are remembered, others still checked', (t) => {
  const auth = new TokenAuthenticator([
    ['good-token', { name: 'admin', uid: 'admin', groups: ['system:masters'] }],
    ['other', { name: 'bob', uid: 'bob', groups: [] }],
  ]);
  for (let i = 0; i < 2; i++) {
    t.equal(auth.authenticate('Bearer good-token')?.name, 'admin');
    t.equal(auth.authenticate('bearer   other ')?.name, 'bob');
    t.equal(auth.authenticate('Bearer good-tokeN'), undefined);
    t.equal(auth.authenticate('Bearer good-token-x'), undefined);
    t.equal(auth.authenticate('Basic good-token'), undefined);
    t.equal(auth.authenticate(''), undefined);
    t.equal(auth.authenticate(undefined), undefined);
  }
  t.end();
});

t.test('rfc3339: second precision, right at second boundaries', (t) => {
  t.equal(rfc3339(new Date('2026-01-02T03:04:05.999Z')), '2026-01-02T03:04:05Z');
  t.equal(rfc3339(new Date('2026-01-02T03:04:06.000Z')), '2026-01-02T03:04:06Z');
  t.equal(rfc3339(new Date('2026-01-02T03:04:05.001Z')), '2026-01-02T03:04:05Z');
  t.equal(rfc3339(new Date('1969-12-31T23:59:59.500Z')), '1969-12-31T23:59:59Z');
  t.end();
});
