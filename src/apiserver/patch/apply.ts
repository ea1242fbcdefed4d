// Server-side apply.
import type { ApplyOptions, ApplyResult, UpdateOptions } from './types.js';
export function serverSideApply(live: unknown | undefined, applied: unknown, opts: ApplyOptions): ApplyResult {
  throw new Error('not implemented yet');
}
/**
 * Records field ownership for a non-apply write (create/update/patch, operation Update): fields that changed
 * between `previous` (undefined on create) and `next` move to `opts.manager`. Returns `next` with
 * metadata.managedFields updated.
 */
export function recordUpdate(previous: unknown | undefined, next: unknown, opts: UpdateOptions): unknown {
  throw new Error('not implemented yet');
}
