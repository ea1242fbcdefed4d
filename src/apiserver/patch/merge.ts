// RFC 7386 JSON merge patch.
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  throw new Error('not implemented yet');
}
