// Reads a listing out of the SQLite log in packed chunks: one row per chunk of keys instead of one row per key.
//
// Why: row by row, a listing of 10,000 ~1 KB objects makes 10,000 value strings in V8's young generation, all alive
// until the caller is done, so scavenges copy them and promote them into freshly mapped old-space pages that a later
// GC unmaps again. A fresh page costs ~15 µs to fault in on the 2-core VMs skiff is measured on, and that churn
// (3,000-4,000 page faults per list) rather than the SQL was most of a list's time and nearly all of its variance.
// Packed, a chunk's values arrive as one buffer and become one string — Node makes latin-1 strings over ~1 MB
// external (EXTERN_APEX in its src/string_bytes.cc), in malloc'd memory mostly reused from list to list — and each
// value is a slice of it. Measured in the bench's setting: median page faults per 10,000-key list ~3,600 -> ~800,
// CPU ~105 -> ~44 ms on a loaded machine; a list that faults no pages takes ~12 ms, of which ~9 ms is SQL.
//
// A value kept as is (a V8 sliced string) keeps its chunk's string alive; a string built from it stops doing so
// once flattened (JSON.parse, Buffer.from, …). Keys are always copies: callers keep them in maps.
import { isAscii } from 'node:buffer';
import type Database from 'better-sqlite3';
import { keyAfter } from './keys.js';
import { StoreError, type KeyValue } from './types.js';

/** Keys per packed read; larger listings take several reads at the same revision. */
export const LIST_CHUNK = 4096;
/**
 * Values of at least this many bytes are read one by one instead of packed, which bounds a chunk's value buffer to
 * LIST_CHUNK × 64 KiB = 256 MiB, below V8's longest string (2^29 - 24 characters). Objects that large are rare.
 */
export const PACKED_VALUE_MAX = 65_536;

/** One chunk: count, then ids, create revisions, key and value byte lengths (comma-separated), keys, values. */
type PackedRow = [
  count: number,
  ids: string | null,
  creates: string | null,
  keyBytes: string | null,
  valueBytes: string | null,
  keys: Buffer | null,
  values: Buffer | null,
];

export interface ListStatements {
  packedBounded: Database.Statement<[string, string, number, number], PackedRow>;
  packedOpen: Database.Statement<[string, number, number], PackedRow>;
  valueById: Database.Statement<[number], string>;
}

/**
 * Prepares the packed listing statements. The inner query picks each key's newest row at or below the revision
 * (SQLite fills the bare columns from the row holding MAX(id)) and drops keys whose newest row is a delete; values
 * are joined by id afterwards, so superseded rows' values are never read. Every aggregate of the outer query sees
 * the rows in one pass in the same order, so the i-th entries of all lists belong to the same key; that the order is
 * the inner query's key order is checked while unpacking.
 */
export function prepareListStatements(db: Database.Database): ListStatements {
  const sql = (bounded: boolean) => `
    SELECT COUNT(*), group_concat(l.id), group_concat(l.create_revision), group_concat(octet_length(l.name)),
      group_concat(octet_length(v.value)), CAST(group_concat(l.name, '') AS BLOB),
      CAST(group_concat(CASE WHEN octet_length(v.value) < ${PACKED_VALUE_MAX} THEN v.value ELSE '' END, '') AS BLOB)
    FROM (
      SELECT MAX(id) AS id, name, create_revision FROM log
      WHERE ${bounded ? 'name >= ? AND name < ? AND id <= ?' : 'name >= ? AND id <= ?'}
      GROUP BY name HAVING deleted = 0 ORDER BY name LIMIT ?
    ) AS l JOIN log AS v ON v.id = l.id`;
  return {
    packedBounded: db.prepare<[string, string, number, number], PackedRow>(sql(true)).raw(true),
    packedOpen: db.prepare<[string, number, number], PackedRow>(sql(false)).raw(true),
    valueById: db.prepare<[number], string>(`SELECT value FROM log WHERE id = ?`).pluck(true),
  };
}

/**
 * Live keys in [start, end) at `revision`, in key order: at most `max` of them (-1: all). Synchronous, so no write
 * or compaction step runs between the chunks; every chunk reads at the same revision.
 */
export function readListing(
  stmts: ListStatements,
  start: string,
  end: string | undefined,
  revision: number,
  max: number,
): KeyValue[] {
  const items: KeyValue[] = [];
  let from = start;
  for (;;) {
    const want = max < 0 ? LIST_CHUNK : Math.min(LIST_CHUNK, max - items.length);
    const row =
      end === undefined
        ? stmts.packedOpen.get(from, revision, want)!
        : stmts.packedBounded.get(from, end, revision, want)!;
    const got = unpack(row, items, stmts.valueById);
    if (got < want || items.length === max) return items;
    from = keyAfter(items[items.length - 1]!.key);
  }
}

function numbers(list: string | null): number[] {
  return list ? (JSON.parse(`[${list}]`) as number[]) : [];
}

const EMPTY = Buffer.alloc(0);

/** Appends a chunk's entries to `out`; returns how many there were. */
function unpack(row: PackedRow, out: KeyValue[], valueById: ListStatements['valueById']): number {
  const count = row[0];
  if (count === 0) return 0;
  const ids = numbers(row[1]);
  const creates = numbers(row[2]);
  const keyBytes = numbers(row[3]);
  const valueBytes = numbers(row[4]);
  const keys = row[5] ?? EMPTY;
  const values = row[6] ?? EMPTY;
  const keysAscii = isAscii(keys);
  const valuesAscii = isAscii(values);
  // Latin-1 maps byte i to character i, so every ASCII value is the slice at its byte offsets; others are decoded.
  const text = values.toString('latin1');
  let kp = 0;
  let vp = 0;
  let prevKey = '';
  let prevStart = 0;
  for (let i = 0; i < count; i++) {
    const ke = kp + keyBytes[i]!;
    // Keys are copied out (never slices): callers keep keys in maps long after the listing is gone.
    const key = keysAscii ? keys.toString('latin1', kp, ke) : keys.toString('utf8', kp, ke);
    const inOrder = keysAscii ? prevKey < key : keys.compare(keys, kp, ke, prevStart, kp) < 0;
    if (i > 0 && !inOrder) {
      throw new StoreError('Unavailable', `sqlite returned a listing out of key order at ${JSON.stringify(key)}`);
    }
    const n = valueBytes[i]!;
    let value: string;
    if (n >= PACKED_VALUE_MAX) {
      value = valueById.get(ids[i]!)!;
    } else {
      const ve = vp + n;
      value = valuesAscii || isAscii(values.subarray(vp, ve)) ? text.slice(vp, ve) : values.toString('utf8', vp, ve);
      vp = ve;
    }
    out.push({ key, value, createRevision: creates[i]!, modRevision: ids[i]! });
    prevKey = key;
    prevStart = kp;
    kp = ke;
  }
  if (kp !== keys.length || vp !== values.length) {
    throw new StoreError('Unavailable', 'sqlite returned a packed listing whose lengths do not add up');
  }
  return count;
}
