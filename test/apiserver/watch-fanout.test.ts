// The coalescing watch fan-out: exact event sequences under bursts, shared groups, late joiners, chunk framing.
import t, { type Test } from 'tap';
import http from 'node:http';
import { WatchFanout, WatchSink, frameChunk } from '../../src/apiserver/watchfanout.js';
import { startTestServer, sleep, type Obj } from './helpers.js';

const ns = '/api/v1/namespaces/default';

/** A loopback HTTP server whose responses become sinks; clients collect what they receive, decoded by node's http. */
async function sinkServer(t: Test) {
  const sinks: WatchSink[] = [];
  let onSink: (s: WatchSink) => void = () => {};
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const s = new WatchSink(res, 1 << 30, () => res.end());
    sinks.push(s);
    onSink(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const port = (server.address() as { port: number }).port;
  /** Opens a client; resolves with its sink and a function returning the text received so far. */
  const connect = () =>
    new Promise<{ sink: WatchSink; text: () => string; ended: Promise<void> }>((resolve) => {
      let text = '';
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      let sink: WatchSink | undefined;
      let gotResponse = false;
      const done = () => sink && gotResponse && resolve({ sink, text: () => text, ended });
      onSink = (s) => ((sink = s), done());
      http
        .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', endedResolve);
          gotResponse = true;
          done();
        })
        .on('error', endedResolve);
    });
  return { connect, sinks };
}

/** Polls `cond` until true (false after 10 s). */
async function until(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return true;
    await sleep(10);
  }
  return false;
}

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `{"n":${from + i}}\n`);

t.test('frameChunk: hex length, CRLF, data, CRLF', async (t) => {
  const f = frameChunk([Buffer.from('ab'), Buffer.from('cdefghijklmnopq')], 17);
  t.equal(f.toString(), '11\r\nabcdefghijklmnopq\r\n');
});

t.test('a group delivers every line once, in order, across a burst; a late joiner gets only later lines', async (t) => {
  const { connect } = await sinkServer(t);
  const fanout = new WatchFanout(20);
  let sent = 0;
  let closed = 0;
  const g = fanout.group('k', () => ({ onSent: (n) => (sent += n), close: () => closed++ }));
  const a = await connect();
  const b = await connect();
  g.join(a.sink);
  g.join(b.sink);
  t.equal(
    fanout.group('k', () => ({ onSent: () => {}, close: () => {} })),
    g,
    'same key, same group',
  );

  const push = (from: number, to: number) => {
    for (const l of lines(from, to)) {
      const buf = Buffer.from(l);
      g.push([buf], buf.length, 1);
    }
  };
  // A burst spread over several event-loop turns and timer ticks.
  for (let i = 0; i < 50; i++) {
    push(i * 20, i * 20 + 20);
    if (i % 7 === 0) await sleep(3);
    else await new Promise((r) => setImmediate(r));
  }
  // c joins with lines still gathered for a and b: those must not reach c.
  const c = await connect();
  push(1000, 1005);
  g.join(c.sink);
  push(1005, 1100);
  const all = lines(0, 1100).join('');
  const tail = lines(1005, 1100).join('');
  await until(() => a.text().length >= all.length && b.text().length >= all.length && c.text().length >= tail.length);
  t.equal(a.text(), all, 'first member: every line exactly once, in order');
  t.equal(b.text(), all, 'second member: the same bytes');
  t.equal(c.text(), tail, 'late joiner: only what came after it joined');
  t.equal(sent, 1100 * 2 + 95, 'metrics count every line sent to every member');

  g.leave(a.sink);
  g.leave(b.sink);
  t.equal(closed, 0, 'group stays while a member is left');
  g.leave(c.sink);
  t.equal(closed, 1, 'last member leaving closes the group');
  t.equal(fanout.groupCount, 0);
});

t.test('a quiet group writes at once; a busy one waits for the interval or a flush', async (t) => {
  const { connect } = await sinkServer(t);
  // An interval far longer than the test: only the end-of-turn flush and explicit flushes can send anything.
  const fanout = new WatchFanout(600_000);
  const g = fanout.group('k', () => ({ onSent: () => {}, close: () => {} }));
  const a = await connect();
  g.join(a.sink);
  const one = Buffer.from('{"n":1}\n');
  g.push([one], one.length, 1);
  t.ok(await until(() => a.text() === '{"n":1}\n'), 'first line goes out without waiting for the interval');
  const two = Buffer.from('{"n":2}\n');
  g.push([two], two.length, 1);
  const three = Buffer.from('{"n":3}\n');
  g.push([three], three.length, 1);
  await sleep(50);
  t.equal(a.text(), '{"n":1}\n', 'later lines within the interval wait');
  g.flush();
  t.ok(
    await until(() => a.text() === '{"n":1}\n{"n":2}\n{"n":3}\n'),
    'an explicit flush (before a watcher writes its own line) sends them as one chunk',
  );
  g.reset('test');
  await a.ended;
  t.pass('reset ends the member');
});

