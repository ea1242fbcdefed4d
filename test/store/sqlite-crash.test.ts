// SIGKILLs a process in the middle of a stream of acknowledged SQLite writes and checks that every acknowledged
// write is there after reopening, byte for byte.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { spawnFixture } from './fixtures/spawn.js';
import { crashKey, crashValue } from './fixtures/values.js';

const ACKS_BEFORE_KILL = 12_000;

for (const synchronous of ['full', 'normal'] as const) {
  t.test(`synchronous=${synchronous}: every acknowledged write survives SIGKILL`, async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-crash-'));
    t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const child = spawnFixture('crash-writer.ts', [dataDir, synchronous]);
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    const acked = new Map<number, number>();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let partial = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') continue;
        const [i, rev] = line.split(' ').map(Number);
        acked.set(i!, rev!);
      }
      if (!killed && acked.size >= ACKS_BEFORE_KILL) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    // Read to the end: acks still in the pipe when the child died were acknowledged too.
    const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, signal) => resolve(signal)),
    );
    t.equal(exit, 'SIGKILL', `the writer was killed mid-stream ${stderr ? `(stderr: ${stderr})` : ''}`);
    t.ok(acked.size >= ACKS_BEFORE_KILL, `at least ${ACKS_BEFORE_KILL} writes were acknowledged (${acked.size})`);

    const store = await openSqliteStore({ dataDir, compactIntervalMs: 0 });
    t.teardown(() => store.close());
    let missing = 0;
    let wrong = 0;
    for (const [i, rev] of acked) {
      const kv = await store.get(crashKey(i));
      if (!kv) missing++;
      else if (kv.value !== crashValue(i) || kv.modRevision !== rev || kv.createRevision !== rev) wrong++;
    }
    t.equal(missing, 0, 'no acknowledged write is missing');
    t.equal(wrong, 0, 'every acknowledged write has its exact bytes and revision');
    const maxAcked = Math.max(...acked.values());
    t.ok((await store.currentRevision()) >= maxAcked, 'the store revision is at least the last acknowledged one');
    const listed = await store.list('/registry/crash/');
    t.ok(listed.items.length >= acked.size, 'the listing holds every acknowledged key');
    // Writes committed but not yet acknowledged may be present too; whatever is present must be intact.
    t.ok(
      listed.items.every((kv) => kv.value === crashValue(Number(kv.key.slice(-7)))),
      'every stored value is intact',
    );
  });
}
