import t from 'tap';
import {
  diff,
  formatPath,
  treeAdd,
  treeDelete,
  treeHas,
  treeHasAtOrBelow,
  treePaths,
} from '../../../src/apiserver/patch/fields.js';
import { schemaForKind } from '../../../src/apiserver/patch/schema.js';

t.test('fieldsV1 trees: add, membership, delete with pruning', (t) => {
  const tree: Record<string, unknown> = {};
  treeAdd(tree, ['f:spec', 'f:replicas']);
  treeAdd(tree, ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"a"}']);
  treeAdd(tree, ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"a"}', 'f:image']);
  t.same(tree, {
    'f:spec': {
      'f:replicas': {},
      'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } } } },
    },
  });
  t.ok(treeHas(tree, ['f:spec', 'f:replicas']));
  t.notOk(treeHas(tree, ['f:spec']), 'intermediate nodes are not members');
  t.ok(treeHasAtOrBelow(tree, ['f:spec']));
  t.same(treePaths(tree).map(formatPath).sort(), [
    '.spec.replicas',
    '.spec.template.spec.containers[name="a"]',
    '.spec.template.spec.containers[name="a"].image',
  ]);
  // Adding below a leaf member keeps the leaf a member.
  treeAdd(tree, ['f:spec', 'f:replicas', 'f:x']);
  t.ok(treeHas(tree, ['f:spec', 'f:replicas']));
  t.ok(treeDelete(tree, ['f:spec', 'f:replicas', 'f:x']));
  t.ok(treeHas(tree, ['f:spec', 'f:replicas']), 'still a member after its child went');
  t.ok(treeDelete(tree, ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"a"}', 'f:image']));
  t.ok(treeHas(tree, ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"a"}']), 'element stays a member');
  t.ok(treeDelete(tree, ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"a"}']));
  t.ok(treeDelete(tree, ['f:spec', 'f:replicas']));
  t.same(tree, {}, 'empty intermediate nodes pruned');
  t.notOk(treeDelete(tree, ['f:nothing']));
  t.end();
});

t.test('diff reports changed and removed paths by key, set value and leaf', (t) => {
  const schema = schemaForKind('Deployment');
  const before = {
    metadata: { name: 'x', resourceVersion: '1', labels: { a: '1', b: '2' }, finalizers: ['f1'] },
    spec: {
      replicas: 1,
      template: {
        spec: {
          containers: [
            { name: 'c', image: 'i1' },
            { name: 'd', image: 'i' },
          ],
          tolerations: [{ key: 'k' }],
        },
      },
    },
  };
  const after = {
    metadata: { name: 'x', resourceVersion: '2', labels: { a: '1', c: '3' }, finalizers: ['f1', 'f2'] },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            { name: 'c', image: 'i2' },
            { name: 'e', image: 'i' },
          ],
          tolerations: [{ key: 'k2' }],
        },
      },
    },
  };
  const { changed, removed } = diff(before, after, schema);
  t.same(changed.map(formatPath).sort(), [
    '.metadata.finalizers[="f2"]',
    '.metadata.labels.c',
    '.spec.replicas',
    '.spec.template.spec.containers[name="c"].image',
    '.spec.template.spec.containers[name="e"]',
    '.spec.template.spec.containers[name="e"].image',
    '.spec.template.spec.containers[name="e"].name',
    '.spec.template.spec.tolerations',
  ]);
  t.same(removed.map(formatPath).sort(), [
    '.metadata.labels.b',
    '.spec.template.spec.containers[name="d"]',
    '.spec.template.spec.containers[name="d"].image',
    '.spec.template.spec.containers[name="d"].name',
  ]);
  t.end();
});
