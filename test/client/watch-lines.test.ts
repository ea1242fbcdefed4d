// watchEvents cuts a watch stream into events however the bytes are chunked: lines across chunks, a UTF-8
// character split between chunks, CRLF endings and blank lines.
import t from 'tap';
import { Readable } from 'node:stream';
import { watchEvents } from '../../src/client/watch.js';
import type { StreamResponse } from '../../src/client/transport.js';

function stream(chunks: Buffer[], statusCode = 200): () => Promise<StreamResponse> {
  return async () => ({ statusCode, headers: {}, body: Readable.from(chunks), close: () => {} });
}

async function collect(open: () => Promise<StreamResponse>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const ev of watchEvents(open)) out.push(ev);
  return out;
}

const events = [
  { type: 'ADDED', object: { metadata: { name: 'a' }, data: { price: '5 €', jp: '日本' } } },
  { type: 'MODIFIED', object: { metadata: { name: 'b' } } },
  { type: 'DELETED', object: { metadata: { name: 'c' }, data: { emoji: '🚢' } } },
];

t.test('every split of the byte stream gives the same events', async (t) => {
  const bytes = Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n', 'utf8');
  for (let cut = 1; cut < bytes.length; cut += 3) {
    const got = await collect(stream([bytes.subarray(0, cut), bytes.subarray(cut)]));
    t.same(got, events, `split at byte ${cut}`);
  }
  const oneByOne = await collect(stream([...bytes].map((b) => Buffer.from([b]))));
  t.same(oneByOne, events, 'one byte per chunk');
});

t.test('CRLF, blank lines and a last line without newline', async (t) => {
  const text = `\r\n${JSON.stringify(events[0])}\r\n\n  ${JSON.stringify(events[1])}  \n${JSON.stringify(events[2])}`;
  t.same(await collect(stream([Buffer.from(text)])), events);
});

t.test('a malformed line is an InternalError', async (t) => {
  await t.rejects(collect(stream([Buffer.from('{"type":"ADDED","object":{}}\nnot json\n')])), {
    code: 500,
    message: /malformed watch event: not json/,
  });
  await t.rejects(collect(stream([Buffer.from('{"type":1}\n')])), { code: 500 });
});

t.test('an error status before the stream is a StatusError', async (t) => {
  const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Gone', code: 410, message: 'too old' };
  await t.rejects(collect(stream([Buffer.from(JSON.stringify(status))], 410)), { code: 410, reason: 'Gone' });
});
