// Server-side apply (application/apply-patch+yaml) and field-ownership bookkeeping for ordinary writes.
//
// Semantics after structured-merge-diff as used by kube-apiserver: the applied configuration is merged into the
// live object (maps per key, lists with keys per element, sets per value, everything else replaced); a field that
// changes and is owned by another manager is a conflict (409) unless force is set, which moves ownership; fields
// the applier owned before and no longer applies are removed unless someone else still owns them. Ordinary writes
// (operation Update) take ownership of what they change and never conflict.
import { StatusError, badRequest } from '../../api/status.js';
import { clone, deepEqual, isObject, type JsonObject } from './json-value.js';
import {
  collect,
  diff,
  elementKey,
  encodePath,
  formatPath,
  isSetList,
  listKeysOf,
  lookup,
  ownedTree,
  treeAdd,
  treeDelete,
  treeHas,
  treeHasAtOrBelow,
  treePaths,
  type Path,
} from './fields.js';
import { fieldMeta, schemaForKind, type TypeMeta } from './schema.js';
import type { ApplyOptions, ApplyResult, GroupVersionKind, ManagedFieldsEntry, UpdateOptions } from './types.js';

const apiVersionOf = (gvk: GroupVersionKind) => (gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version);
// Second precision, so one string serves every write within the same second.
let nowSecond = -1;
let nowText = '';
const nowRfc3339 = () => {
  const sec = Math.floor(Date.now() / 1000);
  if (sec !== nowSecond) {
    nowText = new Date(sec * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    nowSecond = sec;
  }
  return nowText;
};

function sameManager(e: ManagedFieldsEntry, manager: string, operation: string, subresource?: string): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

function entriesOf(obj: unknown): ManagedFieldsEntry[] {
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : undefined;
  const list = meta && Array.isArray(meta.managedFields) ? meta.managedFields : [];
  return list.filter(
    (e): e is ManagedFieldsEntry => isObject(e) && typeof e.manager === 'string',
  ) as ManagedFieldsEntry[];
}

/** Entries are copied on first write so the caller's previous object is never mutated. */
class Managers {
  readonly list: ManagedFieldsEntry[];
  private copied = new Set<ManagedFieldsEntry>();
  constructor(entries: ManagedFieldsEntry[]) {
    this.list = entries.slice();
  }
  writable(i: number): ManagedFieldsEntry {
    const e = this.list[i]!;
    if (this.copied.has(e)) return e;
    const copy: ManagedFieldsEntry = { ...e, fieldsV1: isObject(e.fieldsV1) ? clone(e.fieldsV1) : {} };
    this.list[i] = copy;
    this.copied.add(copy);
    return copy;
  }
  add(e: ManagedFieldsEntry): void {
    this.list.push(e);
    this.copied.add(e);
  }
  /** Removes `paths` from every entry except `except`. */
  drop(paths: Path[], except?: (e: ManagedFieldsEntry) => boolean): void {
    if (paths.length === 0) return;
    for (let i = 0; i < this.list.length; i++) {
      const e = this.list[i]!;
      if (except?.(e) || !isObject(e.fieldsV1)) continue;
      const tree = e.fieldsV1;
      if (!paths.some((p) => treeHas(tree, p))) continue;
      const w = this.writable(i);
      for (const p of paths) treeDelete(w.fieldsV1, p);
    }
  }
  /** Non-empty entries in their order, as stored in metadata.managedFields. */
  result(): ManagedFieldsEntry[] {
    return this.list.filter((e) => isObject(e.fieldsV1) && Object.keys(e.fieldsV1).length > 0);
  }
}

/** Structured merge of an applied configuration into the live object. */
function merge(live: unknown, applied: unknown, schema: TypeMeta | undefined, atomic = false): unknown {
  if (atomic || !isObject(applied) || !isObject(live)) return clone(applied);
  const out: JsonObject = { ...live };
  for (const [k, v] of Object.entries(applied)) {
    if (v === null || v === undefined) continue;
    const meta = fieldMeta(schema, k);
    const cur = out[k];
    if (Array.isArray(v) && Array.isArray(cur) && listKeysOf(meta)) {
      const result = cur.slice();
      for (const item of v) {
        const key = elementKey(item, meta!);
        const at = key === undefined ? -1 : result.findIndex((x) => elementKey(x, meta!) === key);
        if (at >= 0) result[at] = merge(result[at], item, meta!.type?.());
        else result.push(clone(item));
      }
      out[k] = result;
    } else if (Array.isArray(v) && Array.isArray(cur) && isSetList(meta)) {
      const result = cur.slice();
      for (const item of v) if (!result.some((x) => deepEqual(x, item))) result.push(clone(item));
      out[k] = result;
    } else {
      out[k] = merge(cur, v, meta?.type?.(), meta?.atomic);
    }
  }
  return out;
}

/** Removes one path from an object in place. */
function removePath(obj: unknown, schema: TypeMeta, p: Path): void {
  const { found, parent, at } = lookup(obj, schema, p);
  if (!found || parent === undefined || at === undefined) return;
  if (Array.isArray(parent)) parent.splice(at as number, 1);
  else delete (parent as JsonObject)[at as string];
}

function describeManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += e.time ? ` using ${e.apiVersion} at ${e.time}` : ` using ${e.apiVersion}`;
  return s;
}

/** Upstream's apply conflict (fieldmanager/internal/conflict.go): message and one cause per field. */
function conflictError(conflicts: { manager: ManagedFieldsEntry; path: Path }[]): StatusError {
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${describeManager(c.manager)}: ${formatPath(c.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const w = describeManager(c.manager);
      byManager.set(w, [...(byManager.get(w) ?? []), formatPath(c.path)]);
    }
    const lines: string[] = [];
    for (const w of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${w}:`);
      for (const p of byManager.get(w)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${describeManager(c.manager)}`,
      field: formatPath(c.path),
    })),
  });
}

