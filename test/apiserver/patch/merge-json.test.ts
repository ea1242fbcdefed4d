import t from 'tap';
import { applyJsonPatch, applyMergePatch } from '../../../src/apiserver/patch/index.js';
import { StatusError } from '../../../src/api/status.js';
import { statusCodeOf as codeOf } from '../../lib/status-code.js';

t.test('merge patch follows RFC 7386 appendix A', (t) => {
  // A selection of the RFC's example table.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    [{ a: 'foo' }, {}, { a: 'foo' }],
  ];
  for (const [target, patch, want] of cases) t.same(applyMergePatch(target, patch), want, JSON.stringify(patch));
  t.end();
});

t.test('merge patch does not mutate its inputs and rejects non-object patches', (t) => {
  const target = { metadata: { labels: { a: '1' } } };
  const patch = { metadata: { labels: { b: '2' } } };
  const out = applyMergePatch(target, patch);
  t.same(out, { metadata: { labels: { a: '1', b: '2' } } });
  t.same(target, { metadata: { labels: { a: '1' } } });
  for (const bad of [null, 3, 'x'])
    t.equal(
      codeOf(() => applyMergePatch(target, bad)),
      400,
    );
  t.end();
});

t.test('JSON patch operations', (t) => {
  const doc = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } };
  const out = applyJsonPatch(doc, [
    { op: 'replace', path: '/spec/replicas', value: 3 },
    { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'b', image: 'y' } },
    { op: 'add', path: '/spec/template/spec/containers/0/args', value: ['--v'] },
    { op: 'copy', from: '/spec/replicas', path: '/spec/copied' },
    { op: 'move', from: '/spec/copied', path: '/spec/moved' },
    { op: 'test', path: '/spec/moved', value: 3 },
    { op: 'add', path: '/metadata', value: { labels: { 'a/b': 'c' } } },
    { op: 'remove', path: '/metadata/labels/a~1b' },
  ]);
  t.same(out, {
    spec: {
      replicas: 3,
      moved: 3,
      template: {
        spec: {
          containers: [
            { name: 'a', image: 'x', args: ['--v'] },
            { name: 'b', image: 'y' },
          ],
        },
      },
    },
    metadata: { labels: {} },
  });
  t.equal(doc.spec.replicas, 1, 'input untouched');
  t.end();
});

t.test('JSON patch errors map to the statuses kube-apiserver returns', (t) => {
  const doc = { spec: { replicas: 1 } };
  const code = (ops: unknown) => {
    try {
      applyJsonPatch(doc, ops);
      return 0;
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      return e.code;
    }
  };
  // Decoding problems are 400.
  t.equal(code({ op: 'add' }), 400, 'object instead of array');
  t.equal(code([{ op: 'frobnicate', path: '/a' }]), 400, 'unknown op');
  t.equal(code([{ op: 'add', path: '/a' }]), 400, 'add without value');
  t.equal(code([{ op: 'move', path: '/a' }]), 400, 'move without from');
  // Failures while applying are 422 Invalid with upstream's generic message.
  let err: StatusError | undefined;
  try {
    applyJsonPatch(doc, [{ op: 'test', path: '/spec/replicas', value: 2 }]);
  } catch (e) {
    err = e as StatusError;
  }
  t.equal(err?.code, 422);
  t.equal(err?.reason, 'Invalid');
  t.equal(err?.message, 'the server rejected our request due to an error in our request');
  t.match(err?.status.details?.causes?.[0]?.message, /testing value \/spec\/replicas failed/);
  t.equal(code([{ op: 'remove', path: '/spec/nope' }]), 422, 'remove missing key');
  t.equal(code([{ op: 'replace', path: '/spec/nope', value: 1 }]), 422, 'replace missing key');
  t.equal(code([{ op: 'add', path: '/a/b/c', value: 1 }]), 422, 'add under missing parent');
  t.equal(code([{ op: 'add', path: '/spec/replicas/x', value: 1 }]), 422, 'add into a scalar');
  t.equal(code([{ op: 'test', path: '/spec/replicas', value: 1 }]), 0, 'passing test');
  t.equal(code(new Array(10001).fill({ op: 'test', path: '/spec/replicas', value: 1 })), 413, 'too many ops');
  t.end();
});
