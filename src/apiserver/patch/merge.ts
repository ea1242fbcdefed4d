// RFC 7386 JSON merge patch (application/merge-patch+json): objects merge recursively, null deletes, the rest replaces.
import { badRequest } from '../../api/status.js';
import { clone, isObject } from './json-value.js';

/** Applies a merge patch; returns a new value and never mutates `target` or `patch`. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  // Upstream (evanphx/json-patch MergePatch) rejects a null or scalar patch document as "Invalid JSON Patch".
  if (!isObject(patch)) throw badRequest('Invalid JSON Patch');
  return merge(target, patch);
}

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = merge(out[key], value);
  }
  return out;
}
