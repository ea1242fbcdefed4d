// Bounded HTTP load from inside a namespace: N requests, each on a new connection (so the proxy picks an
// endpoint per request), at most C in flight, stopped at a deadline. Reports replies counted by body.
import type { Netns } from './netns.js';

export interface LoadResult {
  counts: Record<string, number>;
  errors: number;
  sent: number;
  /** The first few error messages, for diagnostics. */
  errorSamples: string[];
}

const CLIENT = `
const http = require('node:http');
const [url, total, conc, deadlineMs, localAddress] = process.argv.slice(1);
const counts = {}; const samples = []; let errors = 0, sent = 0, done = 0;
const deadline = Date.now() + Number(deadlineMs);
function one() {
  if (sent >= Number(total) || Date.now() > deadline) return Promise.resolve();
  sent++;
  return new Promise((resolve) => {
    const opts = { agent: false, timeout: 3000, headers: { connection: 'close' } };
    if (localAddress) opts.localAddress = localAddress;
    const req = http.get(url, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => { counts[body] = (counts[body] || 0) + 1; resolve(); });
      res.on('error', (e) => { errors++; if (samples.length < 5) samples.push(String(e)); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => { errors++; if (samples.length < 5) samples.push(String(e.message)); resolve(); });
  }).then(one);
}
Promise.all(Array.from({ length: Number(conc) }, one)).then(() => {
  console.log(JSON.stringify({ counts, errors, sent, errorSamples: samples }));
});
`;

export async function httpLoad(
  h: Netns,
  ns: string,
  url: string,
  opts: { count: number; concurrency?: number; deadlineMs?: number; localAddress?: string },
): Promise<LoadResult> {
  const deadlineMs = opts.deadlineMs ?? 60_000;
  const args = ['-e', CLIENT, url, String(opts.count), String(opts.concurrency ?? 8), String(deadlineMs)];
  if (opts.localAddress) args.push(opts.localAddress);
  const out = await h.mustExec(ns, process.execPath, args, { timeoutMs: deadlineMs + 15_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
export function chiSquareUniform(observed: number[]): number {
  const total = observed.reduce((a, b) => a + b, 0);
  const expected = total / observed.length;
  return observed.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
}

/**
 * Upper critical values of the chi-square distribution at significance 0.001 for 1..10 degrees of freedom
 * (standard table values, e.g. NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.4).
 */
export const CHI2_CRITICAL_0_001 = [
  Number.NaN,
  10.828,
  13.816,
  16.266,
  18.467,
  20.515,
  22.458,
  24.322,
  26.124,
  27.877,
  29.588,
];

const HELD = `
const net = require('node:net');
const readline = require('node:readline');
const [host, port, n] = process.argv.slice(1);
const conns = [];
function request(c) {
  return new Promise((resolve) => {
    let buf = '';
    const timer = setTimeout(() => { c.sock.off('data', onData); resolve('error: timeout'); }, 3000);
    const onData = (d) => {
      buf += d;
      const m = /\\r\\n\\r\\n/.exec(buf);
      if (!m) return;
      const len = Number((/content-length: (\\d+)/i.exec(buf) || [])[1] || 0);
      const body = buf.slice(m.index + 4);
      if (body.length < len) return;
      clearTimeout(timer); c.sock.off('data', onData); resolve(body.slice(0, len));
    };
    if (c.dead) { clearTimeout(timer); return resolve('error: ' + c.dead); }
    c.sock.on('data', onData);
    c.sock.write('GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: keep-alive\\r\\n\\r\\n');
  });
}
(async () => {
  for (let i = 0; i < Number(n); i++) {
    const sock = net.connect(Number(port), host);
    sock.setEncoding('utf8');
    const c = { sock, dead: '' };
    sock.on('error', (e) => (c.dead = e.message));
    sock.on('close', () => (c.dead = c.dead || 'closed'));
    await new Promise((r) => { sock.once('connect', r); sock.once('error', r); });
    conns.push(c);
  }
  console.log('held ' + JSON.stringify(await Promise.all(conns.map(request))));
  readline.createInterface({ input: process.stdin }).on('line', async () => {
    console.log('round ' + JSON.stringify(await Promise.all(conns.map(request))));
  });
})();
`;

export interface HeldConnections {
  /** What each connection answered when it was opened. */
  first: string[];
  /** Sends one more request on every connection; returns each body (or "error: …"). */
  round(): Promise<string[]>;
}

/** Opens `n` persistent HTTP connections from `ns` and keeps them for later rounds (killed on teardown). */
export async function holdConnections(
  h: Netns,
  ns: string,
  host: string,
  port: number,
  n: number,
): Promise<HeldConnections> {
  const p = h.spawn(ns, process.execPath, ['-e', HELD, host, String(port), String(n)]);
  const first = JSON.parse((await p.waitFor(/held .*\n/, 20_000)).slice(5)) as string[];
  let rounds = 0;
  return {
    first,
    async round() {
      rounds++;
      p.child.stdin!.write('\n');
      const all = await p.waitFor(new RegExp(`(?:round .*\\n){${rounds}}`), 20_000);
      const last = all.trim().split('\n').pop()!;
      return JSON.parse(last.slice(6)) as string[];
    },
  };
}
