// The in-process side of the direct transport: answers requests through the dispatcher (same authentication,
// admission, validation, store and watch cache as HTTP) without building HTTP requests or responses, and serves
// watches into a minimal response that hands each written buffer to the client as it is (no chunk framing).
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { serviceUnavailable, unauthorized, type StatusError } from '../api/status.js';
import {
  readAll,
  type DirectChunkSink,
  type DirectReply,
  type DirectRequest,
  type DirectServer,
  type DirectWatch,
} from '../client/transport.js';
import { ApiDispatcher, errorReply, wireReply, type RequestLabels, type WatchServer } from './dispatch.js';
import type { ApiMetrics } from './metrics.js';
import type { Obj } from './types.js';
import { EVENT_WEIGHT } from './watchfanout.js';
import type { WatchEvent } from '../client/types.js';

/**
 * The part of ServerResponse that serveWatch and WatchSink use, delivering to a DirectChunkSink. It has no socket
 * and a write of its own, so WatchSink takes its plain path (it writes the payload of each chunk, unframed).
 */
class DirectWatchResponse extends EventEmitter {
  statusCode = 200;
  headers: Record<string, string> = {};
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  readonly chunkedEncoding = false;
  readonly socket = null;
  /** What serveWatch reads of the request: the protocol (HTTP/1.1 framing is what it would otherwise choose). */
  readonly req = { httpVersionMajor: 1, httpVersionMinor: 1 };
  /** The client takes decoded events (the watch fan-out's EventResponse). */
  readonly takesEvents: boolean;
  private onHead: (() => void) | undefined;

  constructor(
    private readonly sink: DirectChunkSink,
    onHead: () => void,
  ) {
    super();
    this.onHead = onHead;
    this.takesEvents = sink.events !== undefined;
  }

  writeEvents(events: WatchEvent<Obj>[]): void {
    if (this.writableEnded || this.destroyed) return;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.sink.events!(events, events.length * EVENT_WEIGHT);
  }

  /** Bytes the client has not consumed yet (the watch ends a client that falls too far behind). */
  get writableLength(): number {
    return this.sink.buffered();
  }

  writeHead(code: number, headers?: Record<string, string>): this {
    if (this.headersSent) return this;
    this.statusCode = code;
    if (headers) for (const [k, v] of Object.entries(headers)) this.headers[k.toLowerCase()] = String(v);
    this.headersSent = true;
    const h = this.onHead;
    this.onHead = undefined;
    h?.();
    return this;
  }

