// The resource request dispatch without any HTTP server: authentication, path → registry lookup → REST verb or watch,
// and errors as metav1.Status; the fastify route and the in-process direct transport both answer through it.
import type { ServerResponse } from 'node:http';
import { StatusError, internal, methodNotAllowed, pathNotFound, tooLarge } from '../api/status.js';
import type { TokenAuthenticator } from './auth.js';
import { resourceList } from './discovery.js';
import type { Registry } from './registry.js';
import { boolParam, parseApiPath, queryOf } from './request.js';
import type { ApiContext, ApiReply, RestHandlers, RequestMeta } from './rest.js';
import { serveWatch } from './watch.js';

/** Largest request body the server takes (the HTTP route and the direct transport alike). */
export const BODY_LIMIT = 3 * 1024 * 1024;

const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** The labels of a resource request in the apiserver_request_total metric. */
export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
}

/** One request as the dispatcher sees it: no sockets, no framing. Header names are lower case. */
export interface ApiRequest {
  method: string;
  /** Path plus query string, as sent. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body (bytes or text), undefined when there is none. */
  body?: unknown;
}

/** Serves a watch onto a response whose headers are not sent yet; resolves when the watch ends. */
export type WatchServer = (res: ServerResponse) => Promise<void>;

/** A reply on the wire: status code, headers and the body as text or bytes (or a byte stream, e.g. logs). */
export interface WireReply {
  code: number;
  headers: Record<string, string>;
  body: string | Buffer | NodeJS.ReadableStream;
}

export interface DispatcherDeps {
  context: ApiContext;
  rest: RestHandlers;
  registry: Registry;
  /** Undefined = anonymous (REST layer tests only). */
  authenticator?: TokenAuthenticator;
  bookmarkIntervalMs?: number;
}

const notAllowed = () => methodNotAllowed('the server does not allow this method on the requested resource');

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The fixed HTTP-free part of an ApiReply: its code, content type, warnings and body as bytes or text. */
export function wireReply(result: ApiReply): WireReply {
  const headers: Record<string, string> = { 'content-type': result.contentType ?? 'application/json' };
  if (result.warnings?.length) headers.warning = result.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
  const body = result.body;
  const ready =
    typeof body === 'string' || Buffer.isBuffer(body) || typeof (body as NodeJS.ReadableStream).pipe === 'function';
  return {
    code: result.code,
    headers,
    body: ready ? (body as string | Buffer | NodeJS.ReadableStream) : JSON.stringify(body),
  };
}

/** An error as the answer the client gets: a StatusError as itself, anything else as 500 InternalError. */
export function errorReply(error: unknown, log: (line: string) => void, method: string, url: string): WireReply {
  let err: StatusError;
  if (error instanceof StatusError) err = error;
  else {
    log(`apiserver: ${method} ${url}: ${(error as Error)?.stack ?? String(error)}`);
    err = internal((error as Error)?.message ?? String(error));
  }
  return { code: err.code, headers: { 'content-type': 'application/json' }, body: JSON.stringify(err.status) };
}

/** Writes a watch's failure before its first byte (a StatusError) or ends it (after). */
function endWatch(res: ServerResponse, e: unknown): void {
  const err = e instanceof StatusError ? e : internal((e as Error).message);
  if (!res.headersSent) {
    res.writeHead(err.code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(err.status));
  } else res.end();
}

