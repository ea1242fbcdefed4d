// Test helper: a small in-memory Kubernetes-like API for pods (list with paging, chunked watch, CRUD, errors),
// with knobs to expire versions and cut watches so the client's recovery paths can be driven.
import Fastify, { type FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';

type Obj = {
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
};

export interface FakeServer {
  app: FastifyInstance;
  url: string;
  rv(): number;
  /** Versions at or below this are "compacted": watches from them get an ERROR 410 event. */
  compactedBelow: number;
  /** Ends every open watch stream. */
  cutWatches(): void;
  openWatches(): number;
  /** Requests seen, "METHOD path". */
  log: string[];
  put(obj: Obj): void;
  remove(ns: string, name: string): void;
  close(): Promise<void>;
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export async function startFakeServer(opts: { token?: string } = {}): Promise<FakeServer> {
  const app = Fastify();
  let rv = 1;
  const objects = new Map<string, Obj>();
  const history: { type: string; obj: Obj; rv: number }[] = [];
  const watchers = new Set<{ res: ServerResponse; ns?: string; label?: [string, string] }>();
  const log: string[] = [];
  const key = (ns: string, name: string) => `${ns}/${name}`;

  const notify = (type: string, obj: Obj) => {
    history.push({ type, obj, rv });
    for (const w of watchers) {
      if (w.ns && obj.metadata.namespace !== w.ns) continue;
      w.res.write(JSON.stringify({ type, object: obj }) + '\n');
    }
  };
  const put = (obj: Obj) => {
    const k = key(obj.metadata.namespace ?? 'default', obj.metadata.name);
    const existed = objects.has(k);
    rv++;
    const stored = structuredClone(obj);
    stored.metadata.namespace ??= 'default';
    stored.metadata.resourceVersion = String(rv);
    objects.set(k, stored);
    notify(existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  };
  const remove = (ns: string, name: string) => {
    const k = key(ns, name);
    const o = objects.get(k);
    if (!o) return undefined;
    objects.delete(k);
    rv++;
    const gone = { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } };
    notify('DELETED', gone);
    return gone;
  };

  const fake: FakeServer = {
    app,
    url: '',
    rv: () => rv,
    compactedBelow: 0,
    cutWatches() {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    openWatches: () => watchers.size,
    log,
    put: (o) => void put(o),
    remove: (ns, n) => void remove(ns, n),
    close: async () => {
      fake.cutWatches();
      await app.close();
    },
  };

  app.addHook('onRequest', async (req, reply) => {
    log.push(`${req.method} ${req.url}`);
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      reply.code(401).send(status(401, 'Unauthorized', 'Unauthorized'));
      return reply;
    }
  });
  for (const t of [
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
    'application/apply-patch+yaml',
    'application/json-patch+json',
  ]) {
    app.addContentTypeParser(t, { parseAs: 'string' }, (_r, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
  }

  const listOrWatch = async (req: any, reply: any) => {
    const ns: string | undefined = req.params.ns;
    const q = req.query as Record<string, string>;
    if (q.watch === 'true') {
      const from = q.resourceVersion ? Number(q.resourceVersion) : undefined;
      const res: ServerResponse = reply.raw;
      reply.hijack();
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      if (from !== undefined && from < fake.compactedBelow) {
        res.end(
          JSON.stringify({
            type: 'ERROR',
            object: status(410, 'Expired', `too old resource version: ${from} (${fake.compactedBelow})`),
          }) + '\n',
        );
        return;
      }
      if (from === undefined) {
        for (const o of objects.values())
          if (!ns || o.metadata.namespace === ns) res.write(JSON.stringify({ type: 'ADDED', object: o }) + '\n');
      } else {
        for (const h of history)
          if (h.rv > from && (!ns || h.obj.metadata.namespace === ns))
            res.write(JSON.stringify({ type: h.type, object: h.obj }) + '\n');
      }
      if (q.allowWatchBookmarks === 'true') {
        res.write(
          JSON.stringify({
            type: 'BOOKMARK',
            object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(rv) } },
          }) + '\n',
        );
      }
      const w = { res, ns };
      watchers.add(w);
      res.on('close', () => watchers.delete(w));
      return;
    }
    let items = [...objects.values()].filter((o) => !ns || o.metadata.namespace === ns);
    if (q.labelSelector) {
      const [k, v] = q.labelSelector.split('=');
      items = items.filter((o) => (o.metadata.labels as Record<string, string> | undefined)?.[k!] === v);
    }
    items.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    const start = q.continue ? Number(q.continue) : 0;
    const limit = q.limit ? Number(q.limit) : items.length;
    const page = items.slice(start, start + limit);
    const more = start + limit < items.length;
    return {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(rv), ...(more ? { continue: String(start + limit) } : {}) },
      items: page,
    };
  };
  app.get('/api/v1/pods', listOrWatch);
  app.get('/api/v1/namespaces/:ns/pods', listOrWatch);
  app.get('/api/v1/namespaces/:ns/pods/:name', async (req: any, reply) => {
    const o = objects.get(key(req.params.ns, req.params.name));
    if (!o) return reply.code(404).send(status(404, 'NotFound', `pods "${req.params.name}" not found`));
    return o;
  });
  app.post('/api/v1/namespaces/:ns/pods', async (req: any, reply) => {
    const body = req.body as Obj;
    if (!body?.metadata?.name)
      return reply.code(422).send(status(422, 'Invalid', 'Pod "" is invalid: metadata.name: Required value'));
    if (objects.has(key(req.params.ns, body.metadata.name))) {
      return reply.code(409).send(status(409, 'AlreadyExists', `pods "${body.metadata.name}" already exists`));
    }
    body.metadata.namespace = req.params.ns;
    return reply.code(201).send(put(body));
  });
  app.post('/api/v1/namespaces/:ns/pods/:name/binding', async (req: any, reply) => {
    const o = objects.get(key(req.params.ns, req.params.name));
    if (!o) return reply.code(404).send(status(404, 'NotFound', `pods "${req.params.name}" not found`));
    put({ ...o, spec: { ...(o.spec as object), nodeName: (req.body as any).target.name } });
    return reply.code(201).send({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  });
  app.put('/api/v1/namespaces/:ns/pods/:name/status', async (req: any, reply) => {
    const o = objects.get(key(req.params.ns, req.params.name));
    if (!o) return reply.code(404).send(status(404, 'NotFound', `pods "${req.params.name}" not found`));
    return put({ ...o, status: (req.body as Obj).status });
  });
  app.put('/api/v1/namespaces/:ns/pods/:name', async (req: any, reply) => {
    const cur = objects.get(key(req.params.ns, req.params.name));
    const body = req.body as Obj;
    if (!cur) return reply.code(404).send(status(404, 'NotFound', `pods "${req.params.name}" not found`));
    if (body.metadata.resourceVersion && body.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      return reply
        .code(409)
        .send(
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on pods "${req.params.name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        );
    }
    return put(body);
  });
  app.patch('/api/v1/namespaces/:ns/pods/:name', async (req: any, reply) => {
    const cur = objects.get(key(req.params.ns, req.params.name));
    if (!cur) return reply.code(404).send(status(404, 'NotFound', `pods "${req.params.name}" not found`));
    const patch = req.body as any;
    const next = structuredClone(cur) as any;
    next.metadata.labels = { ...(next.metadata.labels ?? {}), ...(patch.metadata?.labels ?? {}) };
    next.patchedWith = String(req.headers['content-type']);
    next.query = req.query;
    return put(next);
  });
  app.delete('/api/v1/namespaces/:ns/pods/:name', async (req: any, reply) => {
    const gone = remove(req.params.ns, req.params.name);
    if (!gone) return reply.code(404).send(status(404, 'NotFound', `pods "${req.params.name}" not found`));
    return { ...gone, deleteOptions: req.body };
  });
  fake.url = await app.listen({ host: '127.0.0.1', port: 0 });
  return fake;
}
