// Field paths for server-side apply, in fieldsV1 notation (`f:name`, `k:{...}`, `v:...`), and the fieldsV1 tree ops.
//
// Lists with merge keys are addressed by key (`k:{"name":"nginx"}`, keys sorted, missing key fields defaulted
// like upstream's protocol TCP), primitive sets by value (`v:"a"`), everything atomic is one leaf. Ownership is
// kept directly in fieldsV1 trees (a member is a `{}` leaf or a node with a "." child), so an update that touches
// a few fields only walks those paths instead of re-parsing every manager.
import { deepEqual, isObject, type JsonObject } from './json-value.js';
import { fieldMeta, type FieldMeta, type TypeMeta } from './schema.js';

export type Path = string[];

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

function isTracked(depth: number, parent: string | undefined, key: string): boolean {
  if (depth === 0) return key !== 'apiVersion' && key !== 'kind';
  if (depth === 1 && parent === 'f:metadata') return !untrackedMeta.has(key);
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
  const keys = listKeysOf(meta)!;
  if (keys.length === 1) {
    const v = item[keys[0]!] ?? meta.keyDefaults?.[keys[0]!];
    return v === undefined ? undefined : `k:{${JSON.stringify(keys[0])}:${JSON.stringify(v)}}`;
  }
  const obj: JsonObject = {};
  for (const k of [...keys].sort()) {
    const v = item[k] ?? meta.keyDefaults?.[k];
    if (v === undefined) return undefined;
    obj[k] = v;
  }
  return `k:${JSON.stringify(obj)}`;
}

type Kind = 'object' | 'keyed' | 'set' | 'leaf';

function kindOf(v: unknown, meta: FieldMeta | undefined): Kind {
  if (meta?.atomic) return 'leaf';
  if (isObject(v)) return 'object';
  if (Array.isArray(v)) {
    if (listKeysOf(meta)) return 'keyed';
    if (isSetList(meta)) return 'set';
  }
  return 'leaf';
}

/**
 * Calls `emit` for every field of `value` (a top-level object). `nodes` = also every object/list node (what an
 * Update owns when it creates a map); otherwise only leaves, list elements and empty containers (an Apply's set).
 */
export function collect(
  value: unknown,
  schema: TypeMeta | undefined,
  emit: (p: Path) => void,
  nodes: boolean,
  prefix: Path = [],
): void {
  const stack: string[] = prefix.slice();
  const walkObject = (obj: JsonObject, sch: TypeMeta | undefined) => {
    const parent = stack[stack.length - 1];
    for (const key in obj) {
      const v = obj[key];
      if (v === null || v === undefined || !isTracked(stack.length, parent, key)) continue;
      stack.push(`f:${key}`);
      walkValue(v, fieldMeta(sch, key));
      stack.pop();
    }
  };
  const walkValue = (v: unknown, meta: FieldMeta | undefined) => {
    switch (kindOf(v, meta)) {
      case 'leaf':
        emit(stack.slice());
        return;
      case 'object':
        if (nodes || Object.keys(v as object).length === 0) emit(stack.slice());
        walkObject(v as JsonObject, meta?.type?.());
        return;
      case 'keyed': {
        const list = v as unknown[];
        if (nodes || list.length === 0) emit(stack.slice());
        const sub = meta!.type?.();
        for (const item of list) {
          const k = elementKey(item, meta!);
          if (k === undefined) continue;
          stack.push(k);
          emit(stack.slice());
          walkObject(item as JsonObject, sub);
          stack.pop();
        }
        return;
      }
      case 'set': {
        const list = v as unknown[];
        if (nodes || list.length === 0) emit(stack.slice());
        for (const item of list) emit([...stack, `v:${JSON.stringify(item)}`]);
      }
    }
  };
  if (isObject(value)) walkObject(value, schema);
}

/** Returns the member node `seg` under `node`, creating it; a member gaining its first child is marked "." first. */
function memberChild(node: JsonObject, nodeIsMember: boolean, seg: string): JsonObject {
  const c = node[seg];
  if (isObject(c)) return c;
  if (nodeIsMember && isEmpty(node)) node['.'] = {};
  const n: JsonObject = {};
  node[seg] = n;
  return n;
}

