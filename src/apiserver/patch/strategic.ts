// Strategic merge patch (application/strategic-merge-patch+json) as kube-apiserver applies it to built-in kinds.
//
// Semantics follow apimachinery/pkg/util/strategicpatch (patch.go, applying with MergeParallelList and
// IgnoreUnmatchedNulls): maps merge, null deletes, lists tagged merge are merged by their key (primitives as sets),
// other lists are replaced; directives `$patch`, `$retainKeys`, `$setElementOrder/x`, `$deleteFromPrimitiveList/x`.
// Element order: $setElementOrder first, then patch order, server-only items keep their place relative to the live
// list (normalizeElementOrder / mergeSortedSlice upstream).
import { StatusError, badRequest } from '../../api/status.js';
import { clone, deepEqual, isObject, type JsonObject } from './json-value.js';
import { fieldMeta, schemaForKind, type TypeMeta } from './schema.js';
import type { GroupVersionKind } from './types.js';

const directive = '$patch';
const retainKeys = '$retainKeys';
const setOrderPrefix = '$setElementOrder/';
const deletePrimitivePrefix = '$deleteFromPrimitiveList/';

// Error texts of apimachinery/pkg/util/mergepatch/errors.go; the apiserver maps these to 400 or 422.
const errBadJSONDoc = () => badRequest('invalid JSON document');
const errBadRetainKeys = () => badRequest('invalid patch format of retainKeys');
const errBadSetOrder = () => badRequest('invalid patch format of setElementOrder list');
const errBadPrimitiveList = () => badRequest('invalid patch format of primitive list');
const unprocessable = (message: string) => new StatusError(422, 'Invalid', message);

export function applyStrategicMergePatch(target: unknown, patch: unknown, gvk: GroupVersionKind): unknown {
  if (!isObject(patch)) throw errBadJSONDoc();
  const original = isObject(target) ? clone(target) : {};
  return mergeMap(original, clone(patch), schemaForKind(gvk.kind));
}

function describe(v: unknown): string {
  return JSON.stringify(v);
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: TypeMeta | undefined): JsonObject {
  if (directive in patch) {
    const d = patch[directive];
    if (d === 'replace') {
      delete patch[directive];
      return stripDirectives(patch, schema) as JsonObject;
    }
    if (d === 'delete') return {};
    throw badRequest(`unknown patch type: ${String(d)} in map: ${describe(patch)}`);
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, schema);
  // Deletions from primitive lists run first so that additions in the same patch win.
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(deletePrimitivePrefix)) continue;
    const field = key.slice(deletePrimitivePrefix.length);
    const remove = patch[key];
    if (!Array.isArray(remove)) throw errBadPrimitiveList();
    const live = original[field];
    if (Array.isArray(live)) original[field] = live.filter((x) => !remove.some((r) => deepEqual(r, x)));
    delete patch[key];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw badRequest(`strategic merge patch format is not supported`);
    if (value === null) {
      delete original[key];
      continue;
    }
    const meta = fieldMeta(schema, key);
    const sub = meta?.type?.();
    const live = original[key];
    if (isObject(value)) {
      original[key] = mergeMap(isObject(live) ? live : {}, value, sub);
    } else if (Array.isArray(value)) {
      if (meta?.strategy === 'merge') {
        original[key] = mergeList(Array.isArray(live) ? live : [], value, meta.mergeKey, sub, key);
      } else {
        original[key] = value.map((x) => stripDirectives(x, sub));
      }
    } else {
      original[key] = value;
    }
  }
  return original;
}

/** A value taken verbatim from the patch still must not carry directives or nulls into the stored object. */
function stripDirectives(v: unknown, schema: TypeMeta | undefined): unknown {
  if (Array.isArray(v)) return v.map((x) => stripDirectives(x, schema));
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$') || x === null) continue;
    out[k] = stripDirectives(x, fieldMeta(schema, k)?.type?.());
  }
  return out;
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!(retainKeys in patch)) return;
  const keep = patch[retainKeys];
  delete patch[retainKeys];
  if (!Array.isArray(keep)) throw errBadRetainKeys();
  const set = new Set(keep.map(String));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deletePrimitivePrefix) || k.startsWith(setOrderPrefix)) continue;
    if (!set.has(k)) throw errBadRetainKeys();
  }
  for (const k of Object.keys(original)) if (!set.has(k)) delete original[k];
}

