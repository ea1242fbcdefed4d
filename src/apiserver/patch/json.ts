// RFC 6902 JSON patch (application/json-patch+json) with kube-apiserver's error mapping.
//
// Upstream (apiserver handlers/patch.go, evanphx/json-patch): a patch that does not decode is 400 BadRequest with
// the decoder's message; more than 10000 operations is 413; an operation that fails while applying (failed test,
// missing path, bad index) is 422 Invalid with the generic "the server rejected our request due to an error in our
// request" message. We keep that message and add the precise reason as a cause so humans can see it.
import { StatusError, badRequest, tooLarge } from '../../api/status.js';
import { clone, deepEqual, isObject } from './json-value.js';

const maxOperations = 10000;

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
  hasValue: boolean;
}

class ApplyError extends Error {}

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  const patch = decode(ops);
  let doc = clone(target);
  for (const op of patch) {
    try {
      doc = applyOne(doc, op);
    } catch (e) {
      if (e instanceof ApplyError) {
        throw new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
          causes: [{ reason: 'FieldValueInvalid', message: e.message, field: op.path }],
        });
      }
      throw e;
    }
  }
  return doc;
}

function decode(ops: unknown): Operation[] {
  if (!Array.isArray(ops)) {
    const what = ops === null ? 'null' : isObject(ops) ? 'object' : typeof ops;
    throw badRequest(`json: cannot unmarshal ${what} into Go value of type jsonpatch.Patch`);
  }
  if (ops.length > maxOperations) {
    throw tooLarge(`The allowed maximum operations in a JSON patch is ${maxOperations}, got ${ops.length}`);
  }
  return ops.map((raw) => {
    if (!isObject(raw)) throw badRequest('json: cannot unmarshal into Go value of type jsonpatch.Operation');
    const op = typeof raw.op === 'string' ? raw.op : '';
    const describe = () => JSON.stringify(raw);
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) {
      throw badRequest(`invalid operation ${describe()}: unsupported operation`);
    }
    if (typeof raw.path !== 'string') throw badRequest(`invalid operation ${describe()}: failed to decode 'path'`);
    if ((op === 'move' || op === 'copy') && typeof raw.from !== 'string') {
      throw badRequest(`invalid operation ${describe()}: failed to decode 'from'`);
    }
    if ((op === 'add' || op === 'replace') && !('value' in raw)) {
      throw badRequest(`invalid operation ${describe()}: failed to decode 'value': operation, missing value field`);
    }
    checkPointer(raw.path, describe);
    if (typeof raw.from === 'string') checkPointer(raw.from, describe);
    return { op, path: raw.path, from: raw.from as string | undefined, value: raw.value, hasValue: 'value' in raw };
  });
}

function checkPointer(p: string, describe: () => string): void {
  if (p !== '' && !p.startsWith('/')) throw badRequest(`invalid operation ${describe()}: invalid JSON pointer "${p}"`);
}

function tokens(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Walks to the parent container of `pointer`; undefined when a step is missing. */
function parentOf(doc: unknown, pointer: string): { parent: unknown; key: string } | undefined {
  const parts = tokens(pointer);
  const key = parts.pop()!;
  let cur = doc;
  for (const part of parts) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(part, cur.length - 1);
      if (i === undefined) return undefined;
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
      cur = cur[part];
    } else return undefined;
  }
  if (!Array.isArray(cur) && !isObject(cur)) return undefined;
  return { parent: cur, key };
}

function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const i = Number(token);
  return i <= max ? i : undefined;
}

function get(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  const loc = parentOf(doc, pointer);
  if (!loc) return { found: false };
  const { parent, key } = loc;
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length - 1);
    return i === undefined ? { found: false } : { found: true, value: parent[i] };
  }
  const obj = parent as Record<string, unknown>;
  return Object.prototype.hasOwnProperty.call(obj, key) ? { found: true, value: obj[key] } : { found: false };
}

function add(doc: unknown, pointer: string, value: unknown, verb: string): unknown {
  if (pointer === '') return value;
  const loc = parentOf(doc, pointer);
  if (!loc) throw new ApplyError(`${verb} operation does not apply: doc is missing path: "${pointer}": missing value`);
  const { parent, key } = loc;
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : arrayIndex(key, parent.length);
    if (i === undefined)
      throw new ApplyError(
        `error in ${verb} for path: '${pointer}': Unable to access invalid index: ${key}: invalid index referenced`,
      );
    parent.splice(i, 0, value);
  } else (parent as Record<string, unknown>)[key] = value;
  return doc;
}

function remove(doc: unknown, pointer: string, verb: string): unknown {
  const loc = pointer === '' ? undefined : parentOf(doc, pointer);
  if (!loc) throw new ApplyError(`${verb} operation does not apply: doc is missing path: "${pointer}": missing value`);
  const { parent, key } = loc;
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length - 1);
    if (i === undefined)
      throw new ApplyError(
        `error in ${verb} for path: '${pointer}': Unable to access invalid index: ${key}: invalid index referenced`,
      );
    parent.splice(i, 1);
  } else {
    const obj = parent as Record<string, unknown>;
    if (!Object.prototype.hasOwnProperty.call(obj, key)) {
      throw new ApplyError(
        `error in ${verb} for path: '${pointer}': unable to remove nonexistent key: ${key}: missing value`,
      );
    }
    delete obj[key];
  }
  return doc;
}

function applyOne(doc: unknown, op: Operation): unknown {
  switch (op.op) {
    case 'add':
      return add(doc, op.path, clone(op.value), 'add');
    case 'remove':
      return remove(doc, op.path, 'remove');
    case 'replace': {
      if (op.path === '') return clone(op.value);
      if (!get(doc, op.path).found) {
        throw new ApplyError(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
      }
      remove(doc, op.path, 'replace');
      return add(doc, op.path, clone(op.value), 'replace');
    }
    case 'move': {
      if (op.from === '') throw new ApplyError('unable to move entire document to another path');
      if (op.path.startsWith(op.from! + '/')) throw new ApplyError('move operation cannot move a value into itself');
      const src = get(doc, op.from!);
      if (!src.found)
        throw new ApplyError(`move operation does not apply: doc is missing from path: ${op.from}: missing value`);
      doc = remove(doc, op.from!, 'move');
      return add(doc, op.path, src.value, 'move');
    }
    case 'copy': {
      const src = get(doc, op.from!);
      if (!src.found)
        throw new ApplyError(`copy operation does not apply: doc is missing from path: "${op.from}": missing value`);
      return add(doc, op.path, clone(src.value), 'copy');
    }
    case 'test': {
      const cur = get(doc, op.path);
      const expected = op.hasValue ? op.value : null;
      // evanphx treats a missing member and a null value alike.
      const actual = cur.found ? cur.value : null;
      if (!deepEqual(actual ?? null, expected ?? null)) {
        throw new ApplyError(`testing value ${op.path} failed: test failed`);
      }
      return doc;
    }
  }
  throw new ApplyError(`Unexpected kind: ${op.op}`);
}
