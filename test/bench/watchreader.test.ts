// The benchmark's lean watch reader: chunked decoding and line splitting under any split of the input, and a real watch.
import t from 'tap';
import http2 from 'node:http2';
import { ChunkedDecoder, h2Watch, LineSplitter, rawWatch } from '../../src/bench/watchreader.js';
import { startTestServer } from '../apiserver/helpers.js';

/** Encodes `lines` as a chunked body, cutting chunks at the given sizes (lines may straddle chunks). */
function chunked(text: string, sizes: number[]): Buffer {
  const body = Buffer.from(text);
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, body.length - at);
    const ext = i % 3 === 1 ? ';name=value' : '';
    out.push(Buffer.from(`${n.toString(16)}${ext}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  out.push(Buffer.from('0\r\nX-Trailer: 1\r\n\r\n'));
  return Buffer.concat(out);
}

/** Feeds `wire` in pieces of the given sizes; returns the lines seen and whether the end was reached. */
function decode(wire: Buffer, pieces: number[]): { lines: string[]; ended: boolean } {
  const lines: string[] = [];
  let ended = false;
  const splitter = new LineSplitter((buf, start, nl) => lines.push(buf.toString('utf8', start, nl)));
  const d = new ChunkedDecoder(
    (buf, s, e) => splitter.feed(buf, s, e),
    () => (ended = true),
  );
  let at = 0;
  for (let i = 0; at < wire.length; i++) {
    const n = pieces[i % pieces.length]!;
    // A fresh buffer per piece, as sockets deliver them.
    d.feed(Buffer.from(wire.subarray(at, at + n)));
    at += n;
  }
  return { lines, ended };
}

t.test('chunked body and lines survive every way of splitting them', async (t) => {
  const lines = Array.from(
    { length: 60 },
    (_, i) => `{"type":"ADDED","n":${i},"s":"${'é'.repeat(i % 7)}${'x'.repeat(i * 13)}"}`,
  );
  const text = lines.map((l) => `${l}\n`).join('');
  for (const chunkSizes of [[1], [7, 300], [4096], [text.length]])
    for (const pieces of [[1], [3, 11], [17], [1000], [1 << 20]]) {
      const r = decode(chunked(text, chunkSizes), pieces);
      t.same(r.lines, lines, `chunks ${chunkSizes} read in ${pieces}`);
      t.ok(r.ended, 'end of body seen');
    }
});

t.test('malformed framing is an error', async (t) => {
  const bad = (wire: string) => () =>
    new ChunkedDecoder(
      () => {},
      () => {},
    ).feed(Buffer.from(wire));
  t.throws(bad('zz\r\nabc\r\n'), /chunk size/);
  t.throws(bad('3\r\nabcXY'), /CRLF/);
  t.throws(bad('\r\nabc'), /without a size/);
});

/** Splits watch bytes into events and notes "TYPE name" of each; `all` settles once `n` have arrived. */
function eventCollector(n: number): { got: string[]; all: Promise<void>; splitter: LineSplitter } {
  const got: string[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const splitter = new LineSplitter((buf, start, nl) => {
    const ev = JSON.parse(buf.toString('utf8', start, nl));
    got.push(`${ev.type} ${ev.object.metadata.name}`);
    if (got.length === n) done();
  });
  return { got, all, splitter };
}

t.test('a real watch read through a bare socket', async (t) => {
  const s = await startTestServer(t);
  const ns = '/api/v1/namespaces/default';
  const first = await s.req('POST', `${ns}/configmaps`, { metadata: { name: 'a' } });
  const { got, all, splitter } = eventCollector(20);
  let times = 0;
  const w = rawWatch({
    url: new URL(s.server.url),
    path: `${ns}/configmaps?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`,
    token: s.server.adminToken,
    onData: (buf, start, end, now) => {
      if (now > 0) times++;
      splitter.feed(buf, start, end);
    },
  });
  t.teardown(() => w.destroy());
  for (let i = 0; i < 20; i++) await s.req('POST', `${ns}/configmaps`, { metadata: { name: `c${i}` } });
  await all;
  t.same(
    got,
    Array.from({ length: 20 }, (_, i) => `ADDED c${i}`),
  );
  t.ok(times > 0, 'arrival times passed along');

  let failure: Error | undefined;
  const ended = new Promise<void>((r) =>
    rawWatch({
      url: new URL(s.server.url),
      path: `${ns}/configmaps?watch=true`,
      token: 'wrong',
      onData: () => {},
      onEnd: (err) => ((failure = err), r()),
    }),
  );
  await ended;
  t.match(failure?.message, /401/, 'a refused watch reports its status');
});

t.test('a real watch read as an HTTP/2 stream', async (t) => {
  const s = await startTestServer(t, { insecureHttp: false });
  const ns = '/api/v1/namespaces/default';
  const session = http2.connect(s.server.url, { ca: s.server.caCert });
  t.teardown(() => session.close());
  const token = s.server.adminToken;
  const create = (name: string) =>
    new Promise<void>((resolve, reject) => {
      const r = session.request({
        ':method': 'POST',
        ':path': `${ns}/configmaps`,
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      });
      r.on('data', () => {});
      r.on('end', resolve);
      r.on('error', reject);
      r.end(JSON.stringify({ metadata: { name } }));
    });
  const { got, all, splitter } = eventCollector(20);
  const w = h2Watch(session, {
    path: `${ns}/configmaps?watch=true`,
    token,
    onData: (buf, start, end) => splitter.feed(buf, start, end),
  });
  t.teardown(() => w.destroy());
  for (let i = 0; i < 20; i++) await create(`h${i}`);
  await all;
  t.same(
    got,
    Array.from({ length: 20 }, (_, i) => `ADDED h${i}`),
  );

  let failure: Error | undefined;
  await new Promise<void>((r) =>
    h2Watch(session, {
      path: `${ns}/configmaps?watch=true`,
      token: 'wrong',
      onData: () => {},
      onEnd: (err) => ((failure = err), r()),
    }),
  );
  t.match(failure?.message, /401/, 'a refused watch reports its status');
});