function applySetElementOrder(original: JsonObject, patch: JsonObject, schema: TypeMeta | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setOrderPrefix)) continue;
    const field = key.slice(setOrderPrefix.length);
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadSetOrder();
    const meta = fieldMeta(schema, field);
    const mergeKey = meta?.mergeKey;
    const live = Array.isArray(original[field]) ? (original[field] as unknown[]) : [];
    const patchList = patch[field];
    if (patchList !== undefined && patchList !== null && !Array.isArray(patchList)) throw errBadSetOrder();
    // Every patch item must appear in the order list (validatePatchWithSetOrderList).
    if (Array.isArray(patchList)) {
      for (const item of patchList) {
        if (isObject(item) && item[directive] !== undefined) continue;
        if (indexOf(order, item, mergeKey) < 0) throw errBadSetOrder();
      }
    }
    let merged: unknown[];
    if (Array.isArray(patchList) && patchList.length > 0) {
      merged =
        meta?.strategy === 'merge'
          ? mergeList(live.slice(), patchList, mergeKey, meta.type?.(), field)
          : patchList.map((x) => stripDirectives(x, meta?.type?.()));
    } else merged = live;
    delete patch[field];
    // $setElementOrder lists the patch-visible order; server-only items keep their live position.
    const inOrder = merged.filter((x) => indexOf(order, x, mergeKey) >= 0);
    const serverOnly = merged.filter((x) => indexOf(order, x, mergeKey) < 0);
    inOrder.sort((a, b) => indexOf(order, a, mergeKey) - indexOf(order, b, mergeKey));
    serverOnly.sort((a, b) => indexOf(live, a, mergeKey) - indexOf(live, b, mergeKey));
    const result = mergeSorted(inOrder, serverOnly, live, mergeKey);
    if (result.length > 0 || field in original) original[field] = result;
  }
}

function keyOf(item: unknown, mergeKey: string | undefined): unknown {
  return mergeKey ? (isObject(item) ? item[mergeKey] : undefined) : item;
}

function indexOf(list: unknown[], item: unknown, mergeKey: string | undefined): number {
  const k = keyOf(item, mergeKey);
  if (mergeKey && k === undefined) return -1;
  return list.findIndex((x) => deepEqual(keyOf(x, mergeKey), k));
}

/** mergeSortedSlice upstream: interleave two runs by their position in the live list when both are known. */
function mergeSorted(left: unknown[], right: unknown[], live: unknown[], mergeKey: string | undefined): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexOf(live, left[i], mergeKey);
      const ri = indexOf(live, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && ri < li) out.push(right[j++]);
      else out.push(left[i++]);
    }
  }
  return out;
}

function mergeList(
  live: unknown[],
  patch: unknown[],
  mergeKey: string | undefined,
  schema: TypeMeta | undefined,
  field: string,
): unknown[] {
  if (live.length === 0 && patch.length === 0) return [];
  const elementIsMap = patch.some(isObject) || (patch.length === 0 && live.some(isObject));
  if (patch.some(Array.isArray) || live.some(Array.isArray)) throw unprocessable('lists of lists are not supported');
  let merged: unknown[];
  let visible: unknown[];
  if (!elementIsMap) {
    // Sets of primitives (finalizers, podCIDRs): union without duplicates.
    merged = [];
    for (const x of [...live, ...patch]) if (!merged.some((y) => deepEqual(x, y))) merged.push(x);
    visible = patch;
  } else {
    if (!mergeKey) throw badRequest(`cannot merge lists without merge key for ${field}`);
    let base = live.map((x) => x);
    const items: JsonObject[] = [];
    let replace = false;
    for (const raw of patch) {
      if (!isObject(raw)) throw badRequest(`invalid patch format of list ${field}: ${describe(raw)}`);
      const d = raw[directive];
      if (d === undefined) items.push(raw);
      else if (d === 'delete') {
        if (!(mergeKey in raw)) throw noMergeKey(raw, mergeKey);
        base = base.filter((x) => !(isObject(x) && deepEqual(x[mergeKey], raw[mergeKey])));
      } else if (d === 'replace') replace = true;
      else if (d === 'merge') throw badRequest('merging lists cannot yet be specified in the patch');
      else throw badRequest(`unknown patch type: ${String(d)} in map: ${describe(raw)}`);
    }
    if (replace) {
      base = [];
    }
    for (const item of items) {
      if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
      const at = base.findIndex((x) => isObject(x) && deepEqual(x[mergeKey], item[mergeKey]));
      if (at >= 0) base[at] = mergeMap(base[at] as JsonObject, item, schema);
      else base.push(mergeMap({}, item, schema));
    }
    merged = base;
    visible = replace ? [] : items;
    if (replace) return merged;
  }
  const inPatch = merged.filter((x) => indexOf(visible, x, mergeKey) >= 0);
  const serverOnly = merged.filter((x) => indexOf(visible, x, mergeKey) < 0);
  inPatch.sort((a, b) => indexOf(visible, a, mergeKey) - indexOf(visible, b, mergeKey));
  return mergeSorted(inPatch, serverOnly, live, mergeKey);
}

function noMergeKey(item: JsonObject, mergeKey: string): StatusError {
  // Upstream returns this as a plain error (500); it is the client's fault, so we answer 422.
  return unprocessable(`map: ${describe(item)} does not contain declared merge key: ${mergeKey}`);
}
