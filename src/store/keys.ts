// Key-range arithmetic and continue tokens shared by every store backend.
import { StoreError } from './types.js';

/**
 * The smallest key greater than every key starting with `prefix`, or undefined when no bound exists (empty prefix).
 * Incrementing the last code point keeps UTF-8 byte order, which is how both SQLite (BINARY) and etcd compare keys.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Skip the surrogate block: it has no UTF-8 encoding.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

export interface ContinuePoint {
  /** The revision every page of the listing is read at. */
  revision: number;
  /** The first key of the next page (inclusive). */
  start: string;
}

/** Encodes where the next page starts; opaque to callers (base64 of a small JSON object, like Kubernetes). */
export function encodeContinue(point: ContinuePoint): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: point.revision, start: point.start }), 'utf8').toString('base64url');
}

/** Decodes a continue token and checks it belongs to `prefix`; InvalidContinue otherwise. */
export function decodeContinue(token: string, prefix: string): ContinuePoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new StoreError('InvalidContinue', 'continue token is not valid');
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (
    typeof p !== 'object' ||
    p === null ||
    p.v !== 1 ||
    typeof p.rv !== 'number' ||
    !Number.isSafeInteger(p.rv) ||
    p.rv <= 0 ||
    typeof p.start !== 'string' ||
    !p.start.startsWith(prefix)
  ) {
    throw new StoreError('InvalidContinue', 'continue token is not valid for this listing');
  }
  return { revision: p.rv, start: p.start };
}

/** The key after `key` in byte order: the start of the page that follows a page ending at `key`. */
export function keyAfter(key: string): string {
  return key + '\u0000';
}

/** True when `key` lies in [prefix, end). */
export function inRange(key: string, prefix: string, end: string | undefined): boolean {
  return key.startsWith(prefix) && (end === undefined || key < end);
}

/** Rejects keys and values a backend could not store faithfully (etcd refuses empty keys; values must be text). */
export function assertWritable(key: unknown, value?: unknown): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('store key must be a non-empty string');
  if (value !== undefined && typeof value !== 'string') throw new TypeError(`store value for ${key} must be a string`);
}