function ownFields(
  node: JsonObject,
  member: boolean,
  obj: JsonObject,
  sch: TypeMeta | undefined,
  depth: number,
  seg?: string,
) {
  for (const key in obj) {
    const v = obj[key];
    if (v === null || v === undefined || !isTracked(depth, seg, key)) continue;
    const childSeg = `f:${key}`;
    ownValue(memberChild(node, member, childSeg), v, fieldMeta(sch, key), depth + 1, childSeg);
  }
}

function ownValue(node: JsonObject, v: unknown, meta: FieldMeta | undefined, depth: number, seg: string) {
  switch (kindOf(v, meta)) {
    case 'leaf':
      return;
    case 'object':
      ownFields(node, true, v as JsonObject, meta?.type?.(), depth, seg);
      return;
    case 'keyed': {
      const sub = meta!.type?.();
      for (const item of v as unknown[]) {
        const k = elementKey(item, meta!);
        if (k !== undefined) ownFields(memberChild(node, true, k), true, item as JsonObject, sub, depth + 1, k);
      }
      return;
    }
    case 'set':
      for (const item of v as unknown[]) memberChild(node, true, `v:${JSON.stringify(item)}`);
  }
}

/**
 * The fieldsV1 tree owning every field of `value`, object and list nodes included: exactly what
 * `collect(value, schema, (p) => treeAdd(tree, p), true)` builds (same members, same key order), in one walk
 * without path arrays. A create records this for its manager, so it is on the hot path of every POST.
 */
export function ownedTree(value: unknown, schema: TypeMeta | undefined): JsonObject {
  const tree: JsonObject = {};
  if (isObject(value)) ownFields(tree, false, value, schema, 0);
  return tree;
}

/** Paths added or modified (changed) and paths that disappeared (removed) between two objects. */
export function diff(before: unknown, after: unknown, schema: TypeMeta): { changed: Path[]; removed: Path[] } {
  const changed: Path[] = [];
  const removed: Path[] = [];
  const stack: string[] = [];
  const all = (v: unknown, meta: FieldMeta | undefined, out: Path[]) => {
    // Everything under a node that exists on one side only.
    out.push(stack.slice());
    const push = (p: Path) => out.push(p);
    const k = kindOf(v, meta);
    if (k === 'object') {
      collect(v, meta?.type?.(), push, true, stack);
    } else if (k === 'keyed') {
      const sub = meta!.type?.();
      for (const item of v as unknown[]) {
        const key = elementKey(item, meta!);
        if (key === undefined) continue;
        const at = [...stack, key];
        out.push(at);
        collect(item, sub, push, true, at);
      }
    } else if (k === 'set') {
      for (const item of v as unknown[]) out.push([...stack, `v:${JSON.stringify(item)}`]);
    }
  };
  const objects = (a: JsonObject, b: JsonObject, sch: TypeMeta | undefined) => {
    const parent = stack[stack.length - 1];
    for (const key in b) {
      const vb = b[key];
      if (vb === null || vb === undefined || !isTracked(stack.length, parent, key)) continue;
      const meta = fieldMeta(sch, key);
      stack.push(`f:${key}`);
      const va = a[key];
      if (va === null || va === undefined) all(vb, meta, changed);
      else values(va, vb, meta);
      stack.pop();
    }
    for (const key in a) {
      const va = a[key];
      if (va === null || va === undefined || !isTracked(stack.length, parent, key)) continue;
      const vb = b[key];
      if (vb !== null && vb !== undefined) continue;
      stack.push(`f:${key}`);
      all(va, fieldMeta(sch, key), removed);
      stack.pop();
    }
  };
  const values = (va: unknown, vb: unknown, meta: FieldMeta | undefined) => {
    const ka = kindOf(va, meta);
    const kb = kindOf(vb, meta);
    if (ka !== kb || ka === 'leaf') {
      if (ka !== kb) {
        // The shape changed: the old subtree is gone and the new one is new.
        if (ka !== 'leaf') all(va, meta, removed);
        all(vb, meta, changed);
      } else if (!deepEqual(va, vb)) changed.push(stack.slice());
      return;
    }
    if (ka === 'object') {
      const a = va as JsonObject;
      const b = vb as JsonObject;
      // An empty map is itself a leaf of the set; becoming non-empty or empty is a change of that leaf.
      if ((Object.keys(a).length === 0) !== (Object.keys(b).length === 0)) changed.push(stack.slice());
      objects(a, b, meta?.type?.());
      return;
    }
    const la = va as unknown[];
    const lb = vb as unknown[];
    if ((la.length === 0) !== (lb.length === 0)) changed.push(stack.slice());
    if (ka === 'set') {
      for (const x of lb) if (!la.some((y) => deepEqual(x, y))) changed.push([...stack, `v:${JSON.stringify(x)}`]);
      for (const x of la) if (!lb.some((y) => deepEqual(x, y))) removed.push([...stack, `v:${JSON.stringify(x)}`]);
      return;
    }
    const sub = meta!.type?.();
    const byKey = new Map<string, unknown>();
    for (const item of la) {
      const k = elementKey(item, meta!);
      if (k !== undefined) byKey.set(k, item);
    }
    const seen = new Set<string>();
    for (const item of lb) {
      const k = elementKey(item, meta!);
      if (k === undefined) continue;
      seen.add(k);
      stack.push(k);
      const old = byKey.get(k);
      if (old === undefined) {
        changed.push(stack.slice());
        collect(item, sub, (p) => changed.push(p), true, stack);
      } else objects(old as JsonObject, item as JsonObject, sub);
      stack.pop();
    }
    for (const [k, item] of byKey) {
      if (seen.has(k)) continue;
      stack.push(k);
      removed.push(stack.slice());
      collect(item, sub, (p) => removed.push(p), true, stack);
      stack.pop();
    }
  };
  const a = isObject(before) ? before : {};
  const b = isObject(after) ? after : {};
  // A create is everything in the new object: one walk.
  if (Object.keys(a).length === 0) collect(b, schema, (p) => changed.push(p), true);
  else objects(a, b, schema);
  return { changed, removed };
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

// --- fieldsV1 trees --------------------------------------------------------------------------------------------

const isEmpty = (o: JsonObject) => {
  for (const _ in o) return false;
  return true;
};

function nodeAt(tree: JsonObject, path: Path): JsonObject | undefined {
  let n: unknown = tree;
  for (const seg of path) {
    if (!isObject(n) || !Object.prototype.hasOwnProperty.call(n, seg)) return undefined;
    n = n[seg];
  }
  return isObject(n) ? n : undefined;
}

/** Is the path itself a member of the set? */
export function treeHas(tree: JsonObject, path: Path): boolean {
  const n = nodeAt(tree, path);
  return !!n && (isEmpty(n) || '.' in n);
}

/** Is the path or anything below it a member? */
export function treeHasAtOrBelow(tree: JsonObject, path: Path): boolean {
  return nodeAt(tree, path) !== undefined;
}

/** Adds a member, creating intermediate nodes (which keep their own membership with "."). */
export function treeAdd(tree: JsonObject, path: Path): void {
  let n = tree;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    let c = n[seg] as JsonObject | undefined;
    if (!isObject(c)) n[seg] = c = {};
    else if (isEmpty(c) && i < path.length - 1) c['.'] = {};
    n = c;
  }
  if (!isEmpty(n) && !('.' in n)) n['.'] = {};
}

