import t from 'tap';
import {
  parseLabelSelector,
  matches,
  selectorFromObject,
  parseFieldSelector,
  fieldsMatch,
  formatSelector,
  labelKeyError,
} from '../../src/api/selectors.js';

t.test('set-based label selectors', (t) => {
  const labels = { app: 'web', tier: 'front', version: '3' };
  const yes = [
    'app=web',
    'app==web',
    'app!=db',
    'tier in (front,back)',
    'tier notin (db)',
    'app',
    '!missing',
    'app=web,tier',
    'version>2',
    'version<4',
    '',
  ];
  const no = [
    'app=db',
    'app!=web',
    'tier in (back)',
    'tier notin (front)',
    'missing',
    '!app',
    'app=web,missing',
    'version>3',
  ];
  for (const s of yes) t.ok(matches(parseLabelSelector(s), labels), `matches ${s}`);
  for (const s of no) t.notOk(matches(parseLabelSelector(s), labels), `does not match ${s}`);
  t.same(formatSelector(parseLabelSelector('a in (y,x),!b,c!=d')), 'a in (x,y),!b,c!=d');
  t.end();
});

t.test('rejects malformed selectors', (t) => {
  for (const s of ['app=(', 'in (a)', 'a in a', 'a in (a', '=a', 'a b', 'a>x', '-bad-=x'])
    t.throws(() => parseLabelSelector(s), s);
  t.ok(labelKeyError('a/b/c'));
  t.notOk(labelKeyError('example.com/app'));
  t.end();
});

t.test('LabelSelector objects', (t) => {
  t.notOk(matches(selectorFromObject(undefined), { a: 'b' }), 'nil selects nothing');
  t.ok(matches(selectorFromObject({}), { a: 'b' }), 'empty selects everything');
  const s = selectorFromObject({
    matchLabels: { a: 'b' },
    matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['d'] }],
  });
  t.ok(matches(s, { a: 'b' }));
  t.notOk(matches(s, { a: 'b', c: 'd' }));
  t.throws(() => selectorFromObject({ matchExpressions: [{ key: 'c', operator: 'Near' }] }));
  t.end();
});

t.test('field selectors', (t) => {
  const f = parseFieldSelector('metadata.name=web,status.phase!=Running');
  t.ok(fieldsMatch(f, { 'metadata.name': 'web', 'status.phase': 'Pending' }));
  t.notOk(fieldsMatch(f, { 'metadata.name': 'web', 'status.phase': 'Running' }));
  t.same(parseFieldSelector('spec.nodeName==')[0], { field: 'spec.nodeName', operator: '=', value: '' });
  t.throws(() => parseFieldSelector('nonsense'));
  t.end();
});
