// RFC 6902 JSON patch.
export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  throw new Error('not implemented yet');
}
