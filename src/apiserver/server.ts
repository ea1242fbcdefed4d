// startApiServer: assembles store, watch cache, registry, auth/TLS and the fastify routes into a running API server.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { StatusError, badRequest, pathNotFound, tooLarge, unauthorized, unsupportedMediaType } from '../api/status.js';
import { openStore, type OpenStoreOptions } from '../store/index.js';
import type { Store } from '../store/types.js';
import { ServiceIpAllocator } from './allocator.js';
import { loadTokens, type TokenAuthenticator } from './auth.js';
import {
  aggregatedDiscovery,
  aggregatedDiscoveryTypes,
  aggregatedDiscoveryVersion,
  apiGroup,
  apiGroupList,
  apiVersions,
  groupVersions,
  versionInfo,
} from './discovery.js';
import { writeKubeconfig } from './kubeconfig.js';
import { ApiMetrics } from './metrics.js';
import { MetricsData } from './metricsdata.js';
import { NamespaceCleaner } from './nscleaner.js';
import { openapiV2Body, openapiV2ContentType } from './openapi.js';
import { ensurePki } from './pki.js';
import { defaultRegistry, type Registry } from './registry.js';
import { RestHandlers, type ApiContext, type ApiReply } from './rest.js';
import type { DirectServer } from '../client/transport.js';
import { ApiDispatcher, BODY_LIMIT, errorReply, wireReply, type RequestLabels, type WatchServer } from './dispatch.js';
import { directServer } from './direct.js';
import { WatchCache } from './watchcache.js';
import { bootstrap } from './bootstrap.js';

export interface ApiServerOptions {
  /** Data directory (tokens, pki, kubeconfig, and the SQLite store unless `store` is given). Default ./data. */
  dataDir?: string;
  /** Port to listen on; 0 picks a free one. Default 6443. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Serve plain HTTP (loopback only). */
  insecureHttp?: boolean;
  /** An already open store (the server will not close it), or options for openStore. */
  store?: Store;
  storeOptions?: OpenStoreOptions;
  serviceCidr?: string;
  nodePortRange?: [number, number];
  /** Where to write the admin kubeconfig. Default <dataDir>/kubeconfig. */
  kubeconfigPath?: string;
  /** Turn off authentication (tests of the REST layer only). */
  anonymous?: boolean;
  log?: (line: string) => void;
  /** Watch cache tuning. */
  watchHistory?: number;
  bookmarkIntervalMs?: number;
}

export interface ApiServer {
  url: string;
  kubeconfigPath: string;
  fastify: FastifyInstance;
  adminToken: string;
  caCert?: string;
  store: Store;
  context: ApiContext;
  /** Answers in-process clients without HTTP framing (createClient({ inject: fastify }) uses it by default). */
  direct: DirectServer;
  /** Where node agents report usage for metrics.k8s.io. */
  metricsData: MetricsData;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

declare module 'fastify' {
  interface FastifyRequest {
    apiLabels?: RequestLabels;
  }
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const dataDir = resolve(options.dataDir ?? './data');
  mkdirSync(dataDir, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  if (options.insecureHttp && !isLoopback(host))
    throw new Error(`plain HTTP is only allowed on loopback addresses, not ${host}`);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ownStore = !options.store;
  const store = options.store ?? (await openStore({ dataDir, ...(options.storeOptions ?? {}) }));
  const registry: Registry = defaultRegistry();
  const metrics = new ApiMetrics();
  const cache = new WatchCache(store, {
    historySize: options.watchHistory,
    log,
    onBatch: (n) => metrics.cacheEvents.inc(n),
  });
  await cache.start();
  const alloc = new ServiceIpAllocator({ serviceCidr: options.serviceCidr, nodePortRange: options.nodePortRange });
  for (const e of cache.entries('services')) alloc.restore(e.obj);
  const metricsData = new MetricsData();
  const context: ApiContext = { store, cache, registry, alloc, metrics, metricsData, log };
  const rest = new RestHandlers(context);
  const cleaner = new NamespaceCleaner(context, rest);
  context.onNamespaceTerminating = (name) => cleaner.kick(name);

  const { auth, adminToken } = loadTokens(dataDir);
  const pki = options.insecureHttp ? undefined : ensurePki(dataDir);

  // Typed as plain HTTP/1 (the handlers use the compatible subset): fastify's overloads pick the server type from a
  // literal `http2` flag, which here depends on whether TLS is on.
  const app = (Fastify as (opts: object) => unknown)({
    logger: false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 2048 },
    forceCloseConnections: true,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    // HTTPS speaks HTTP/2 (kubectl and client-go multiplex every request and watch over one connection) and
    // HTTP/1.1 for clients that ask for it by ALPN. Watches are long streams: no idle timeout on a session, flow
    // control windows and session memory large enough that 100 watch streams on one connection do not stall.
    ...(pki
      ? {
          http2: true,
          http2SessionTimeout: 0,
          https: {
            allowHTTP1: true,
            key: pki.key,
            cert: pki.cert,
            maxSessionMemory: 256,
            settings: { maxConcurrentStreams: 1000, initialWindowSize: 4 << 20 },
          },
        }
      : {}),
  }) as FastifyInstance;

