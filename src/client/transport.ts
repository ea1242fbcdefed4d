// Transports under the client: HTTP(S) with keep-alive agents, fastify.inject, or the direct in-process transport
// (the API server's own dispatch, no HTTP framing) for the all-in-one process.
//
// fastify 5's inject (light-my-request 6) can stream with `payloadAsStream`; the server only learns that an
// injected watch went away when we destroy its ServerResponse, so stream handles do that on close.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ConnectionConfig } from './kubeconfig.js';

export interface TransportRequest {
  method: string;
  /** Path plus query string. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  signal?: AbortSignal;
}

export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as text when the transport already has it so (the direct transport): saves a copy and a decode. */
  text?: string;
}

export interface StreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** Ends the stream from our side (and tells the server). */
  close(): void;
}

export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  stream(req: TransportRequest): Promise<StreamResponse>;
  close(): Promise<void>;
}

/** A byte stream read to its end. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

export function httpTransport(cfg: ConnectionConfig): Transport {
  const url = new URL(cfg.server);
  const secure = url.protocol === 'https:';
  const basePath = url.pathname.replace(/\/+$/, '');
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ca: cfg.ca,
        cert: cfg.cert,
        key: cfg.key,
        rejectUnauthorized: !cfg.insecureSkipTlsVerify,
      })
    : new http.Agent({ keepAlive: true });
  const auth: Record<string, string> = cfg.token ? { authorization: `Bearer ${cfg.token}` } : {};

  const open = (req: TransportRequest): Promise<http.IncomingMessage & { clientRequest: http.ClientRequest }> =>
    new Promise((resolve, reject) => {
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
      const headers: Record<string, string | number> = { ...auth, ...req.headers };
      if (body) headers['content-length'] = body.length;
      const options = {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (secure ? 443 : 80),
        method: req.method,
        path: basePath + req.path,
        headers,
        agent,
        signal: req.signal,
      };
      const cr = (secure ? https : http).request(options, (res) => {
        resolve(Object.assign(res, { clientRequest: cr }));
      });
      cr.on('error', reject);
      cr.end(body);
    });

  return {
    async request(req) {
      const res = await open(req);
      const body = await readAll(res);
      return { statusCode: res.statusCode ?? 0, headers: res.headers, body };
    },
    async stream(req) {
      const res = await open(req);
      return {
        statusCode: res.statusCode ?? 0,
        headers: res.headers,
        body: res,
        close: () => {
          res.destroy();
          res.clientRequest.destroy();
        },
      };
    },
    async close() {
      agent.destroy();
    },
  };
}

/** Minimal view of a fastify instance: only inject is used (and the direct server, when the API server has one). */
export interface Injectable {
  /** Set by skiff's API server on its fastify instance: requests that skip HTTP framing (see directTransport). */
  skiffDirect?: DirectServer;
  inject(opts: Record<string, unknown>): Promise<{
    statusCode: number;
    headers: Record<string, string | string[] | number | undefined>;
    rawPayload?: Buffer;
    stream(): Readable;
    raw: { res: { destroy(): void } };
  }>;
}

function stringHeaders(h: Record<string, string | string[] | number | undefined>) {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = typeof v === 'number' ? String(v) : v;
  return out;
}

export function injectTransport(app: Injectable, token?: string): Transport {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  // Loopback-looking peer so servers that trust local callers treat us like a local client.
  const options = (req: TransportRequest) => ({
    remoteAddress: '127.0.0.1',
    method: req.method,
    url: req.path,
    headers: { ...auth, ...req.headers },
    payload: req.body,
  });
  return {
    async request(req) {
      const res = await app.inject({ ...options(req), signal: req.signal });
      return {
        statusCode: res.statusCode,
        headers: stringHeaders(res.headers),
        body: res.rawPayload ?? Buffer.alloc(0),
      };
    },
    async stream(req) {
      const res = await app.inject({ ...options(req), payloadAsStream: true });
      const body = res.stream();
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        res.raw.res.destroy();
        body.destroy();
      };
      const onAbort = () => close();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      // A long-lived signal (an informer's) sees many watches: do not leave a listener behind for each.
      body.once('close', () => req.signal?.removeEventListener('abort', onAbort));
      body.on('error', () => {});
      return { statusCode: res.statusCode, headers: stringHeaders(res.headers), body, close };
    },
    async close() {},
  };
}

/** A request as the direct server takes it: header names in lower case, the token already in `authorization`. */
export interface DirectRequest {
  method: string;
  /** Path plus query string. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export interface DirectReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Where a direct watch delivers its bytes: whole JSON lines, as the server's watch wrote them. */
export interface DirectChunkSink {
  data(chunk: Buffer): void;
  end(): void;
  /** Bytes delivered but not consumed yet. */
  buffered(): number;
}

export interface DirectWatch {
  statusCode: number;
  headers: Record<string, string>;
  /** Ends the watch from the client's side. */
  close(): void;
}

/** What an API server in this process offers the direct transport (skiff's apiserver/direct.ts implements it). */
export interface DirectServer {
  /** Whether the direct server answers this method and path; anything else goes through inject. */
  handles(method: string, path: string): boolean;
  request(req: DirectRequest): Promise<DirectReply>;
  watch(req: DirectRequest, sink: DirectChunkSink): Promise<DirectWatch>;
}

/** A response whose body is text: kept as text for the JSON parse, made bytes only for a caller that asks. */
class TextResponse implements TransportResponse {
  private bytes: Buffer | undefined;
  constructor(
    readonly statusCode: number,
    readonly headers: Record<string, string>,
    readonly text: string,
  ) {}
  get body(): Buffer {
    return (this.bytes ??= Buffer.from(this.text, 'utf8'));
  }
}

function abortError(): Error {
  return Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * Requests straight into the API server's dispatch: the same authentication, admission, validation, store and watch
 * cache as over HTTP, only the HTTP framing is skipped. Paths the direct server does not answer (health, discovery
 * roots, metrics) go through `fallback`.
 */
export function directTransport(server: DirectServer, token: string | undefined, fallback: Transport): Transport {
  const authorization = token ? `Bearer ${token}` : undefined;
  const headersOf = (req: TransportRequest): Record<string, string> => {
    const h: Record<string, string> = {};
    if (authorization) h.authorization = authorization;
    for (const k in req.headers) h[k.toLowerCase()] = req.headers[k]!;
    return h;
  };
  return {
    async request(req) {
      if (!server.handles(req.method, req.path)) return fallback.request(req);
      if (req.signal?.aborted) throw abortError();
      const res = await server.request({ method: req.method, path: req.path, headers: headersOf(req), body: req.body });
      const body = res.body;
      if (typeof body !== 'string') return { statusCode: res.statusCode, headers: res.headers, body };
      return new TextResponse(res.statusCode, res.headers, body);
    },
    async stream(req) {
      if (!server.handles(req.method, req.path)) return fallback.stream(req);
      if (req.signal?.aborted) throw abortError();
      // Chunks pass by reference; reading is driven by the consumer (read() has nothing to fetch).
      const body = new Readable({ read() {} });
      const w = await server.watch(
        { method: req.method, path: req.path, headers: headersOf(req) },
        {
          data: (b) => void body.push(b),
          end: () => void body.push(null),
          buffered: () => body.readableLength,
        },
      );
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        req.signal?.removeEventListener('abort', close);
        w.close();
        body.destroy();
      };
      req.signal?.addEventListener('abort', close, { once: true });
      body.once('close', close);
      body.on('error', () => {});
      return { statusCode: w.statusCode, headers: w.headers, body, close };
    },
    async close() {
      await fallback.close();
    },
  };
}
