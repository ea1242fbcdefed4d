// Over TLS the API server speaks HTTP/2 (what kubectl and client-go negotiate) and still HTTP/1.1 by ALPN.
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startApiServer } from '../../src/apiserver/server.js';

t.test('HTTP/2 and HTTP/1.1 on one TLS port', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-h2-'));
  const server = await startApiServer({ dataDir: dir, port: 0, log: () => {} });
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const auth = { authorization: `Bearer ${server.adminToken}` };
  const session = http2.connect(server.url, { ca: server.caCert });
  t.teardown(() => session.close());
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  t.equal(session.alpnProtocol, 'h2', 'HTTP/2 negotiated');

  const h2 = (headers: http2.OutgoingHttpHeaders, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const s = session.request({ ...auth, ...headers });
      let status = 0;
      let text = '';
      s.setEncoding('utf8');
      s.on('response', (h) => (status = Number(h[':status'])));
      s.on('data', (d: string) => (text += d));
      s.on('end', () => resolve({ status, body: text }));
      s.on('error', reject);
      s.end(body);
    });

  const missing = await h2({ ':path': '/api/v1/namespaces/default/pods/nope' });
  t.equal(missing.status, 404);
  t.equal(JSON.parse(missing.body).reason, 'NotFound', 'errors are metav1.Status over HTTP/2 too');

  // A watch is one stream of the same session; a create on another stream shows up on it.
  const watch = session.request({ ...auth, ':path': '/api/v1/namespaces/default/configmaps?watch=true' });
  watch.setEncoding('utf8');
  const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => watch.once('response', resolve));
  t.equal(headers[':status'], 200);
  t.notOk('transfer-encoding' in headers, 'no HTTP/1 framing header on an HTTP/2 stream');
  const firstEvent = new Promise<{ type: string; object: { metadata: { name: string } } }>((resolve) => {
    let text = '';
    watch.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(text.slice(0, nl)));
    });
  });
  const created = await h2(
    { ':method': 'POST', ':path': '/api/v1/namespaces/default/configmaps', 'content-type': 'application/json' },
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-h2' }, data: { a: '1' } }),
  );
  t.equal(created.status, 201);
  const ev = await firstEvent;
  t.equal(ev.type, 'ADDED');
  t.equal(ev.object.metadata.name, 'over-h2');
  watch.close();

  // HTTP/1.1 clients (client-node, curl --http1.1) still get answers on the same port.
  const h1 = await new Promise<{ status: number; version: string; body: string }>((resolve, reject) => {
    const req = https.request(
      `${server.url}/api/v1/namespaces/default/configmaps/over-h2`,
      { ca: server.caCert, headers: auth, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion, body: text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  t.equal(h1.version, '1.1');
  t.equal(h1.status, 200);
  t.equal(JSON.parse(h1.body).data.a, '1');
});
