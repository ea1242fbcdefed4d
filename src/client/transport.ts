// Transports under the client: HTTP(S) with keep-alive agents, fastify.inject, or the direct in-process transport
// (the API server's own dispatch, no HTTP framing) for the all-in-one process.
//
// fastify 5's inject (light-my-request 6) can stream with `payloadAsStream`; the server only learns that an
// injected watch went away when we destroy its ServerResponse, so stream handles do that on close.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ConnectionConfig } from './kubeconfig.js';
import type { WatchEvent } from './types.js';

export interface TransportRequest {
  method: string;
  /** Path plus query string. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  signal?: AbortSignal;
  /**
   * A watch may deliver decoded events whose objects are the in-process API server's own (direct transport only):
   * the caller promises never to mutate them.
   */
  sharedObjects?: boolean;
}

export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as text when the transport already has it so (the direct transport): saves a copy and a decode. */
  text?: string;
}

/** Decoded watch events handed over in process (see TransportRequest.sharedObjects); shared, never mutated. */
export class WatchEventBatch {
  constructor(readonly events: readonly WatchEvent[]) {}
}

export interface StreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes (a Readable over HTTP), or from the direct transport also batches of decoded events, in order. */
  body: AsyncIterable<Buffer | string | WatchEventBatch>;
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
  /**
   * Decoded events, when the client takes them (see TransportRequest.sharedObjects): the objects are the server's
   * cached ones, by reference. They count `weight` bytes towards buffered().
   */
  events?(events: readonly WatchEvent[], weight: number): void;
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

/**
 * The body of a direct watch: what the server hands over, by reference and in order, read by one consumer. It
 * counts what is not consumed yet, so the server can end a watch whose client fell too far behind.
 */
class ChunkQueue implements AsyncIterable<Buffer | WatchEventBatch> {
  private items: (Buffer | WatchEventBatch)[] = [];
  private sizes: number[] = [];
  private head = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  /** Bytes (or event weights) pushed and not consumed yet. */
  buffered = 0;
  /** Called once the consumer stops (end of data, or it left the loop). */
  onDone: () => void = () => {};

  push(item: Buffer | WatchEventBatch, size: number): void {
    if (this.ended) return;
    this.items.push(item);
    this.sizes.push(size);
    this.buffered += size;
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer | WatchEventBatch> {
    try {
      for (;;) {
        if (this.head < this.items.length) {
          const item = this.items[this.head]!;
          this.buffered -= this.sizes[this.head]!;
          this.head++;
          if (this.head === this.items.length) {
            this.items = [];
            this.sizes = [];
            this.head = 0;
          }
          yield item;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.ended = true;
      this.onDone();
    }
  }
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
      const body = new ChunkQueue();
      const w = await server.watch(
        { method: req.method, path: req.path, headers: headersOf(req) },
        {
          data: (b) => body.push(b, b.length),
          ...(req.sharedObjects ? { events: (e, weight) => body.push(new WatchEventBatch(e), weight) } : {}),
          end: () => body.end(),
          buffered: () => body.buffered,
        },
      );
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        req.signal?.removeEventListener('abort', close);
        w.close();
        body.end();
      };
      req.signal?.addEventListener('abort', close, { once: true });
      body.onDone = close;
      return { statusCode: w.statusCode, headers: w.headers, body, close };
    },
    async close() {
      await fallback.close();
    },
  };
}
