// Discovery: legacy documents by default, aggregated discovery (one reply per /api and /apis) when asked for.
import t from 'tap';
import { startTestServer } from './helpers.js';

const v2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const v2beta1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

t.test('aggregated discovery follows the Accept header, legacy otherwise', async (t) => {
  const s = await startTestServer(t);
  // What kubectl 1.30+ sends.
  const apis = await s.req('GET', '/apis', undefined, { accept: `${v2},${v2beta1},application/json` });
  t.equal(apis.status, 200);
  t.equal(apis.headers['content-type'], v2, 'the client reads the format from this exact type');
  t.equal(apis.body.kind, 'APIGroupDiscoveryList');
  t.equal(apis.body.apiVersion, 'apidiscovery.k8s.io/v2');
  const apps = apis.body.items.find((g: any) => g.metadata.name === 'apps');
  t.ok(apps, 'apps group listed');
  const deployments = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
  t.equal(apps.versions[0].version, 'v1');
  t.equal(apps.versions[0].freshness, 'Current');
  t.same(deployments.responseKind, { group: 'apps', version: 'v1', kind: 'Deployment' });
  t.equal(deployments.scope, 'Namespaced');
  t.equal(deployments.singularResource, 'deployment');
  t.same(deployments.shortNames, ['deploy']);
  t.ok(deployments.verbs.includes('watch'));
  const scale = deployments.subresources.find((x: any) => x.subresource === 'scale');
  t.same(scale.responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  t.notOk(
    apis.body.items.some((g: any) => g.metadata.name === ''),
    'the core group is only under /api',
  );

  // What kubectl 1.27-1.29 send.
  const core = await s.req('GET', '/api', undefined, { accept: `${v2beta1},application/json` });
  t.equal(core.headers['content-type'], v2beta1);
  t.equal(core.body.items.length, 1);
  t.equal(core.body.items[0].metadata.name, '');
  const pods = core.body.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
  t.same(
    pods.subresources.map((x: any) => x.subresource).sort(),
    ['binding', 'eviction', 'log', 'status'],
    'subresources by their own name',
  );
  const nodes = core.body.items[0].versions[0].resources.find((r: any) => r.resource === 'nodes');
  t.equal(nodes.scope, 'Cluster');

  // Anything else keeps the legacy documents.
  const legacy = await s.req('GET', '/apis', undefined, { accept: 'application/json' });
  t.equal(legacy.body.kind, 'APIGroupList');
  t.match(legacy.headers['content-type'], /^application\/json/);
  t.equal((await s.req('GET', '/api')).body.kind, 'APIVersions');
});
