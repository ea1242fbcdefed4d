// SIGKILL the server mid-load and start it again: every acknowledged object is there, and a watcher that resumes
// from the last resourceVersion it saw misses no event.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'serve.ts');

async function serve(dir: string): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server did not start')), 60_000);
    child.stdout!.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return { child, url, token };
}

function request(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const r = http.request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(payload);
  });
}

interface Seen {
  names: Set<string>;
  lastRv: string;
}

function watch(url: string, token: string, path: string, seen: Seen): http.ClientRequest {
  const r = http.request(`${url}${path}`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
    let buf = '';
    res.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (ev.type === 'ADDED') seen.names.add(ev.object.metadata.name);
        if (ev.object?.metadata?.resourceVersion) seen.lastRv = ev.object.metadata.resourceVersion;
      }
    });
    res.on('error', () => {});
  });
  r.on('error', () => {});
  r.end();
  return r;
}

t.test('SIGKILL and restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let srv = await serve(dir);
  t.teardown(() => {
    srv.child.kill('SIGKILL');
  });
  const ns = '/api/v1/namespaces/default/configmaps';
  const list = await request(srv.url, srv.token, 'GET', ns);
  const seen: Seen = { names: new Set(), lastRv: list.body.metadata.resourceVersion };
  watch(srv.url, srv.token, `${ns}?watch=true&resourceVersion=${seen.lastRv}`, seen);
  await new Promise((r) => setTimeout(r, 200));

  const acked: string[] = [];
  let next = 0;
  let killed = false;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!killed && next < 2000) {
        const name = `cm-${next++}`;
        try {
          const r = await request(srv.url, srv.token, 'POST', ns, { metadata: { name }, data: { n: name } });
          if (r.status === 201) acked.push(name);
        } catch {
          return; // the server is gone
        }
        if (acked.length === 150 && !killed) {
          killed = true;
          srv.child.kill('SIGKILL');
        }
      }
    }),
  );
  t.ok(killed, 'killed mid-load');
  await new Promise((r) => srv.child.once('exit', r));
  t.ok(acked.length >= 150);
  const beforeRestart = seen.names.size;

  srv = await serve(dir);
  for (const name of acked) {
    const r = await request(srv.url, srv.token, 'GET', `${ns}/${name}`);
    if (r.status !== 200) t.fail(`acknowledged ${name} lost`);
  }
  t.pass(`all ${acked.length} acknowledged objects present after restart`);

  // Resume the watch from the last resourceVersion seen before the crash.
  watch(srv.url, srv.token, `${ns}?watch=true&resourceVersion=${seen.lastRv}`, seen);
  await request(srv.url, srv.token, 'POST', ns, { metadata: { name: 'after-restart' } });
  const stored = (await request(srv.url, srv.token, 'GET', ns)).body.items.map(
    (i: { metadata: { name: string } }) => i.metadata.name,
  );
  for (let i = 0; i < 100 && seen.names.size < stored.length; i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(beforeRestart > 0, 'the watcher saw events before the crash');
  const missed = stored.filter((n: string) => !seen.names.has(n));
  t.same(missed, [], 'the resumed watcher saw every stored object created');
  t.ok(seen.names.has('after-restart'));
  srv.child.kill('SIGTERM');
  await new Promise((r) => srv.child.once('exit', r));
});
