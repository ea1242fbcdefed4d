// Test helper: a tiny fake API server that answers kubectl's discovery and records the bodies of its writes.
import Fastify, { type FastifyInstance } from 'fastify';

export interface Captured {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
}

const core = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    ['namespaces', 'Namespace', false, ['ns']],
    ['services', 'Service', true, ['svc']],
    ['configmaps', 'ConfigMap', true, ['cm']],
    ['secrets', 'Secret', true, []],
    ['pods', 'Pod', true, ['po']],
    ['serviceaccounts', 'ServiceAccount', true, ['sa']],
  ].map(([name, kind, namespaced, shortNames]) => ({
    name,
    singularName: '',
    namespaced,
    kind,
    shortNames,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  })),
};

const groups: Record<string, { version: string; resources: [string, string][] }[]> = {
  apps: [{ version: 'v1', resources: [['deployments', 'Deployment']] }],
  autoscaling: [
    { version: 'v2', resources: [['horizontalpodautoscalers', 'HorizontalPodAutoscaler']] },
    { version: 'v1', resources: [['horizontalpodautoscalers', 'HorizontalPodAutoscaler']] },
  ],
  batch: [{ version: 'v1', resources: [['jobs', 'Job']] }],
};

/** Starts the stub on 127.0.0.1; `reply` builds the JSON answer to a write (default: a minimal object). */
export async function startKubectlStub(): Promise<{ app: FastifyInstance; url: string; captured: Captured[] }> {
  const app = Fastify();
  const captured: Captured[] = [];
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.get('/api', async () => ({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] }));
  app.get('/api/v1', async () => core);
  app.get('/apis', async () => ({
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: Object.entries(groups).map(([name, vs]) => ({
      name,
      versions: vs.map((v) => ({ groupVersion: `${name}/${v.version}`, version: v.version })),
      preferredVersion: { groupVersion: `${name}/${vs[0]!.version}`, version: vs[0]!.version },
    })),
  }));
  for (const [name, vs] of Object.entries(groups)) {
    for (const v of vs) {
      app.get(`/apis/${name}/${v.version}`, async () => ({
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: `${name}/${v.version}`,
        resources: v.resources.flatMap(([r, kind]) => [
          {
            name: r,
            singularName: '',
            namespaced: true,
            kind,
            verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
          },
          ...(r === 'deployments'
            ? [
                {
                  name: `${r}/scale`,
                  singularName: '',
                  namespaced: true,
                  group: 'autoscaling',
                  version: 'v1',
                  kind: 'Scale',
                  verbs: ['get', 'patch', 'update'],
                },
              ]
            : []),
        ]),
      }));
    }
  }
  // kubectl autoscale reads the target first.
  app.get('/apis/apps/v1/namespaces/:ns/deployments/:name', async (req) => {
    const { ns, name } = req.params as { ns: string; name: string };
    return {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name, namespace: ns, uid: 'u1', resourceVersion: '1' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    };
  });
  app.get('/version', async () => ({ major: '1', minor: '32', gitVersion: 'v1.32.0' }));
  app.get('/openapi/v2', async (_req, reply) => reply.code(404).send({}));
  app.get('/openapi/v3', async (_req, reply) => reply.code(404).send({}));
  app.post('/*', async (req, reply) => {
    captured.push({
      method: req.method,
      url: req.url,
      contentType: String(req.headers['content-type'] ?? ''),
      body: req.body as Buffer,
    });
    reply.code(201).header('content-type', 'application/json');
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, captured };
}
