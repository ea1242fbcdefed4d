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
  elementKey,
  encodePath,
  formatPath,
  fromFieldsV1,
  isSetList,
  listKeysOf,
  lookup,
  toFieldsV1,
  type FieldSet,
  type Path,
} from './fields.js';
import { fieldMeta, schemaForKind, type TypeMeta } from './schema.js';
import type { ApplyOptions, ApplyResult, GroupVersionKind, ManagedFieldsEntry, UpdateOptions } from './types.js';

interface Manager {
  entry: ManagedFieldsEntry;
  set: FieldSet;
}

const apiVersionOf = (gvk: GroupVersionKind) => (gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version);

function sameManager(e: ManagedFieldsEntry, manager: string, operation: string, subresource?: string): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

function readManagers(obj: unknown, schema: TypeMeta, synthesize: string | undefined): Manager[] {
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : undefined;
  const list = meta && Array.isArray(meta.managedFields) ? meta.managedFields : [];
  const out: Manager[] = [];
  for (const raw of list) {
    if (!isObject(raw) || typeof raw.manager !== 'string') continue;
    out.push({ entry: clone(raw) as unknown as ManagedFieldsEntry, set: fromFieldsV1(raw.fieldsV1) });
  }
  // Objects written before anyone tracked fields: upstream attributes everything to "before-first-apply".
  if (synthesize && out.length === 0 && obj !== undefined) {
    const set: FieldSet = new Map();
    collect(obj, schema, [], set, false);
    if (set.size > 0) {
      out.push({
        entry: {
          manager: 'before-first-apply',
          operation: 'Update',
          apiVersion: synthesize,
          fieldsType: 'FieldsV1',
          fieldsV1: {},
        },
        set,
      });
    }
  }
  return out;
}

function writeManagers(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.set.size > 0)
    .map((m) => {
      const e: ManagedFieldsEntry = {
        manager: m.entry.manager,
        operation: m.entry.operation,
        apiVersion: m.entry.apiVersion,
        ...(m.entry.time ? { time: m.entry.time } : {}),
        fieldsType: 'FieldsV1',
        fieldsV1: toFieldsV1(m.set),
        ...(m.entry.subresource ? { subresource: m.entry.subresource } : {}),
      };
      return e;
    });
}

/** Every node of an object (leaves, list elements, maps) with a comparable value. */
function allNodes(obj: unknown, schema: TypeMeta): FieldSet {
  const set: FieldSet = new Map();
  collect(obj, schema, [], set, true);
  return set;
}

/** Paths whose value was added or modified (changed), and paths that disappeared (removed). */
function compare(before: unknown, after: unknown, schema: TypeMeta): { changed: FieldSet; removed: FieldSet } {
  const a = allNodes(before, schema);
  const b = allNodes(after, schema);
  const changed: FieldSet = new Map();
  const removed: FieldSet = new Map();
  for (const [k, p] of b) {
    if (!a.has(k)) changed.set(k, p);
    else if (
      isLeafValue(after, schema, p) &&
      !deepEqual(lookup(before, schema, p).value, lookup(after, schema, p).value)
    ) {
      changed.set(k, p);
    }
  }
  for (const [k, p] of a) if (!b.has(k)) removed.set(k, p);
  return { changed, removed };
}

/** Objects and keyed lists are containers compared through their children; anything else is a leaf value. */
function isLeafValue(obj: unknown, schema: TypeMeta, p: Path): boolean {
  const last = p[p.length - 1]!;
  if (last.startsWith('k:') || last.startsWith('v:')) return false;
  const { value } = lookup(obj, schema, p);
  const meta = metaAt(schema, p);
  if (meta?.atomic) return true;
  if (isObject(value)) return Object.keys(value).length === 0;
  if (Array.isArray(value)) return !(listKeysOf(meta) || isSetList(meta)) || value.length === 0;
  return true;
}

function metaAt(schema: TypeMeta, p: Path) {
  let sch: TypeMeta | undefined = schema;
  let meta;
  for (const seg of p) {
    if (!seg.startsWith('f:')) continue;
    meta = fieldMeta(sch, seg.slice(2));
    sch = meta?.type?.();
  }
  return meta;
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

function hasDescendantIn(set: FieldSet, key: string): boolean {
  const prefix = key + '\u0000';
  for (const k of set.keys()) if (k === key || k.startsWith(prefix)) return true;
  return false;
}

function stripForApply(applied: JsonObject): JsonObject {
  const out = clone(applied);
  if (isObject(out.metadata)) {
    delete out.metadata.managedFields;
  }
  return out;
}

function conflictError(conflicts: { manager: ManagedFieldsEntry; path: Path }[]): StatusError {
  const who = (e: ManagedFieldsEntry) => {
    let s = JSON.stringify(e.manager);
    if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
    if (e.operation === 'Update') s += e.time ? ` using ${e.apiVersion} at ${e.time}` : ` using ${e.apiVersion}`;
    return s;
  };
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${who(conflicts[0]!.manager)}: ${formatPath(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const w = who(c.manager);
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
      message: `conflict with ${who(c.manager)}`,
      field: formatPath(c.path),
    })),
  });
}

