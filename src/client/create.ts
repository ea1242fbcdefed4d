// createClient: picks the transport (kubeconfig / explicit server / in-process API server) and returns a Client.
import { statusFromResponse } from './errors.js';
import { loadKubeconfig, type ConnectionConfig } from './kubeconfig.js';
import { query, resourcePath } from './paths.js';
import {
  directTransport,
  httpTransport,
  injectTransport,
  type Injectable,
  type Transport,
  type TransportRequest,
} from './transport.js';
import type { Client, KubeList, KubeObject, PatchType, ResourceAddress, WatchEvent } from './types.js';
import { watchEvents } from './watch.js';

export type ClientConfig =
  | { kubeconfig?: string; context?: string; userAgent?: string }
  | (Omit<ConnectionConfig, 'namespace'> & { userAgent?: string })
  | {
      inject: Injectable;
      token?: string;
      userAgent?: string;
      /**
       * In process: 'direct' (default when the server offers it) calls the API server's dispatch without HTTP
       * framing; 'inject' goes through fastify.inject (fake HTTP requests through every fastify layer).
       */
      transport?: 'direct' | 'inject';
    };

const patchTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

function transportFor(config: ClientConfig): { transport: Transport; namespace?: string; inProcess?: boolean } {
  if ('inject' in config) {
    const inject = injectTransport(config.inject, config.token);
    const direct = config.transport !== 'inject' ? config.inject.skiffDirect : undefined;
    return direct
      ? { transport: directTransport(direct, config.token, inject), inProcess: true }
      : { transport: inject };
  }
  if ('server' in config) return { transport: httpTransport(config as ConnectionConfig) };
  const cfg = loadKubeconfig(config.kubeconfig, config.context);
  return { transport: httpTransport(cfg), namespace: cfg.namespace };
}

export function createClient(config: ClientConfig = {}): Client & { defaultNamespace?: string } {
  const { transport, namespace, inProcess } = transportFor(config);
  const userAgent = config.userAgent ?? 'skiff';
  const headers = (extra: Record<string, string> = {}) => ({
    accept: 'application/json',
    'user-agent': userAgent,
    ...extra,
  });

  async function call<T>(req: TransportRequest): Promise<T> {
    const res = await transport.request(req);
    if (res.statusCode < 200 || res.statusCode >= 300) throw statusFromResponse(res.statusCode, res.body);
    const text = res.text ?? (res.body.length === 0 ? '' : res.body.toString('utf8'));
    if (text.length === 0) return undefined as T;
    const type = String(res.headers['content-type'] ?? '');
    if (!type.includes('json')) return text as T;
    return JSON.parse(text) as T;
  }

  const json = (body: unknown, type = 'application/json') => ({
    body: JSON.stringify(body),
    headers: headers({ 'content-type': type }),
  });

  const writeQuery = (o: { fieldManager?: string; dryRun?: boolean; fieldValidation?: string; force?: boolean }) =>
    query({
      fieldManager: o.fieldManager,
      dryRun: o.dryRun ? 'All' : undefined,
      fieldValidation: o.fieldValidation,
      force: o.force,
    });

  const nameOf = (body: unknown, explicit?: string): string => {
    const name = explicit ?? (body as KubeObject | undefined)?.metadata?.name;
    if (!name) throw new Error('update needs metadata.name (or opts.name)');
    return name;
  };

  const client: Client & { defaultNamespace?: string } = {
    defaultNamespace: namespace,
    inProcess: inProcess === true,
    get<T>(res: ResourceAddress, name: string, opts: { subresource?: string; signal?: AbortSignal } = {}) {
      return call<T>({
        method: 'GET',
        path: resourcePath(res, name, opts.subresource),
        headers: headers(),
        signal: opts.signal,
      });
    },
    list<T>(res: ResourceAddress, opts: Parameters<Client['list']>[1] = {}) {
      return call<KubeList<T>>({
        method: 'GET',
        path:
          resourcePath(res) +
          query({
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
            limit: opts.limit,
            continue: opts.continue,
            resourceVersion: opts.resourceVersion,
            resourceVersionMatch: opts.resourceVersionMatch,
          }),
        headers: headers(),
        signal: opts.signal,
      });
    },
    create<T>(res: ResourceAddress, body: unknown, opts: Parameters<Client['create']>[2] = {}) {
      const path = opts.subresource ? resourcePath(res, nameOf(body, opts.name), opts.subresource) : resourcePath(res);
      return call<T>({ method: 'POST', path: path + writeQuery(opts), ...json(body), signal: opts.signal });
    },
    update<T>(res: ResourceAddress, body: unknown, opts: Parameters<Client['update']>[2] = {}) {
      const path = resourcePath(res, nameOf(body, opts.name), opts.subresource);
      return call<T>({ method: 'PUT', path: path + writeQuery(opts), ...json(body), signal: opts.signal });
    },
    patch<T>(res: ResourceAddress, name: string, patch: unknown, opts: Parameters<Client['patch']>[3] = {}) {
      const type = opts.type ?? 'merge';
      if (type === 'apply' && !opts.fieldManager) throw new Error('server-side apply needs opts.fieldManager');
      return call<T>({
        method: 'PATCH',
        path: resourcePath(res, name, opts.subresource) + writeQuery(opts),
        ...json(patch, patchTypes[type]),
        signal: opts.signal,
      });
    },
    delete<T>(res: ResourceAddress, name: string, opts: Parameters<Client['delete']>[2] = {}) {
      const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
      if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
      if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
      if (opts.preconditions) body.preconditions = opts.preconditions;
      return call<T>({
        method: 'DELETE',
        path: resourcePath(res, name, opts.subresource) + query({ dryRun: opts.dryRun ? 'All' : undefined }),
        ...json(body),
        signal: opts.signal,
      });
    },
    deleteCollection<T>(res: ResourceAddress, opts: Parameters<Client['deleteCollection']>[1] = {}) {
      const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
      if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
      if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
      return call<T>({
        method: 'DELETE',
        path:
          resourcePath(res) +
          query({
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
            dryRun: opts.dryRun ? 'All' : undefined,
          }),
        ...json(body),
        signal: opts.signal,
      });
    },
    watch<T>(res: ResourceAddress, opts: Parameters<Client['watch']>[1] = {}): AsyncIterable<WatchEvent<T>> {
      const path =
        resourcePath(res) +
        query({
          watch: 'true',
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          resourceVersion: opts.resourceVersion,
          allowWatchBookmarks: opts.allowWatchBookmarks,
          timeoutSeconds: opts.timeoutSeconds,
        });
      return watchEvents<T>(
        () =>
          transport.stream({
            method: 'GET',
            path,
            headers: headers(),
            signal: opts.signal,
            sharedObjects: opts.sharedObjects,
          }),
        opts.signal,
      );
    },
    async request(method: string, path: string, body?: unknown, extra?: Record<string, string>) {
      const payload =
        body === undefined
          ? undefined
          : typeof body === 'string' || Buffer.isBuffer(body)
            ? body
            : JSON.stringify(body);
      const h = headers(payload !== undefined ? { 'content-type': 'application/json', ...extra } : extra);
      return transport.request({ method, path, headers: h, body: payload });
    },
    close: () => transport.close(),
  };
  return client;
}

export type { Transport };
