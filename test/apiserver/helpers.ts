// Test helpers: a real API server on loopback in a temp dir, a JSON client over HTTP, and a watch stream reader.
import http from 'node:http';
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/apiserver/server.js';

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface TestServer {
  server: ApiServer;
  dir: string;
  /** JSON request with the admin token; returns status, parsed body and headers. */
  req(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Obj; text: string; headers: http.IncomingHttpHeaders }>;
  watch(path: string): WatchReader;
  close(): Promise<void>;
}

export interface WatchReader {
  events: Obj[];
  /** Resolves once `n` events arrived (rejects after `ms`). */
  next(n: number, ms?: number): Promise<Obj[]>;
  ended: Promise<void>;
  status: Promise<number>;
  close(): void;
}

export async function startTestServer(t: Test, opts: ApiServerOptions = {}): Promise<TestServer> {
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'skiff-apiserver-test-'));
  const server = await startApiServer({ dataDir: dir, port: 0, insecureHttp: true, log: () => {}, ...opts });
  const url = new URL(server.url);
  const auth = `Bearer ${server.adminToken}`;
  const watchers: WatchReader[] = [];
  const ts: TestServer = {
    server,
    dir,
    req(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const h: Record<string, string> = { authorization: auth, ...headers };
        let payload: string | Buffer | undefined;
        if (body !== undefined) {
          payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
          h['content-type'] ??= 'application/json';
          h['content-length'] = String(Buffer.byteLength(payload));
        }
        const r = http.request({ host: url.hostname, port: url.port, method, path, headers: h }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString();
            let parsed: Obj = {};
            try {
              parsed = text ? (JSON.parse(text) as Obj) : {};
            } catch {
              parsed = {};
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text, headers: res.headers });
          });
        });
        r.on('error', reject);
        r.end(payload);
      });
    },
    watch(path) {
      const events: Obj[] = [];
      let waiters: { n: number; resolve: (e: Obj[]) => void }[] = [];
      let resolveEnded!: () => void;
      let resolveStatus!: (n: number) => void;
      const ended = new Promise<void>((r) => (resolveEnded = r));
      const status = new Promise<number>((r) => (resolveStatus = r));
      const r = http.request(
        { host: url.hostname, port: url.port, method: 'GET', path, headers: { authorization: auth } },
        (res) => {
          resolveStatus(res.statusCode ?? 0);
          let rest = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            rest += d;
            let nl;
            while ((nl = rest.indexOf('\n')) >= 0) {
              const line = rest.slice(0, nl);
              rest = rest.slice(nl + 1);
              if (line.trim()) events.push(JSON.parse(line) as Obj);
            }
            const ready = waiters.filter((w) => events.length >= w.n);
            waiters = waiters.filter((w) => events.length < w.n);
            for (const w of ready) w.resolve(events.slice(0, w.n));
          });
          res.on('end', () => resolveEnded());
          res.on('close', () => resolveEnded());
        },
      );
      r.on('error', () => resolveEnded());
      r.end();
      const reader: WatchReader = {
        events,
        ended,
        status,
        next(n, ms = 5000) {
          if (events.length >= n) return Promise.resolve(events.slice(0, n));
          return new Promise((resolve, reject) => {
            const timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `only ${events.length} of ${n} watch events after ${ms} ms: ${JSON.stringify(events.map((e) => e.type))}`,
                  ),
                ),
              ms,
            );
            waiters.push({ n, resolve: (e) => (clearTimeout(timer), resolve(e)) });
          });
        },
        close: () => r.destroy(),
      };
      watchers.push(reader);
      return reader;
    },
    async close() {
      for (const w of watchers) w.close();
      await server.close();
      if (!opts.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  t.teardown(() => ts.close());
  return ts;
}

export function pod(name: string, extra: Obj = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' }, ...(extra.metadata ?? {}) },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], ...(extra.spec ?? {}) },
  };
}

export function deployment(name: string, replicas = 2): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } },
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
