// A lean watch reader for benchmarks: one GET over a bare TLS (or TCP) socket, the chunked body decoded by hand and
// split into lines, so 100 watchers in one process cost little more than decrypting what they receive.
import type { ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

/** Decodes an HTTP/1.1 chunked body (RFC 9112 §7.1), handing on each run of body bytes as it arrives. */
export class ChunkedDecoder {
  private state: 'size' | 'ext' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private crlfLeft = 0;
  /** Characters of the current trailer line (the body ends at an empty one). */
  private trailerLine = 0;

  constructor(
    private readonly onData: (buf: Buffer, start: number, end: number) => void,
    private readonly onEnd: () => void,
  ) {}

  get finished(): boolean {
    return this.state === 'done';
  }

  /** Consumes `buf[start..]`; throws on malformed framing. */
  feed(buf: Buffer, start = 0): void {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case 'size': {
          const c = buf[i++]!;
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > 12) throw new Error('chunk size too long');
            this.size = this.size * 16 + v;
          } else if (c === 59 /* ; */ || c === 13 /* \r */) {
            if (this.digits === 0) throw new Error('chunk without a size');
            this.state = 'ext';
          } else if (c === 10) {
            i--;
            this.state = 'ext';
          } else throw new Error(`bad byte ${c} in chunk size`);
          break;
        }
        case 'ext': {
          // Chunk extensions are ignored up to the end of the size line.
          const nl = buf.indexOf(10, i);
          if (nl < 0) {
            i = n;
            break;
          }
          i = nl + 1;
          if (this.size === 0) {
            this.state = 'trailer';
            this.trailerLine = 0;
          } else {
            this.remaining = this.size;
            this.state = 'data';
          }
          this.size = 0;
          this.digits = 0;
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, n - i);
          this.onData(buf, i, i + take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = 'crlf';
            this.crlfLeft = 2;
          }
          break;
        }
        case 'crlf': {
          const c = buf[i++]!;
          if (c !== (this.crlfLeft === 2 ? 13 : 10)) throw new Error('chunk not followed by CRLF');
          if (--this.crlfLeft === 0) this.state = 'size';
          break;
        }
        case 'trailer': {
          const c = buf[i++]!;
          if (c === 10) {
            if (this.trailerLine === 0) {
              this.state = 'done';
              this.onEnd();
              return;
            }
            this.trailerLine = 0;
          } else if (c !== 13) this.trailerLine++;
          break;
        }
        case 'done':
          return;
      }
    }
  }
}

/** Splits a byte stream into lines; only a line that spans two pieces is copied. */
export class LineSplitter {
  private rest: Buffer | undefined;

  /** `onLine(buf, start, nl)`: the line is `buf[start, nl)`, `buf[nl]` its newline. */
  constructor(private readonly onLine: (buf: Buffer, start: number, nl: number) => void) {}

  feed(buf: Buffer, start: number, end: number): void {
    let s = start;
    if (this.rest) {
      const nl = buf.indexOf(10, s);
      if (nl < 0 || nl >= end) {
        this.rest = Buffer.concat([this.rest, buf.subarray(s, end)]);
        return;
      }
      const line = Buffer.concat([this.rest, buf.subarray(s, nl + 1)]);
      this.rest = undefined;
      this.onLine(line, 0, line.length - 1);
      s = nl + 1;
    }
    for (;;) {
      const nl = buf.indexOf(10, s);
      if (nl < 0 || nl >= end) break;
      this.onLine(buf, s, nl);
      s = nl + 1;
    }
    if (s < end) this.rest = Buffer.from(buf.subarray(s, end));
  }
}

export interface RawWatchOptions {
  url: URL;
  path: string;
  token: string;
  ca?: string;
  /** Body bytes `buf[start, end)`, in order, with the time (performance.now()) the socket read carrying them ran. */
  onData(buf: Buffer, start: number, end: number, now: number): void;
  /** The watch failed (status other than 200, bad framing, socket error) or ended. */
  onEnd?(err?: Error): void;
}

/** Opens one watch request on its own connection. */
export function rawWatch(o: RawWatchOptions): { destroy(): void } {
  const port = Number(o.url.port || (o.url.protocol === 'https:' ? 443 : 80));
  const host = o.url.hostname;
  const socket =
    o.url.protocol === 'https:'
      ? tls.connect({ host, port, ca: o.ca, servername: net.isIP(host) ? undefined : host })
      : net.connect({ host, port });
  let ended = false;
  const end = (err?: Error) => {
    if (ended) return;
    ended = true;
    socket.destroy();
    o.onEnd?.(err);
  };
  let now = 0;
  const decoder = new ChunkedDecoder(
    (buf, start, stop) => o.onData(buf, start, stop, now),
    () => end(),
  );
  let head: Buffer | undefined = Buffer.alloc(0);
  socket.on(o.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
    socket.write(
      `GET ${o.path} HTTP/1.1\r\nHost: ${o.url.host}\r\nAuthorization: Bearer ${o.token}\r\n` +
        'Accept: application/json\r\nConnection: close\r\n\r\n',
    );
  });
  socket.on('data', (chunk: Buffer) => {
    now = performance.now();
    try {
      if (head) {
        const all: Buffer = head.length ? Buffer.concat([head, chunk]) : chunk;
        const at = all.indexOf('\r\n\r\n');
        if (at < 0) {
          if (all.length > 64 * 1024) throw new Error('response headers too long');
          head = all;
          return;
        }
        const text = all.toString('latin1', 0, at);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
        if (status !== '200') throw new Error(`watch answered ${text.split('\r\n')[0]}`);
        if (!/\r\ntransfer-encoding:\s*chunked/i.test(text)) throw new Error('watch reply is not chunked');
        head = undefined;
        decoder.feed(all, at + 4);
        return;
      }
      decoder.feed(chunk);
    } catch (e) {
      end(e as Error);
    }
  });
  socket.on('error', (e) => end(e));
  socket.on('close', () => end());
  return { destroy: () => end() };
}

/**
 * Opens one watch as a stream of an HTTP/2 session (as client-go multiplexes its watches over one connection): DATA
 * frames carry the body as is, so there is no chunk framing to decode.
 */
export function h2Watch(session: ClientHttp2Session, o: Omit<RawWatchOptions, 'url' | 'ca'>): { destroy(): void } {
  const stream = session.request({
    ':method': 'GET',
    ':path': o.path,
    authorization: `Bearer ${o.token}`,
    accept: 'application/json',
  });
  let ended = false;
  const end = (err?: Error) => {
    if (ended) return;
    ended = true;
    stream.close();
    o.onEnd?.(err);
  };
  stream.on('response', (headers) => {
    if (headers[':status'] !== 200) end(new Error(`watch answered ${String(headers[':status'])}`));
  });
  stream.on('data', (chunk: Buffer) => o.onData(chunk, 0, chunk.length, performance.now()));
  stream.on('error', (e) => end(e));
  stream.on('close', () => end());
  return { destroy: () => end() };
}