  flushHeaders(): void {
    this.writeHead(this.statusCode);
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (chunk.length) this.sink.data(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    return true;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this;
    if (chunk !== undefined) this.write(chunk);
    else if (!this.headersSent) this.writeHead(this.statusCode);
    this.writableEnded = true;
    this.sink.end();
    this.emit('finish');
    this.emit('close');
    return this;
  }

  /** The client went away: like a closed socket, the watch sees 'close' and stops writing. */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

/**
 * The content type fastify puts on the wire for a text body: JSON types without a charset get "; charset=utf-8"
 * (its reply.send does this for string payloads), so direct and HTTP clients see the same header.
 */
function wireType(type: string, body: unknown): string {
  if (typeof body !== 'string') return type;
  // The common case first, without parsing: what the REST handlers set for JSON.
  if (type === 'application/json') return 'application/json; charset=utf-8';
  const semi = type.indexOf(';');
  const media = semi < 0 ? type : type.slice(0, semi);
  if (!media.includes('json') || /;\s*charset=/i.test(type)) return type;
  return `${type.replace(/;\s*$/, '')}; charset=utf-8`;
}

/** A reply with its content type as the HTTP route would send it. */
function asSent(statusCode: number, headers: Record<string, string>, body: Buffer | string): DirectReply {
  const type = headers['content-type'];
  if (type !== undefined) headers['content-type'] = wireType(type, body);
  return { statusCode, headers, body };
}

/** Builds the DirectServer of one API server; close() makes it refuse requests (the server is shutting down). */
export function directServer(
  dispatcher: ApiDispatcher,
  metrics: ApiMetrics,
  log: (line: string) => void,
): DirectServer & { close(): void } {
  let closed = false;
  const pathOf = (url: string) => {
    const q = url.indexOf('?');
    return q < 0 ? url : url.slice(0, q);
  };
  const statusReply = (e: StatusError): DirectReply =>
    asSent(e.code, { 'content-type': 'application/json' }, JSON.stringify(e.status));
  /** What a request gets before dispatch: 503 once closed, 401 without a valid token, else undefined. */
  const refused = (req: DirectRequest): DirectReply | undefined => {
    if (closed) return statusReply(serviceUnavailable('the API server is shutting down'));
    if (!dispatcher.authorized(pathOf(req.path), req.headers.authorization)) return statusReply(unauthorized());
    return undefined;
  };

  /** Serves a watch requested through `request` (not `watch`) to its end and returns everything it wrote. */
  const collect = async (serve: WatchServer): Promise<DirectReply> => {
    const chunks: Buffer[] = [];
    const res = new DirectWatchResponse(
      { data: (b) => void chunks.push(b), end: () => {}, buffered: () => 0 },
      () => {},
    );
    await serve(res as unknown as ServerResponse);
    return { statusCode: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  };

  return {
    handles: (method, url) => dispatcher.handles(method, url),
    close: () => void (closed = true),

    async request(req: DirectRequest): Promise<DirectReply> {
      const start = performance.now();
      const labels: { value?: RequestLabels } = {};
      let reply: DirectReply;
      try {
        const no = refused(req);
        if (no) return no;
        ApiDispatcher.checkBody(req.body);
        const r = await dispatcher.dispatch(
          { method: req.method, url: req.path, headers: req.headers, body: req.body },
          labels,
        );
        if (typeof r === 'function') reply = await collect(r);
        else {
          const w = wireReply(r);
          const body = w.body;
          reply = asSent(
            w.code,
            w.headers,
            typeof body === 'string' || Buffer.isBuffer(body) ? body : await readAll(body),
          );
        }
      } catch (e) {
        const w = errorReply(e, log, req.method, req.path);
        reply = asSent(w.code, w.headers, w.body as string);
      }
      if (labels.value) metrics.observeRequest(labels.value, reply.statusCode, (performance.now() - start) / 1000);
      return reply;
    },

    async watch(req: DirectRequest, sink: DirectChunkSink): Promise<DirectWatch> {
      const no = refused(req);
      if (no) {
        sink.data(Buffer.from(no.body as string));
        sink.end();
        return { statusCode: no.statusCode, headers: no.headers, close: () => {} };
      }
      let r;
      try {
        r = await dispatcher.dispatch({ method: 'GET', url: req.path, headers: req.headers }, {});
      } catch (e) {
        const w = errorReply(e, log, 'GET', req.path);
        sink.data(Buffer.from(w.body as string));
        sink.end();
        return { statusCode: w.code, headers: asSent(w.code, w.headers, w.body as string).headers, close: () => {} };
      }
      if (typeof r !== 'function') {
        // A GET that is not a watch after all: hand over its whole answer.
        const w = wireReply(r);
        const body = w.body;
        const sent = asSent(
          w.code,
          w.headers,
          typeof body === 'string' || Buffer.isBuffer(body) ? body : await readAll(body),
        );
        sink.data(typeof sent.body === 'string' ? Buffer.from(sent.body) : sent.body);
        sink.end();
        return { statusCode: sent.statusCode, headers: sent.headers, close: () => {} };
      }
      let headed!: () => void;
      const head = new Promise<void>((resolve) => (headed = resolve));
      const res = new DirectWatchResponse(sink, () => headed());
      const served = r(res as unknown as ServerResponse).catch((e: unknown) => {
        log(`apiserver: watch ${req.path}: ${(e as Error)?.stack ?? String(e)}`);
        res.end();
      });
      // Headers come before the first event; a watch that ends before writing any still answers.
      await Promise.race([head, served]);
      return { statusCode: res.statusCode, headers: res.headers, close: () => res.destroy() };
    },
  };
}