  // Declared up front so every request object has the same shape (fastify's advice for per-request fields).
  app.decorateRequest('apiLabels', undefined);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  const sendStatus = (reply: FastifyReply, err: StatusError) => {
    reply.code(err.code).header('content-type', 'application/json').send(JSON.stringify(err.status));
  };

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof StatusError) return sendStatus(reply, error);
    const e = error as { code?: string; statusCode?: number; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) return sendStatus(reply, tooLarge());
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415)
      return sendStatus(reply, unsupportedMediaType(String(request.headers['content-type'] ?? '')));
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
      return sendStatus(reply, badRequest(e.message ?? 'bad request'));
    const w = errorReply(error, log, request.method, request.url);
    reply.code(w.code).headers(w.headers).send(w.body);
  });
  app.setNotFoundHandler((_req, reply) => sendStatus(reply, pathNotFound()));

  const authenticator: TokenAuthenticator | undefined = options.anonymous ? undefined : auth;
  const dispatcher = new ApiDispatcher({
    context,
    rest,
    registry,
    authenticator,
    bookmarkIntervalMs: options.bookmarkIntervalMs,
  });
  const direct = directServer(dispatcher, metrics, log);
  // In-process clients made from this fastify instance (createClient({ inject })) find the direct server here.
  app.decorate('skiffDirect', direct);
  // Callback-style hooks: every request runs both, and async hooks cost a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    if (!authenticator) return done();
    const url = request.url;
    const q = url.indexOf('?');
    // Answering without calling done() ends the request here.
    if (!dispatcher.authorized(q < 0 ? url : url.slice(0, q), request.headers.authorization))
      return sendStatus(reply, unauthorized());
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const l = request.apiLabels;
    if (l) metrics.observeRequest(l, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  // --- health, version, openapi, metrics ----------------------------------------------------------------------
  let ready = false;
  const health = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply.header('content-type', 'text/plain; charset=utf-8').send('ok');
  for (const p of ['/healthz', '/livez']) {
    app.get(p, health);
    app.get(`${p}/*`, health);
  }
  const readyz = async (_req: FastifyRequest, reply: FastifyReply) =>
    ready
      ? reply.header('content-type', 'text/plain; charset=utf-8').send('ok')
      : reply.code(503).send('[-]watch-cache failed: not ready');
  app.get('/readyz', readyz);
  app.get('/readyz/*', readyz);
  app.get('/version', async (_req, reply) =>
    reply.header('content-type', 'application/json').send(JSON.stringify(versionInfo())),
  );
  app.get('/openapi/v2', async (_req, reply) =>
    reply.header('content-type', openapiV2ContentType).send(openapiV2Body()),
  );
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // --- discovery ------------------------------------------------------------------------------------------------
  let address = `${host}:${options.port ?? 6443}`;
  const json = (reply: FastifyReply, body: unknown) =>
    reply.header('content-type', 'application/json').send(JSON.stringify(body));
  // Aggregated discovery when the client asks for it (kubectl 1.27+), else the legacy documents. Fixed per registry.
  const aggregated = new Map<string, Buffer>();
  const discovery = (core: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('vary', 'Accept');
    const version = aggregatedDiscoveryVersion(req.headers.accept);
    if (!version) return json(reply, core ? apiVersions(address) : apiGroupList(registry));
    const key = `${core}/${version}`;
    let body = aggregated.get(key);
    if (body === undefined)
      aggregated.set(key, (body = Buffer.from(JSON.stringify(aggregatedDiscovery(registry, core, version)))));
    // A Buffer: fastify leaves its Content-Type alone (it rewrites a string's, dropping the `as` parameter).
    return reply.header('content-type', aggregatedDiscoveryTypes[version]).send(body);
  };
  app.get('/api', discovery(true));
  app.get('/apis', discovery(false));
  app.get('/apis/:group', async (req, reply) => {
    const group = (req.params as { group: string }).group;
    const versions = groupVersions(registry, group);
    if (!versions.length) throw pathNotFound();
    return json(reply, apiGroup(group, versions));
  });

  // --- resources -----------------------------------------------------------------------------------------------
  // The route only adapts HTTP to the dispatcher; the direct transport calls the same dispatcher without HTTP.
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const labels: { value?: RequestLabels } = {};
    let result: ApiReply | WatchServer;
    try {
      result = await dispatcher.dispatch(
        { method: request.method, url: request.url, headers: request.headers, body: request.body },
        labels,
      );
    } finally {
      request.apiLabels = labels.value;
    }
    if (typeof result === 'function') {
      reply.hijack();
      await result(reply.raw);
      return;
    }
    const w = wireReply(result);
    reply.code(w.code).headers(w.headers);
    return reply.send(w.body);
  };
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  app.route({ method: [...methods], url: '/api/*', handler: handle });
  app.route({ method: [...methods], url: '/apis/:group/*', handler: handle });

  await bootstrap(context, rest, { port: options.port ?? 6443, firstIp: alloc.firstIp });
  cleaner.resume();

  await app.listen({ port: options.port ?? 6443, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.port ?? 6443);
  address = `${host}:${port}`;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `${pki ? 'https' : 'http'}://${urlHost}:${port}`;
  if (options.port === 0) await bootstrap(context, rest, { port, firstIp: alloc.firstIp });
  const kubeconfigPath = options.kubeconfigPath ?? join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, url, adminToken, pki?.caCert);
  ready = true;

  let closed = false;
  return {
    url,
    kubeconfigPath,
    fastify: app,
    adminToken,
    caCert: pki?.caCert,
    store,
    context,
    direct,
    metricsData,
    async close() {
      if (closed) return;
      closed = true;
      ready = false;
      cleaner.close();
      // In-process clients are refused from now on, as HTTP ones are once fastify closes.
      direct.close();
      cache.close();
      await app.close();
      if (ownStore) await store.close();
    },
  };
}