function withManagedFields(obj: JsonObject, managedFields: ManagedFieldsEntry[]): JsonObject {
  const metadata = isObject(obj.metadata) ? { ...obj.metadata } : {};
  if (managedFields.length > 0) metadata.managedFields = managedFields;
  else delete metadata.managedFields;
  return { ...obj, metadata };
}

export function serverSideApply(live: unknown | undefined, applied: unknown, opts: ApplyOptions): ApplyResult {
  if (!isObject(applied)) throw badRequest('error decoding YAML: the applied configuration must be an object');
  if (!opts.manager) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
  const schema = schemaForKind(opts.gvk.kind);
  const now = opts.now ?? nowRfc3339();
  const config = clone(applied);
  if (isObject(config.metadata)) delete config.metadata.managedFields;
  const base: JsonObject = isObject(live) ? live : {};
  const managers = new Managers(entriesOf(live));
  // Objects written before anyone tracked fields: upstream attributes everything to "before-first-apply".
  if (live !== undefined && managers.list.length === 0) {
    const tree: JsonObject = {};
    collect(base, schema, (p) => treeAdd(tree, p), false);
    if (Object.keys(tree).length > 0) {
      managers.add({
        manager: 'before-first-apply',
        operation: 'Update',
        apiVersion: apiVersionOf(opts.gvk),
        fieldsType: 'FieldsV1',
        fieldsV1: tree,
      });
    }
  }

  const merged = merge(base, config, schema) as JsonObject;
  const { changed, removed } = diff(base, merged, schema);
  const mine = (e: ManagedFieldsEntry) => sameManager(e, opts.manager, 'Apply', opts.subresource);

  const conflicts: { manager: ManagedFieldsEntry; path: Path }[] = [];
  for (const e of managers.list) {
    if (mine(e) || !isObject(e.fieldsV1)) continue;
    for (const p of changed) if (treeHas(e.fieldsV1, p)) conflicts.push({ manager: e, path: p });
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);
  if (conflicts.length > 0)
    managers.drop(
      conflicts.map((c) => c.path),
      mine,
    );
  managers.drop(removed);

  // The applier's new set is exactly what it applied.
  const appliedTree: JsonObject = {};
  const appliedKeys = new Set<string>();
  collect(
    config,
    schema,
    (p) => {
      treeAdd(appliedTree, p);
      appliedKeys.add(encodePath(p));
    },
    false,
  );

  // Prune what the applier dropped from its configuration, unless another manager still owns it (or below it).
  const at = managers.list.findIndex(mine);
  if (at >= 0) {
    const previous = managers.list[at]!;
    const dropped = treePaths(previous.fieldsV1).filter((p) => !appliedKeys.has(encodePath(p)));
    // Deepest first so removing an element does not shift the lookups of its children.
    dropped.sort((a, b) => b.length - a.length);
    for (const p of dropped) {
      if (managers.list.some((e) => !mine(e) && isObject(e.fieldsV1) && treeHasAtOrBelow(e.fieldsV1, p))) continue;
      removePath(merged, schema, p);
    }
  }

  const entry: ManagedFieldsEntry = {
    manager: opts.manager,
    operation: 'Apply',
    apiVersion: apiVersionOf(opts.gvk),
    time: now,
    fieldsType: 'FieldsV1',
    fieldsV1: appliedTree,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  if (at >= 0) managers.list[at] = entry;
  else managers.add(entry);
  const managedFields = managers.result();
  return { object: withManagedFields(merged, managedFields), managedFields };
}

export function recordUpdate(previous: unknown | undefined, next: unknown, opts: UpdateOptions): unknown {
  if (!isObject(next)) return next;
  const schema = schemaForKind(opts.gvk.kind);
  const manager = opts.manager || 'unknown';
  if (previous === undefined) return recordCreate(next, schema, manager, opts);
  const managers = new Managers(entriesOf(previous));
  const { changed, removed } = diff(previous ?? {}, next, schema);
  const mine = (e: ManagedFieldsEntry) => sameManager(e, manager, 'Update', opts.subresource);
  managers.drop(removed);
  managers.drop(changed, mine);
  if (changed.length > 0) {
    let at = managers.list.findIndex(mine);
    if (at < 0) {
      managers.add({
        manager,
        operation: 'Update',
        apiVersion: apiVersionOf(opts.gvk),
        fieldsType: 'FieldsV1',
        fieldsV1: {},
        ...(opts.subresource ? { subresource: opts.subresource } : {}),
      });
      at = managers.list.length - 1;
    }
    const own = managers.writable(at);
    own.time = opts.now ?? nowRfc3339();
    own.apiVersion = apiVersionOf(opts.gvk);
    for (const p of changed) treeAdd(own.fieldsV1, p);
  }
  return withManagedFields(next, managers.result());
}

/**
 * recordUpdate for a create: no previous managers, and the changed set is the whole object, so the manager's tree
 * is built in one walk (ownedTree) instead of diffing against {} and adding path by path. Same entry, same key order.
 */
function recordCreate(next: JsonObject, schema: TypeMeta, manager: string, opts: UpdateOptions): JsonObject {
  const tree = ownedTree(next, schema);
  if (isEmptyObject(tree)) return withManagedFields(next, []);
  const entry: ManagedFieldsEntry = {
    manager,
    operation: 'Update',
    apiVersion: apiVersionOf(opts.gvk),
    fieldsType: 'FieldsV1',
    fieldsV1: tree,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  entry.time = opts.now ?? nowRfc3339();
  return withManagedFields(next, [entry]);
}

function isEmptyObject(o: JsonObject): boolean {
  for (const _ in o) return false;
  return true;
}
