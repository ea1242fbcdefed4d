// Small non-cryptographic 32-bit hashes shared by the scheduler's tie-break and the proxy's Maglev tables; their Wasm
// twins (assembly/scheduler, assembly/lb) must compute the same values bit for bit.

const encoder = new TextEncoder();

/**
 * FNV-1a, 32-bit, over the UTF-8 bytes of the string; `basis` defaults to FNV's offset basis. Passing one hash as the
 * basis of the next hashes the concatenation. ASCII is hashed from the characters (its UTF-8 bytes are the same);
 * the rest from the first other character on is encoded.
 */
export function fnv1a32(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      for (const byte of encoder.encode(text.slice(i))) h = Math.imul(h ^ byte, 0x01000193);
      break;
    }
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a cheap full-avalanche mix. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