export class ApiDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Whether a request for `path` may go on: public paths need no token, everything else a known one. */
  authorized(path: string, authorization: string | undefined): boolean {
    const auth = this.deps.authenticator;
    if (!auth) return true;
    if (
      publicPaths.has(path) ||
      path.startsWith('/healthz/') ||
      path.startsWith('/livez/') ||
      path.startsWith('/readyz/')
    )
      return true;
    return auth.authenticate(authorization) !== undefined;
  }

  /**
   * Whether `dispatch` answers this request: the resource paths (/api/<v>/…, /apis/<g>/<v>/…) with the five REST
   * methods. Discovery roots, health, metrics and openapi stay with the HTTP routes.
   */
  handles(method: string, url: string): boolean {
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE')
      return false;
    if (url.startsWith('/api/')) return true;
    if (!url.startsWith('/apis/')) return false;
    const slash = url.indexOf('/', 6);
    return slash > 6 && slash < url.length - 1 && url[slash + 1] !== '?';
  }

  /**
   * Answers one resource request: an ApiReply, or for a watch the function that serves it onto a response.
   * Authentication is the caller's (the HTTP route checks it before routing; see `authorized`). `labels` gets the
   * request's metric labels as soon as they are known, so a request that fails is still counted under them.
   * Throws StatusError for bad requests.
   */
  async dispatch(request: ApiRequest, labels: { value?: RequestLabels }): Promise<ApiReply | WatchServer> {
    const { registry, rest } = this.deps;
    const url = request.url;
    const qi = url.indexOf('?');
    const p = parseApiPath(qi < 0 ? url : url.slice(0, qi));
    if (!p) throw pathNotFound();
    const method = request.method;
    if (!p.resource) {
      if (method !== 'GET') throw notAllowed();
      if (!registry.resourcesIn(p.group, p.version).length) throw pathNotFound();
      return { code: 200, body: JSON.stringify(resourceList(registry, p.group, p.version)) };
    }
    const def = registry.lookup(p.group, p.version, p.resource);
    if (!def) throw pathNotFound();
    if (p.namespace !== undefined && !def.namespaced) throw pathNotFound();
    if (p.subresource && !def.subresources.includes(p.subresource as never)) throw pathNotFound();
    const q = queryOf(url);
    const namespace = p.namespace ?? '';
    const headers = request.headers;
    const meta: RequestMeta = {
      contentType: header(headers['content-type']),
      accept: header(headers.accept),
      userAgent: header(headers['user-agent']),
    };
    const body = request.body;
    const isWatch = method === 'GET' && !p.name && boolParam(q, 'watch');
    const verb = isWatch ? 'WATCH' : method === 'GET' ? (p.name ? 'GET' : 'LIST') : method;
    labels.value = {
      verb,
      group: def.group,
      version: def.version,
      resource: def.resource,
      subresource: p.subresource ?? '',
    };
    const namespacedOnlyList = def.namespaced && p.namespace === undefined;
    switch (method) {
      case 'GET': {
        if (isWatch) {
          if (def.readOnly) throw notAllowed();
          const { cache, metrics } = this.deps.context;
          const deps = { cache, metrics, bookmarkIntervalMs: this.deps.bookmarkIntervalMs };
          return async (res) => {
            try {
              await serveWatch(deps, def, namespace, q, meta.accept, res);
            } catch (e) {
              endWatch(res, e);
            }
          };
        }
        if (!p.name) return rest.list(def, namespace, q, meta);
        if (namespacedOnlyList) throw pathNotFound();
        if (!p.subresource || p.subresource === 'status') return rest.get(def, namespace, p.name, q, meta);
        if (p.subresource === 'scale') return rest.scaleGet(def, namespace, p.name);
        if (p.subresource === 'log') return rest.podLog(def, namespace, p.name, q);
        throw notAllowed();
      }
      case 'POST':
        if (namespacedOnlyList) throw notAllowed();
        if (!p.name) return rest.create(def, namespace, q, meta, body);
        if (p.subresource === 'binding') return rest.binding(def, namespace, p.name, meta, body);
        if (p.subresource === 'eviction') return rest.eviction(def, namespace, p.name, meta, body);
        throw notAllowed();
      case 'PUT':
        if (!p.name || namespacedOnlyList) throw notAllowed();
        if (p.subresource === 'finalize') return rest.update(def, namespace, p.name, 'finalize', q, meta, body);
        if (p.subresource && p.subresource !== 'status' && p.subresource !== 'scale') throw notAllowed();
        return rest.update(def, namespace, p.name, p.subresource, q, meta, body);
      case 'PATCH':
        if (!p.name || namespacedOnlyList) throw notAllowed();
        return rest.patch(def, namespace, p.name, p.subresource, q, meta, body);
      case 'DELETE':
        if (namespacedOnlyList || p.subresource) throw notAllowed();
        return p.name
          ? rest.delete(def, namespace, p.name, q, meta, body)
          : rest.deleteCollection(def, namespace, q, meta, body);
      default:
        throw notAllowed();
    }
  }

  /** Checks a body against the size limit the HTTP route's body parser enforces. */
  static checkBody(body: unknown): void {
    const n = typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : 0;
    if (n > BODY_LIMIT) throw tooLarge();
  }
}
