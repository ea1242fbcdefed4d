// The field types of set/map keys and values skiff uses, shared by the nft text renderer and the netlink encoder.

/** A key or value component: how nft names it and how it is laid out in a 4-byte-aligned kernel register. */
export type FieldType = 'ipv4_addr' | 'inet_proto' | 'inet_service' | 'integer';

/** A value of a verdict map: `goto <chain>`, `jump <chain>`, `drop`, `accept` or `return`. */
export type VerdictText = string;

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };
const PROTOCOL_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

export function protocolNumber(text: string): number {
  const p = PROTOCOLS[text] ?? (/^\d+$/.test(text) ? Number(text) : NaN);
  if (!(p >= 0 && p <= 255)) throw new Error(`unknown protocol "${text}"`);
  return p;
}

export function protocolName(n: number): string {
  return PROTOCOL_NAMES[n] ?? String(n);
}

export function parseIPv4(text: string): number[] {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address "${text}"`);
  return parts.map((p) => {
    const n = /^\d{1,3}$/.test(p) ? Number(p) : NaN;
    if (!(n >= 0 && n <= 255)) throw new Error(`invalid IPv4 address "${text}"`);
    return n;
  });
}

export function isIPv4(text: string): boolean {
  try {
    parseIPv4(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes one component at `off` into `buf` as the kernel stores it: addresses and ports in network order, a
 * protocol as one byte, integers (numgen/jhash results) in host order; each padded to 4 bytes. Returns the new offset.
 */
export function writeField(buf: Buffer, off: number, type: FieldType, text: string): number {
  buf.fill(0, off, off + 4);
  switch (type) {
    case 'ipv4_addr': {
      const b = parseIPv4(text);
      buf[off] = b[0]!;
      buf[off + 1] = b[1]!;
      buf[off + 2] = b[2]!;
      buf[off + 3] = b[3]!;
      break;
    }
    case 'inet_proto':
      buf[off] = protocolNumber(text);
      break;
    case 'inet_service': {
      const port = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!(port >= 0 && port <= 65535)) throw new Error(`invalid port "${text}"`);
      buf.writeUInt16BE(port, off);
      break;
    }
    case 'integer': {
      const v = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!(v >= 0 && v <= 0xffffffff)) throw new Error(`invalid integer "${text}"`);
      buf.writeUInt32LE(v, off); // host order; skiff supports little-endian hosts (x86-64, arm64)
      break;
    }
  }
  return off + 4;
}

/** Reads a component back (for the fake and for parsing kernel dumps). */
export function readField(buf: Buffer, off: number, type: FieldType): string {
  switch (type) {
    case 'ipv4_addr':
      return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
    case 'inet_proto':
      return protocolName(buf[off]!);
    case 'inet_service':
      return String(buf.readUInt16BE(off));
    case 'integer':
      return String(buf.readUInt32LE(off));
  }
}

/** Canonical text of a component (so `tcp`/`6` and `080`/`80` compare equal in the diff and the fake). */
export function canonicalField(type: FieldType, text: string): string {
  const buf = Buffer.alloc(4);
  writeField(buf, 0, type, text);
  return readField(buf, 0, type);
}
