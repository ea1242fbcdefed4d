// The store factory and its CLI flags.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openStore, parseStoreFlags } from '../../src/store/index.js';

t.test('parseStoreFlags reads --store and --etcd-endpoints and leaves the rest', (t) => {
  t.same(parseStoreFlags(['up', '--port', '6443']), { options: {}, rest: ['up', '--port', '6443'] });
  t.same(parseStoreFlags(['--store', 'sqlite', '-v']), { options: { backend: 'sqlite' }, rest: ['-v'] });
  t.same(parseStoreFlags(['--store=etcd', '--etcd-endpoints', 'http://127.0.0.1:2379,http://127.0.0.2:2379']), {
    options: { backend: 'etcd', etcdEndpoints: ['http://127.0.0.1:2379', 'http://127.0.0.2:2379'] },
    rest: [],
  });
  t.throws(() => parseStoreFlags(['--store', 'mysql']), /--store must be sqlite or etcd/);
  t.throws(() => parseStoreFlags(['--store']), /--store needs a value/);
  t.throws(() => parseStoreFlags(['--store', 'etcd', '--etcd-endpoints', 'localhost:2379']), /must be http/);
  t.throws(() => parseStoreFlags(['--store', 'etcd', '--etcd-endpoints', 'not a url']), /is not a URL/);
  t.throws(() => parseStoreFlags(['--etcd-endpoints', 'http://127.0.0.1:2379']), /only valid with --store etcd/);
  t.end();
});

t.test('openStore defaults to SQLite in the data dir', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-openstore-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await openStore({ dataDir: dir, compactIntervalMs: 0 });
  t.equal(store.backend, 'sqlite');
  await store.create('/x', 'y');
  await store.close();
  t.ok(fs.existsSync(path.join(dir, 'state.db')), 'state lives in <dataDir>/state.db');
});

t.test('openStore refuses etcd without endpoints and unknown backends', async (t) => {
  await t.rejects(openStore({ backend: 'etcd' }), /--etcd-endpoints/);
  await t.rejects(openStore({ backend: 'redis' as never }), /unknown store backend "redis"/);
});