export function serverSideApply(live: unknown | undefined, applied: unknown, opts: ApplyOptions): ApplyResult {
  if (!isObject(applied)) throw badRequest('error decoding YAML: the applied configuration must be an object');
  if (!opts.manager) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
  const schema = schemaForKind(opts.gvk.kind);
  const now = opts.now ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const config = stripForApply(applied);
  const managers = live === undefined ? [] : readManagers(live, schema, apiVersionOf(opts.gvk));
  const base: JsonObject = isObject(live) ? clone(live) : {};
  if (isObject(base.metadata)) delete base.metadata.managedFields;

  const merged = merge(base, config, schema) as JsonObject;
  const appliedSet: FieldSet = new Map();
  collect(config, schema, [], appliedSet, false);

  const { changed, removed } = compare(base, merged, schema);
  const mine = (e: ManagedFieldsEntry) => sameManager(e, opts.manager, 'Apply', opts.subresource);
  const conflicts: { manager: ManagedFieldsEntry; path: Path; key: string; owner: Manager }[] = [];
  for (const m of managers) {
    if (mine(m.entry)) continue;
    for (const [k, p] of m.set) if (changed.has(k)) conflicts.push({ manager: m.entry, path: p, key: k, owner: m });
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);
  for (const c of conflicts) c.owner.set.delete(c.key);
  for (const m of managers) for (const k of removed.keys()) m.set.delete(k);

  // Prune what the applier dropped from its configuration, unless another manager still owns it.
  const previous = managers.find((m) => mine(m.entry));
  if (previous) {
    const others = managers.filter((m) => m !== previous);
    const dropped = [...previous.set].filter(([k]) => !appliedSet.has(k));
    // Deepest first so element removal does not shift the lookups of their children.
    dropped.sort((a, b) => b[1].length - a[1].length);
    for (const [k, p] of dropped) {
      if (others.some((m) => hasDescendantIn(m.set, k))) continue;
      removePath(merged, schema, p);
    }
  }

  const entry: ManagedFieldsEntry = {
    manager: opts.manager,
    operation: 'Apply',
    apiVersion: apiVersionOf(opts.gvk),
    time: now,
    fieldsType: 'FieldsV1',
    fieldsV1: {},
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  const next: Manager[] = managers.filter((m) => !mine(m.entry));
  const at = managers.findIndex((m) => mine(m.entry));
  const applier = { entry, set: appliedSet };
  if (at >= 0) next.splice(Math.min(at, next.length), 0, applier);
  else next.push(applier);
  const managedFields = writeManagers(next);
  const metadata = isObject(merged.metadata) ? merged.metadata : (merged.metadata = {});
  metadata.managedFields = managedFields;
  return { object: merged, managedFields };
}

export function recordUpdate(previous: unknown | undefined, next: unknown, opts: UpdateOptions): unknown {
  if (!isObject(next)) return next;
  const schema = schemaForKind(opts.gvk.kind);
  const now = opts.now ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const managers = previous === undefined ? [] : readManagers(previous, schema, undefined);
  const before = previous === undefined ? {} : clone(previous);
  const after = clone(next);
  if (isObject(before) && isObject(before.metadata)) delete before.metadata.managedFields;
  if (isObject(after.metadata)) delete after.metadata.managedFields;
  const { changed, removed } = compare(before, after, schema);
  const manager = opts.manager || 'unknown';
  for (const m of managers) {
    for (const k of removed.keys()) m.set.delete(k);
    if (!sameManager(m.entry, manager, 'Update', opts.subresource)) for (const k of changed.keys()) m.set.delete(k);
  }
  let own = managers.find((m) => sameManager(m.entry, manager, 'Update', opts.subresource));
  if (changed.size > 0 || own) {
    if (!own) {
      own = {
        entry: {
          manager,
          operation: 'Update',
          apiVersion: apiVersionOf(opts.gvk),
          fieldsType: 'FieldsV1',
          fieldsV1: {},
          ...(opts.subresource ? { subresource: opts.subresource } : {}),
        },
        set: new Map(),
      };
      managers.push(own);
    }
    if (changed.size > 0) {
      own.entry.time = now;
      own.entry.apiVersion = apiVersionOf(opts.gvk);
    }
    for (const [k, p] of changed) own.set.set(k, p);
  }
  const out = clone(next) as JsonObject;
  const metadata = isObject(out.metadata) ? out.metadata : (out.metadata = {});
  metadata.managedFields = writeManagers(managers);
  return out;
}

export { encodePath };
