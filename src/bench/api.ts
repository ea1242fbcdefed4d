// `skiff bench api`: API server throughput over real HTTP(S) against a separate server process — 64 concurrent
// clients create 10,000 pods while 100 watchers receive every event, then one list of them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2, { type ClientHttp2Session } from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveWorker } from '../wasm/pool.js';
import { h2Watch, LineSplitter, rawWatch } from './watchreader.js';

interface Options {
  pods: number;
  clients: number;
  watchers: number;
  json: boolean;
  insecure: boolean;
  /** Over HTTPS, speak HTTP/1.1 with a connection per client and watcher instead of HTTP/2. */
  http1: boolean;
  /** HTTP/2 connections the clients and watchers share (client-go uses one per server). */
  h2Connections: number;
  /** Also run the bench against the floor server (api-floor.ts) and report skiff's share of it. */
  floor: boolean;
  /** Use an already running server (its data dir holds tokens.csv and pki/). */
  server?: string;
  data?: string;
}

function parse(argv: string[]): Options {
  const o: Options = {
    pods: 10_000,
    clients: 64,
    watchers: 100,
    json: false,
    insecure: false,
    http1: false,
    h2Connections: 1,
    floor: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      return n;
    };
    if (a === '--json') o.json = true;
    else if (a === '--pods') o.pods = num();
    else if (a === '--clients') o.clients = num();
    else if (a === '--watchers') o.watchers = num();
    else if (a === '--insecure-http') o.insecure = true;
    else if (a === '--http1') o.http1 = true;
    else if (a === '--h2-connections') o.h2Connections = num();
    else if (a === '--floor') o.floor = true;
    else if (a === '--server') o.server = argv[++i];
    else if (a === '--data') o.data = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** A fixed-size collection of latency samples (ms), sorted natively at the end. */
class Samples {
  private readonly values: Float64Array;
  private n = 0;
  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }
  add(v: number): void {
    if (this.n < this.values.length) this.values[this.n++] = v;
  }
  sorted(): Float64Array {
    return this.values.subarray(0, this.n).sort();
  }
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Starts `skiff apiserver` (or, with `floor`, the floor server of api-floor.ts) in its own process so client load
 * does not share its event loop. Both run with this process's Node flags (skiff's, see cli/node-flags.ts).
 */
async function startServer(
  dataDir: string,
  insecure: boolean,
  floor = false,
): Promise<{ child: ChildProcess; url: string }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const flag = insecure ? ['--insecure-http'] : [];
  const args = floor
    ? [resolveWorker(new URL('./api-floor.js', import.meta.url)), dataDir, ...flag]
    : [join(here, '..', '..', 'bin', 'skiff.js'), 'apiserver', '--data', dataDir, '--port', '0', ...flag];
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('apiserver did not become ready in 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`apiserver exited with ${code}`)));
  });
  return { child, url };
}

interface Client {
  /** Closes pooled keep-alive connections so the process can exit. */
  close(): void;
  /** `receivedAt`: when the reply's last byte arrived (before the body is joined and decoded). */
  request(method: string, path: string, body?: string): Promise<{ status: number; body: string; receivedAt: number }>;
}

function makeClient(url: string, token: string, ca: string | undefined, sockets: number): Client {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: sockets, ca })
    : new http.Agent({ keepAlive: true, maxSockets: sockets });
  const mod = secure ? https : http;
  const base = { hostname: u.hostname, port: u.port, agent, headers: { authorization: `Bearer ${token}` } };
  return {
    close: () => agent.destroy(),
    request(method, path, body) {
      return new Promise((resolve, reject) => {
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        if (body !== undefined) headers['content-type'] = 'application/json';
        const req = mod.request({ ...base, method, path, headers }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            const receivedAt = performance.now();
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString(), receivedAt });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}

/** Opens `n` HTTP/2 sessions; fails clearly when the server does not negotiate h2. */
async function h2Sessions(url: string, ca: string | undefined, n: number): Promise<ClientHttp2Session[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ClientHttp2Session>((resolve, reject) => {
          // Large windows: 100 watch streams on one connection must not wait for WINDOW_UPDATEs.
          const s = http2.connect(url, { ca, maxSessionMemory: 256, settings: { initialWindowSize: 4 << 20 } });
          s.once('connect', () => {
            s.setLocalWindowSize(64 << 20);
            resolve(s);
          });
          s.once('error', (e) => reject(new Error(`HTTP/2 to ${url} failed (${e.message}); try --http1`)));
        }),
    ),
  );
}

