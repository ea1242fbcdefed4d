// The floor under `skiff bench api`: a server that speaks just enough of the API for the bench (create a namespace,
// create pods, watch them, list them) over the same TLS and HTTP/2 settings as skiff's API server, but stores,
// validates and encodes nothing: each create is answered with its own body, padded to the size of the pod skiff would
// have stored (defaults, managed fields, status: ~1.6 KB for the bench's pods), and goes out to every watcher as is.
// `skiff bench api --floor` runs the bench against it after running it against skiff, in the same run, so skiff's
// figures can be read as a share of what this machine allows at all for that client shape.
//
// Run as its own process: node api-floor.js DATA_DIR [--insecure-http]; prints "ready at URL" like `skiff apiserver`.
import http from 'node:http';
import http2 from 'node:http2';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePki } from '../apiserver/pki.js';
import { loadTokens } from '../apiserver/auth.js';

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

const linePrefix = Buffer.from('{"type":"ADDED","object":');
const lineSuffix = Buffer.from('}\n');

/** Bytes of a pod as skiff stores and sends the bench's pods (a 10,000-pod list is 15.5 MiB). */
export const FLOOR_OBJECT_BYTES = 1600;

/** The JSON object `body` grown to `bytes` by a padding field, so the floor sends what skiff would. */
function padded(body: Buffer, bytes: number): Buffer {
  const end = body.lastIndexOf(0x7d); // the closing brace
  const room = bytes - body.length - ',"pad":""'.length;
  if (end < 0 || room <= 0) return body;
  return Buffer.concat([body.subarray(0, end), Buffer.from(`,"pad":"${'x'.repeat(room)}"`), body.subarray(end)]);
}

export async function serveFloor(dataDir: string, insecure: boolean): Promise<{ url: string; close(): void }> {
  const { adminToken } = loadTokens(dataDir);
  const bearer = `Bearer ${adminToken}`;
  const pods: Buffer[] = [];
  const watchers = new Set<Res>();
  let pending: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  // As skiff's fan-out: events gathered for up to 5 ms, one chunk written to every watcher.
  const flush = () => {
    timer = undefined;
    const chunk = Buffer.concat(pending);
    pending = [];
    for (const w of watchers) (w as http.ServerResponse).write(chunk);
  };
  const reply = (res: Res, code: number, body: string | Buffer) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(body);
  };
  const handle = (req: Req, res: Res) => {
    if (req.headers.authorization !== bearer) return reply(res, 401, '{"kind":"Status","code":401}');
    const url = req.url ?? '';
    if (req.method === 'GET' && url.includes('watch=true')) {
      const h1 = req.httpVersionMajor === 1;
      res.writeHead(200, { 'content-type': 'application/json', ...(h1 ? { 'transfer-encoding': 'chunked' } : {}) });
      (res as http.ServerResponse).flushHeaders();
      watchers.add(res);
      res.on('close', () => watchers.delete(res));
      return;
    }
    if (req.method === 'GET') {
      const parts: Buffer[] = [Buffer.from('{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[')];
      pods.forEach((p, i) => parts.push(...(i ? [Buffer.from(','), p] : [p])));
      parts.push(Buffer.from(']}'));
      return reply(res, 200, Buffer.concat(parts));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (url === '/api/v1/namespaces') return reply(res, 201, '{"metadata":{"name":"bench","resourceVersion":"1"}}');
      const body = padded(Buffer.concat(chunks), FLOOR_OBJECT_BYTES);
      pods.push(body);
      pending.push(linePrefix, body, lineSuffix);
      timer ??= setTimeout(flush, 5);
      reply(res, 201, body);
    });
  };
  let server: http.Server | http2.Http2SecureServer;
  if (insecure) server = http.createServer(handle);
  else {
    const pki = ensurePki(dataDir);
    // The settings of skiff's API server (src/apiserver/server.ts).
    server = http2.createSecureServer(
      {
        key: pki.key,
        cert: pki.cert,
        allowHTTP1: true,
        maxSessionMemory: 256,
        settings: { maxConcurrentStreams: 1000, initialWindowSize: 4 << 20 },
      },
      handle,
    );
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `${insecure ? 'http' : 'https'}://127.0.0.1:${port}`,
    close: () => {
      for (const w of watchers) w.end();
      server.close();
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dataDir, flag] = process.argv.slice(2);
  const floor = await serveFloor(dataDir!, flag === '--insecure-http');
  process.stdout.write(`floor server ready at ${floor.url}\n`);
  process.on('SIGTERM', () => {
    floor.close();
    process.exit(0);
  });
}
