// The floor server of `skiff bench api --floor`: just enough of the API for the bench, objects padded to skiff's size.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLOOR_OBJECT_BYTES, serveFloor } from '../../src/bench/api-floor.js';

function request(url: string, token: string, method: string, path: string, body?: string) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('creates are answered and watched at skiff’s object size, listed, and refused without the token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-floor-'));
  const floor = await serveFloor(dir, true);
  t.teardown(() => {
    floor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const token = readFileSync(join(dir, 'tokens.csv'), 'utf8').split(',')[0]!;
  t.equal((await request(floor.url, 'wrong', 'GET', '/api/v1/namespaces/bench/pods')).status, 401);
  const ns = await request(floor.url, token, 'POST', '/api/v1/namespaces', '{"metadata":{"name":"bench"}}');
  t.equal(ns.status, 201);
  t.equal(JSON.parse(ns.text).metadata.resourceVersion, '1');

  const lines: string[] = [];
  const watching = new Promise<void>((resolve) => {
    http.get(
      `${floor.url}/api/v1/namespaces/bench/pods?watch=true`,
      { headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (d: string) => {
          buf += d;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            lines.push(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
            if (lines.length === 2) resolve();
          }
        });
      },
    );
  });
  await new Promise((r) => setTimeout(r, 100));
  for (const name of ['p-0', 'p-1']) {
    const r = await request(
      floor.url,
      token,
      'POST',
      '/api/v1/namespaces/bench/pods',
      `{"metadata":{"name":"${name}"}}`,
    );
    t.equal(r.status, 201);
    t.equal(Buffer.byteLength(r.text), FLOOR_OBJECT_BYTES, 'the answer has the size of a stored pod');
    t.equal(JSON.parse(r.text).metadata.name, name, 'and is the object sent');
  }
  await watching;
  t.same(
    lines.map((l) => [JSON.parse(l).type, JSON.parse(l).object.metadata.name]),
    [
      ['ADDED', 'p-0'],
      ['ADDED', 'p-1'],
    ],
  );
  const list = JSON.parse((await request(floor.url, token, 'GET', '/api/v1/namespaces/bench/pods')).text);
  t.same(
    list.items.map((p: { metadata: { name: string } }) => p.metadata.name),
    ['p-0', 'p-1'],
  );
});