/** Requests as streams spread over the sessions, like client-go's shared HTTP/2 transport. */
function makeH2Client(sessions: ClientHttp2Session[], token: string): Client {
  let turn = 0;
  return {
    close: () => {
      for (const s of sessions) s.close();
    },
    request(method, path, body) {
      return new Promise((resolve, reject) => {
        const headers: http2.OutgoingHttpHeaders = {
          ':method': method,
          ':path': path,
          authorization: `Bearer ${token}`,
        };
        if (body !== undefined) headers['content-type'] = 'application/json';
        const stream = sessions[turn++ % sessions.length]!.request(headers);
        let status = 0;
        const parts: Buffer[] = [];
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('data', (d: Buffer) => parts.push(d));
        stream.on('end', () => {
          const receivedAt = performance.now();
          resolve({ status, body: Buffer.concat(parts).toString(), receivedAt });
        });
        stream.on('error', reject);
        stream.end(body);
      });
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux clock ticks of 1/100 s). */
function serverCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function podBody(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench' } },
    spec: {
      containers: [{ name: 'c', image: 'busybox:1.36', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  });
}

export async function run(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parse(argv);
  } catch (e) {
    process.stderr.write(`skiff bench api: ${(e as Error).message}\n`);
    return 2;
  }
  if (o.server && !o.data) {
    process.stderr.write('skiff bench api: --server needs --data DIR (for tokens.csv and pki/ca.crt)\n');
    return 2;
  }
  const skiff = await benchOnce(o, false);
  for (const l of skiff.lines) process.stdout.write(`${l}\n`);
  if (!o.floor) {
    if (o.json) process.stdout.write(`${JSON.stringify(skiff.result)}\n`);
    return skiff.ok ? 0 : 1;
  }
  const floor = await benchOnce({ ...o, server: undefined, data: undefined }, true);
  process.stdout.write(`floor (a server that stores, validates and encodes nothing; same TLS, HTTP/2 and client):\n`);
  for (const l of floor.lines) process.stdout.write(`  ${l}\n`);
  const share = round(skiff.result.createsPerSec / Math.max(floor.result.createsPerSec, 1e-9));
  process.stdout.write(`skiff's creates/s are ${Math.round(share * 100)}% of the floor's\n`);
  if (o.json) process.stdout.write(`${JSON.stringify({ ...skiff.result, floor: floor.result, floorShare: share })}\n`);
  return skiff.ok && floor.ok ? 0 : 1;
}

interface BenchOutcome {
  result: { createsPerSec: number; createP99Ms: number; list10kMs: number; watchP99Ms: number };
  lines: string[];
  ok: boolean;
}

/** One run of the bench against skiff's API server or, with `floor`, the floor server. */
async function benchOnce(o: Options, floor: boolean): Promise<BenchOutcome> {
  const dir = o.data ?? mkdtempSync(join(tmpdir(), 'skiff-bench-api-'));
  const { child, url } = o.server ? { child: undefined, url: o.server } : await startServer(dir, o.insecure, floor);
  try {
    const token = readFileSync(join(dir, 'tokens.csv'), 'utf8').split(',')[0]!;
    const ca = url.startsWith('http:') ? undefined : readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    const useH2 = url.startsWith('https:') && !o.http1;
    const sessions = useH2 ? await h2Sessions(url, ca, o.h2Connections) : [];
    const client = useH2 ? makeH2Client(sessions, token) : makeClient(url, token, ca, o.clients);
    const ns = 'bench';
    const created = await client.request(
      'POST',
      '/api/v1/namespaces',
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
    );
    if (created.status !== 201) throw new Error(`namespace create failed: ${created.status} ${created.body}`);
    const startRv = (JSON.parse(created.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

    // Watchers: each counts pod events and records when each pod's ADDED arrives. Pods are named p-<index>, so
    // per-pod times live in typed arrays indexed by that number (no string or map per event in 100 watchers).
    const ackAt = new Float64Array(o.pods).fill(NaN);
    const sentAt = new Float64Array(o.pods);
    /** Arrivals of events that came before their create's ack, per pod (settled at the ack). */
    const early: (number[] | undefined)[] = new Array(o.pods);
    const samples = new Samples(o.pods * o.watchers);
    /** From the create's send to the event's arrival (includes the create's own time in the server). */
    const sendSamples = new Samples(o.pods * o.watchers);
    // Every arrival (pod, time), to measure afterwards how far behind the first sign of each commit (its ack or the
    // first watcher to see it) each watcher got the event: the fan-out's own delay.
    const arrivalPod = new Uint32Array(o.pods * o.watchers);
    const arrivalAt = new Float64Array(o.pods * o.watchers);
    const firstSeen = new Float64Array(o.pods).fill(Infinity);
    let eventsSeen = 0;
    const perWatcher = new Array<number>(o.watchers).fill(0);
    let allSeen: () => void = () => {};
    const allSeenP = new Promise<void>((r) => (allSeen = r));
    const watches: { destroy(): void }[] = [];
    let stopping = false;
    const nameMark = Buffer.from('"name":"p-');
    const addedMark = Buffer.from('{"type":"ADDED"');
    /** Handles one complete event line `buf[start, nl)` of watcher `w` at time `now`. */
    const onLine = (w: number, buf: Buffer, start: number, nl: number, now: number) => {
      if (buf.compare(addedMark, 0, addedMark.length, start, start + addedMark.length) !== 0) return;
      const i = buf.indexOf(nameMark, start);
      if (i < 0 || i >= nl) return;
      let pod = 0;
      let j = i + nameMark.length;
      for (let c = buf[j]!; c >= 48 && c <= 57; c = buf[++j]!) pod = pod * 10 + (c - 48);
      if (buf[j] !== 34 || j === i + nameMark.length || pod >= o.pods) return;
      const acked = ackAt[pod]!;
      if (!Number.isNaN(acked)) {
        samples.add(Math.max(0, now - acked));
        sendSamples.add(now - sentAt[pod]!);
      } else (early[pod] ??= []).push(now);
      if (eventsSeen < arrivalAt.length) {
        arrivalPod[eventsSeen] = pod;
        arrivalAt[eventsSeen] = now;
      }
      if (now < firstSeen[pod]!) firstSeen[pod] = now;
      eventsSeen++;
      if (++perWatcher[w]! === o.pods && perWatcher.every((n) => n >= o.pods)) allSeen();
    };
    const watchUrl = new URL(url);
    let watchFailures = 0;
    for (let w = 0; w < o.watchers; w++) {
      // A bare socket with hand-decoded chunks, and only the pod's index read out of each ADDED line (no JSON.parse
      // of 1.7 KB per event and watcher): the watchers share the machine with the server, so they must be cheap.
      let now = 0;
      const lines = new LineSplitter((buf, start, nl) => onLine(w, buf, start, nl, now));
      const watch = {
        path: `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${startRv}`,
        token,
        onData: (buf: Buffer, start: number, end: number, at: number) => {
          now = at;
          lines.feed(buf, start, end);
        },
        onEnd: (err?: Error) => {
          if (err && !stopping && watchFailures++ < 3) process.stderr.write(`watcher ${w}: ${err.message}\n`);
        },
      };
      watches.push(useH2 ? h2Watch(sessions[w % sessions.length]!, watch) : rawWatch({ ...watch, url: watchUrl, ca }));
    }
    await new Promise((r) => setTimeout(r, 500));

    // Creates: `clients` workers pull from one counter.
    const createLatencies: number[] = [];
    const serverCpu0 = child?.pid ? serverCpuSeconds(child.pid) : undefined;
    const clientCpu0 = process.cpuUsage();
    let next = 0;
    let failures = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.clients }, async () => {
        for (;;) {
          const i = next++;
          if (i >= o.pods) return;
          const name = `p-${i}`;
          const s = performance.now();
          sentAt[i] = s;
          const r = await client.request('POST', `/api/v1/namespaces/${ns}/pods`, podBody(name));
          const e = performance.now();
          if (r.status !== 201) {
            failures++;
            if (failures < 5) process.stderr.write(`create ${name}: ${r.status} ${r.body.slice(0, 200)}\n`);
            continue;
          }
          createLatencies.push(e - s);
          ackAt[i] = e;
          const first = early[i];
          if (first) {
            for (const at of first) {
              samples.add(0);
              sendSamples.add(at - s);
            }
            early[i] = undefined;
          }
        }
      }),
    );
    const createSeconds = (performance.now() - t0) / 1000;
    let waitTimer: NodeJS.Timeout | undefined;
    const wait = await Promise.race([
      allSeenP.then(() => true),
      new Promise<boolean>((r) => (waitTimer = setTimeout(() => r(false), 60_000))),
    ]);
    clearTimeout(waitTimer); // else the process lingers for the rest of the 60 s after printing its results
    stopping = true;
    for (const w of watches) w.destroy();
    const serverCpuList = child?.pid ? serverCpuSeconds(child.pid) : 0;
    const serverCpuCreate = serverCpu0 !== undefined ? serverCpuList - serverCpu0 : 0;

    // list10kMs: from sending the request to the reply's last byte; decoding it is timed apart (printed below).
    const l0 = performance.now();
    const list = await client.request('GET', `/api/v1/namespaces/${ns}/pods`);
    const list10kMs = list.receivedAt - l0;
    const p0 = performance.now();
    const listed = (JSON.parse(list.body) as { items: unknown[] }).items.length;
    const parseMs = performance.now() - p0;
    const joinMs = p0 - list.receivedAt;

    createLatencies.sort((a, b) => a - b);
    const watchLatencies = samples.sorted();
    const sendLatencies = sendSamples.sorted();
    const spread = new Samples(arrivalAt.length);
    for (let k = 0; k < Math.min(eventsSeen, arrivalAt.length); k++) {
      const pod = arrivalPod[k]!;
      spread.add(arrivalAt[k]! - Math.min(firstSeen[pod]!, ackAt[pod]! >= 0 ? ackAt[pod]! : Infinity));
    }
    const spreadLatencies = spread.sorted();
    const result = {
      createsPerSec: round((o.pods - failures) / createSeconds),
      createP99Ms: round(percentile(createLatencies, 99)),
      list10kMs: round(list10kMs),
      // From the first sign of the commit (the create's ack or the first watcher to see the event, whichever came
      // first) to each watcher's arrival. Not from the ack alone: on one HTTP/2 connection events usually overtake
      // their acks, and that figure would read 0 whatever the fan-out costs.
      watchP99Ms: round(percentile(spreadLatencies, 99)),
    };
    const lines = [
      `pods created: ${o.pods - failures}/${o.pods} by ${o.clients} clients in ${round(createSeconds)} s (${result.createsPerSec}/s)`,
      `create latency p50 ${round(percentile(createLatencies, 50))} ms, p99 ${result.createP99Ms} ms`,
      `watch: ${o.watchers} watchers, ${eventsSeen} events${wait ? '' : ' (INCOMPLETE after 60 s)'}; delivery after the first sign of the commit (ack or first watcher) p50 ${round(percentile(spreadLatencies, 50))} ms, p99 ${result.watchP99Ms} ms; after the create's ack (0 when the event came first) p99 ${round(percentile(watchLatencies, 99))} ms; after its send p99 ${round(percentile(sendLatencies, 99))} ms`,
      `list of ${listed} pods: ${result.list10kMs} ms to the last byte (${(list.body.length / 1048576).toFixed(1)} MiB), then join ${round(joinMs)} ms, JSON.parse ${round(parseMs)} ms`,
      `CPU seconds: bench client ${round(cpuSeconds(clientCpu0))}${serverCpu0 !== undefined ? `, server ${round(serverCpuSeconds(child!.pid!) - serverCpu0)} (creates+watch ${round(serverCpuCreate)}, list ${round(serverCpuSeconds(child!.pid!) - serverCpuList)})` : ''}`,
      `transport: ${useH2 ? `HTTPS, HTTP/2 (${o.h2Connections} connection${o.h2Connections > 1 ? 's' : ''} shared by clients and watchers)` : url.startsWith('https') ? 'HTTPS, HTTP/1.1 (a connection per client and watcher)' : 'HTTP/1.1'}${floor ? '' : ', store: sqlite'}`,
    ];
    client.close();
    return { result, lines, ok: failures === 0 && wait && listed === o.pods };
  } finally {
    if (child) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
