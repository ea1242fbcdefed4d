// Field sets for server-side apply: paths into an object in fieldsV1 notation (`f:name`, `k:{...}`, `v:...`).
//
// A path is a list of segments; a set is a Map from an encoded path to its segments. Lists with merge keys are
// addressed by key (`k:{"name":"nginx"}`, keys sorted, missing key fields defaulted like upstream's protocol TCP),
// primitive sets by value (`v:"a"`), everything atomic is one leaf.
import { deepEqual, isObject, type JsonObject } from './json-value.js';
import { fieldMeta, type FieldMeta, type TypeMeta } from './schema.js';

export type Path = string[];
export type FieldSet = Map<string, Path>;

const sep = '\u0000';
export const encodePath = (p: Path): string => p.join(sep);

/** Top-level fields the field manager never tracks (fieldmanager/internal/stripmeta.go upstream). */
const untrackedMeta = new Set([
  'name',
  'namespace',
  'creationTimestamp',
  'selfLink',
  'uid',
  'generation',
  'managedFields',
  'resourceVersion',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

function isTracked(path: Path, key: string): boolean {
  if (path.length === 0) return key !== 'apiVersion' && key !== 'kind';
  if (path.length === 1 && path[0] === 'f:metadata') return !untrackedMeta.has(key);
  return true;
}

export function listKeysOf(meta: FieldMeta | undefined): string[] | undefined {
  if (!meta || meta.strategy !== 'merge' || !meta.mergeKey) return undefined;
  return meta.listKeys ?? [meta.mergeKey];
}

export function isSetList(meta: FieldMeta | undefined): boolean {
  return !!meta && meta.strategy === 'merge' && !meta.mergeKey;
}

/** The `k:` segment of a list element, or undefined when a key field is missing. */
export function elementKey(item: unknown, meta: FieldMeta): string | undefined {
  if (!isObject(item)) return undefined;
  const keys = [...listKeysOf(meta)!].sort();
  const obj: JsonObject = {};
  for (const k of keys) {
    const v = item[k] ?? meta.keyDefaults?.[k];
    if (v === undefined) return undefined;
    obj[k] = v;
  }
  return `k:${JSON.stringify(obj)}`;
}

/**
 * Adds the fields present in `value` below `path` to `out`. `nodes` = also add every intermediate object
 * (what an Update owns when it creates a map); otherwise only leaves and list elements (what an Apply owns).
 */
export function collect(value: unknown, schema: TypeMeta | undefined, path: Path, out: FieldSet, nodes: boolean): void {
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined || !isTracked(path, key)) continue;
    const meta = fieldMeta(schema, key);
    const p = [...path, `f:${key}`];
    collectValue(v, meta, p, out, nodes);
  }
}

function add(out: FieldSet, p: Path): void {
  out.set(encodePath(p), p);
}

function collectValue(v: unknown, meta: FieldMeta | undefined, p: Path, out: FieldSet, nodes: boolean): void {
  if (meta?.atomic) return add(out, p);
  if (isObject(v)) {
    if (Object.keys(v).length === 0 || nodes) add(out, p);
    collect(v, meta?.type?.(), p, out, nodes);
    return;
  }
  if (Array.isArray(v)) {
    if (listKeysOf(meta)) {
      for (const item of v) {
        const k = elementKey(item, meta!);
        if (k === undefined) continue;
        const ip = [...p, k];
        add(out, ip);
        collect(item, meta!.type?.(), ip, out, nodes);
      }
      if (nodes || v.length === 0) add(out, p);
      return;
    }
    if (isSetList(meta)) {
      for (const item of v) add(out, [...p, `v:${JSON.stringify(item)}`]);
      if (nodes || v.length === 0) add(out, p);
      return;
    }
  }
  add(out, p);
}

/** Looks a path up in an object. */
export function lookup(
  obj: unknown,
  schema: TypeMeta | undefined,
  path: Path,
): { found: boolean; value?: unknown; parent?: unknown; at?: string | number } {
  let cur: unknown = obj;
  let sch = schema;
  let meta: FieldMeta | undefined;
  let parent: unknown;
  let at: string | number | undefined;
  for (const seg of path) {
    if (seg.startsWith('f:')) {
      const key = seg.slice(2);
      if (!isObject(cur) || !(key in cur) || cur[key] === null) return { found: false };
      meta = fieldMeta(sch, key);
      sch = meta?.type?.();
      parent = cur;
      at = key;
      cur = cur[key];
    } else if (seg.startsWith('k:')) {
      if (!Array.isArray(cur) || !meta) return { found: false };
      const m = meta;
      const i = cur.findIndex((x) => elementKey(x, m) === seg);
      if (i < 0) return { found: false };
      parent = cur;
      at = i;
      cur = cur[i];
      // Elements share the list's schema; field lookups continue from the element type.
    } else if (seg.startsWith('v:')) {
      if (!Array.isArray(cur)) return { found: false };
      const want = JSON.parse(seg.slice(2)) as unknown;
      const i = cur.findIndex((x) => deepEqual(x, want));
      if (i < 0) return { found: false };
      parent = cur;
      at = i;
      cur = cur[i];
    } else return { found: false };
  }
  return { found: true, value: cur, parent, at };
}

/** Human form of a path as upstream prints it: `.spec.containers[name="nginx"].image`. */
export function formatPath(path: Path): string {
  let s = '';
  for (const seg of path) {
    if (seg.startsWith('f:')) s += `.${seg.slice(2)}`;
    else if (seg.startsWith('k:')) {
      const obj = JSON.parse(seg.slice(2)) as JsonObject;
      s += `[${Object.entries(obj)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (seg.startsWith('v:')) s += `[=${seg.slice(2)}]`;
  }
  return s;
}

/** fieldsV1 JSON tree from a set (members with children get a "." entry). */
export function toFieldsV1(set: FieldSet): JsonObject {
  interface Node {
    member: boolean;
    children: Map<string, Node>;
  }
  const root: Node = { member: false, children: new Map() };
  const paths = [...set.values()].sort((a, b) => (encodePath(a) < encodePath(b) ? -1 : 1));
  for (const p of paths) {
    let n = root;
    for (const seg of p) {
      let c = n.children.get(seg);
      if (!c) n.children.set(seg, (c = { member: false, children: new Map() }));
      n = c;
    }
    n.member = true;
  }
  const emit = (n: Node): JsonObject => {
    const o: JsonObject = {};
    if (n.member && n.children.size > 0) o['.'] = {};
    for (const [k, c] of n.children) o[k] = emit(c);
    return o;
  };
  return emit(root);
}

export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Map();
  const walk = (node: unknown, p: Path) => {
    if (!isObject(node)) return;
    for (const [k, child] of Object.entries(node)) {
      if (k === '.') {
        if (p.length) add(out, p);
        continue;
      }
      const cp = [...p, k];
      if (isObject(child) && Object.keys(child).length === 0) add(out, cp);
      else walk(child, cp);
    }
  };
  walk(tree, []);
  return out;
}
