// Strategic merge patch.
import type { GroupVersionKind } from './types.js';
export function applyStrategicMergePatch(target: unknown, patch: unknown, gvk: GroupVersionKind): unknown {
  throw new Error('not implemented yet');
}
