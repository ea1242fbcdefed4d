// Transports under the client: HTTP(S) with keep-alive agents, or fastify.inject for the all-in-one process.
//
// fastify 5's inject (light-my-request 6) can stream with `payloadAsStream`; the server only learns that an
// injected watch went away when we destroy its ServerResponse, so stream handles do that on close.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
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

async function readAll(stream: Readable): Promise<Buffer> {
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

/** Minimal view of a fastify instance: only inject is used. */
export interface Injectable {
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
      req.signal?.addEventListener('abort', close, { once: true });
      body.on('error', () => {});
      return { statusCode: res.statusCode, headers: stringHeaders(res.headers), body, close };
    },
    async close() {},
  };
}
