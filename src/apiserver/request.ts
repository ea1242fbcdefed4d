// Parses an API URL into group/version/namespace/resource/name/subresource and reads the common query parameters.
import { badRequest } from '../api/status.js';

export interface ApiPath {
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
}

/** `/api/v1/namespaces/ns/pods/x/status` → parts; undefined when the path is not under /api or /apis. */
export function parseApiPath(pathname: string): ApiPath | undefined {
  const segs = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  let i: number;
  const out: ApiPath = { group: '', version: '' };
  if (segs[0] === 'api') {
    if (segs.length < 2) return undefined;
    out.version = segs[1]!;
    i = 2;
  } else if (segs[0] === 'apis') {
    if (segs.length < 3) return undefined;
    out.group = segs[1]!;
    out.version = segs[2]!;
    i = 3;
  } else return undefined;
  const rest = segs.slice(i);
  if (rest.length === 0) return out;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
  ) {
    out.namespace = rest[1];
    out.resource = rest[2];
    out.name = rest[3];
    out.subresource = rest[4];
    if (rest.length > 5) return undefined;
  } else {
    out.resource = rest[0];
    out.name = rest[1];
    out.subresource = rest[2];
    if (rest.length > 3) return undefined;
  }
  return out;
}

export type Query = URLSearchParams;

export function queryOf(url: string): Query {
  const q = url.indexOf('?');
  return new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
}

export function boolParam(q: Query, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

export function intParam(q: Query, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: "${v}"`);
  return Number(v);
}

/** resourceVersion query parameter as a number (undefined when absent or empty). */
export function rvParam(q: Query, name = 'resourceVersion'): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`invalid resource version "${v}"`);
  return Number(v);
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidation(q: Query): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: "${v}"; valid values are Ignore, Warn, and Strict`);
}

export function dryRun(q: Query): boolean {
  const all = q.getAll('dryRun');
  for (const v of all) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return all.length > 0;
}

/** Whether the Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const part of accept.split(',')) {
    const p = part.replace(/\s/g, '');
    if (p.includes('as=Table') && p.includes('g=meta.k8s.io')) return true;
    if (p.startsWith('application/json') && !p.includes('as=')) return false;
  }
  return false;
}

/** Whether the Accept header asks for metadata only (PartialObjectMetadata). */
export function wantsMetadata(accept: string | undefined): 'item' | 'list' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const p = part.replace(/\s/g, '');
    if (p.includes('as=PartialObjectMetadataList') && p.includes('g=meta.k8s.io')) return 'list';
    if (p.includes('as=PartialObjectMetadata') && p.includes('g=meta.k8s.io')) return 'item';
    if (p.startsWith('application/json') && !p.includes('as=')) return undefined;
  }
  return undefined;
}
