// Runs the store conformance suite against the embedded SQLite backend, one fresh data dir per test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { conformance } from './fixtures/conformance.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-store-sqlite-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));

conformance(t, 'sqlite', (options) =>
  openSqliteStore({
    dataDir: fs.mkdtempSync(path.join(root, 'd-')),
    compaction: options?.compaction,
    watchBufferLimit: options?.watchBufferLimit,
    compactIntervalMs: 0,
  }),
);
