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