/** Removes a member (not its descendants); prunes nodes that no longer hold anything. Returns whether it was there. */
export function treeDelete(tree: JsonObject, path: Path): boolean {
  const chain: JsonObject[] = [tree];
  let n = tree;
  for (const seg of path) {
    const c = n[seg];
    if (!isObject(c)) return false;
    chain.push(c);
    n = c;
  }
  if (path.length === 0) return false;
  if (!isEmpty(n)) {
    if (!('.' in n)) return false;
    delete n['.'];
    // Children remain: the node is now a plain intermediate node.
    if (!isEmpty(n)) return true;
  }
  // Drop the node, then walk up: an ancestor left empty was only an intermediate node and goes too; one left
  // with just "." is a member without children, which is written as a bare {}.
  let i = path.length - 1;
  delete chain[i]![path[i]!];
  while (i > 0) {
    const node = chain[i]!;
    if (isEmpty(node)) {
      i--;
      delete chain[i]![path[i]!];
      continue;
    }
    if (Object.keys(node).length === 1 && '.' in node) delete node['.'];
    break;
  }
  return true;
}

/** Every member path of a tree. */
export function treePaths(tree: unknown): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, p: Path) => {
    if (!isObject(node)) return;
    for (const k in node) {
      const child = node[k];
      if (k === '.') {
        if (p.length) out.push(p);
        continue;
      }
      const cp = [...p, k];
      if (isObject(child) && isEmpty(child)) out.push(cp);
      else walk(child, cp);
    }
  };
  walk(tree, []);
  return out;
}

export const encodePath = (p: Path): string => p.join('\u0000');