t.test('shared and selector watchers each see exactly their events under 300 parallel writes', async (t) => {
  const s = await startTestServer(t);
  const first = await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'seed' } });
  const rv = first.body.metadata.resourceVersion as string;
  const shared = [1, 2, 3].map(() => s.watch(`${ns}/configmaps?watch=true&resourceVersion=${rv}`));
  const all = s.watch(`/api/v1/configmaps?watch=true&resourceVersion=${rv}`);
  const odd = s.watch(`${ns}/configmaps?watch=true&resourceVersion=${rv}&labelSelector=odd%3Dtrue`);
  const other = s.watch(`/api/v1/namespaces/kube-system/configmaps?watch=true&resourceVersion=${rv}`);
  for (const w of [...shared, all, odd, other]) t.equal(await w.status, 200);
  const n = 300;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      s.req('POST', `${ns}/configmaps`, { metadata: { name: `c${i}`, labels: { odd: String(i % 2 === 1) } } }),
    ),
  );
  t.ok(
    results.every((r) => r.status === 201),
    'all created',
  );
  // Then an update moves c0 into the selector (ADDED for `odd`) and c1 out of it (DELETED for `odd`).
  const merge = { 'content-type': 'application/merge-patch+json' };
  await s.req('PATCH', `${ns}/configmaps/c0`, { metadata: { labels: { odd: 'true' } } }, merge);
  await s.req('PATCH', `${ns}/configmaps/c1`, { metadata: { labels: { odd: 'false' } } }, merge);
  const byRv = results
    .map((r) => [Number(r.body.metadata.resourceVersion), r.body.metadata.name as string] as const)
    .sort((x, y) => x[0] - y[0]);
  const expectAll = [...byRv.map(([, name]) => `ADDED ${name}`), 'MODIFIED c0', 'MODIFIED c1'];
  const names = (evs: Obj[]) => evs.map((e) => `${e.type} ${e.object.metadata.name}`);
  for (const w of shared) t.same(names(await w.next(n + 2, 20_000)), expectAll, 'shared watcher: exact sequence');
  t.same(names(await all.next(n + 2, 20_000)), expectAll, 'all-namespaces watcher: exact sequence');
  const expectOdd = [
    ...byRv.filter(([, name]) => Number(name.slice(1)) % 2 === 1).map(([, name]) => `ADDED ${name}`),
    'ADDED c0',
    'DELETED c1',
  ];
  t.same(names(await odd.next(expectOdd.length, 20_000)), expectOdd, 'selector watcher: exact sequence');
  const rvs = shared[0]!.events.map((e) => Number(e.object.metadata.resourceVersion));
  t.ok(
    rvs.every((v, i) => i === 0 || v > rvs[i - 1]!),
    'resourceVersions strictly increase',
  );
  await sleep(200);
  for (const w of shared) t.equal(w.events.length, n + 2, 'no extra events');
  t.equal(odd.events.length, expectOdd.length, 'selector watcher: no extra events');
  t.equal(other.events.length, 0, 'another namespace sees nothing');

  // A watcher started from the middle of the burst gets exactly the rest.
  const mid = byRv[n / 2]![0];
  const late = s.watch(`${ns}/configmaps?watch=true&resourceVersion=${mid}`);
  t.same(names(await late.next(n / 2 + 1, 20_000)), expectAll.slice(n / 2 + 1), 'resume from the middle');
});

t.test('list from the cache equals the store list byte for byte', async (t) => {
  const s = await startTestServer(t);
  const created = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      s.req('POST', `${ns}/configmaps`, {
        metadata: { name: `m${i}`, labels: { k: `v${i % 3}` } },
        data: { t: 'ü é' },
      }),
    ),
  );
  t.ok(
    created.every((r) => r.status === 201),
    'all created',
  );
  const cached = await s.req('GET', `${ns}/configmaps`);
  t.equal(cached.status, 200);
  t.equal(cached.body.items.length, 40);
  t.equal(cached.headers['content-length'], String(Buffer.byteLength(cached.text)), 'content-length of the bytes');
  t.equal(cached.body.items[0].data.t, 'ü é', 'non-ASCII text survives');
  const rv = cached.body.metadata.resourceVersion as string;
  const exact = await s.req('GET', `${ns}/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
  t.equal(cached.text, exact.text, 'cache list and store list at the same revision are identical');
  const sel = await s.req('GET', `${ns}/configmaps?labelSelector=k%3Dv1`);
  t.same(
    sel.body.items.map((i: Obj) => i.metadata.name),
    cached.body.items.filter((i: Obj) => i.metadata.labels.k === 'v1').map((i: Obj) => i.metadata.name),
    'selector on the cached list',
  );
  // Paging: the pages together are the whole list.
  const names: string[] = [];
  let cont = '';
  for (let guard = 0; guard < 20; guard++) {
    const page = await s.req('GET', `${ns}/configmaps?limit=15${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    names.push(...page.body.items.map((i: Obj) => i.metadata.name as string));
    cont = page.body.metadata.continue ?? '';
    if (!cont) break;
  }
  t.same(
    names,
    cached.body.items.map((i: Obj) => i.metadata.name),
    'pages add up to the list',
  );
  const table = await s.req('GET', `${ns}/configmaps`, undefined, {
    accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  });
  t.equal(table.body.kind, 'Table');
  t.equal(table.body.rows.length, 40, 'Table output still served');
});

t.test('a list larger than one buffer streams in pieces and still parses whole', async (t) => {
  const s = await startTestServer(t);
  // About 40 KiB per object: 40 of them exceed the single-buffer size, so the reply streams.
  const big = 'x'.repeat(40 * 1024);
  for (let i = 0; i < 40; i += 10)
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        s.req('POST', `${ns}/configmaps`, { metadata: { name: `b${i + j}` }, data: { v: `${big}${i + j}` } }),
      ),
    );
  const list = await s.req('GET', `${ns}/configmaps`);
  t.equal(list.status, 200);
  t.ok(list.text.length > 1 << 20, 'reply larger than 1 MiB');
  t.equal(list.body.items.length, 40);
  t.same(
    list.body.items.map((i: Obj) => i.data.v.slice(big.length)),
    list.body.items.map((i: Obj) => i.metadata.name.slice(1)),
    'every item intact',
  );
  const rv = list.body.metadata.resourceVersion as string;
  const exact = await s.req('GET', `${ns}/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
  t.equal(list.text, exact.text, 'same bytes as the store list');
});
