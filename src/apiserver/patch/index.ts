// Public surface of the patch engines: JSON merge patch, JSON patch, strategic merge patch, server-side apply.
export { applyMergePatch } from './merge.js';
export { applyJsonPatch } from './json.js';
export { applyStrategicMergePatch } from './strategic.js';
export { serverSideApply, recordUpdate } from './apply.js';
export type { GroupVersionKind, ApplyOptions, ApplyResult, UpdateOptions, ManagedFieldsEntry } from './types.js';
