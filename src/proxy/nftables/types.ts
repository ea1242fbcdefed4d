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

/**
 * Dotted-quad IPv4 text: four decimal parts 0–255 without leading zeros. A character loop, not a regular
 * expression: it runs for every endpoint of every service on a full sync.
 */
export function isIPv4(text: string): boolean {
  const n = text.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  let first = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || (digits > 1 && first === 48) || value > 255) return false;
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) first = c;
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** Parses text[start, end) as a decimal integer without allocating; NaN unless it is 1–10 digits. */
function digits(text: string, start: number, end: number): number {
  const n = end - start;
  if (n <= 0 || n > 10) return NaN;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** Writes the IPv4 address text[start, end) in network order without allocating (the hot path of encoding). */
function writeIPv4(buf: Buffer, off: number, text: string, start: number, end: number): void {
  let part = 0;
  let value = 0;
  let len = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (len === 0 || len > 3 || value > 255 || part > 3)
        throw new Error(`invalid IPv4 address "${text.slice(start, end)}"`);
      buf[off + part++] = value;
      value = 0;
      len = 0;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      len++;
    } else {
      throw new Error(`invalid IPv4 address "${text.slice(start, end)}"`);
    }
  }
  if (part !== 4) throw new Error(`invalid IPv4 address "${text.slice(start, end)}"`);
}

/**
 * Writes the component text[start, end) at `off` as the kernel stores it: addresses and ports in network order,
 * a protocol as one byte, integers (numgen/jhash results) in host order; each padded to 4 bytes. Returns the new
 * offset.
 */
export function writeFieldRange(
  buf: Buffer,
  off: number,
  type: FieldType,
  text: string,
  start: number,
  end: number,
): number {
  buf.writeUInt32LE(0, off);
  switch (type) {
    case 'ipv4_addr':
      writeIPv4(buf, off, text, start, end);
      break;
    case 'inet_proto': {
      const first = text.charCodeAt(start);
      const len = end - start;
      // tcp / udp without allocating; anything else through the general parser
      if (len === 3 && first === 116 && text.startsWith('tcp', start)) buf[off] = 6;
      else if (len === 3 && first === 117 && text.startsWith('udp', start)) buf[off] = 17;
      else buf[off] = protocolNumber(text.slice(start, end));
      break;
    }
    case 'inet_service': {
      const port = digits(text, start, end);
      if (!(port >= 0 && port <= 65535)) throw new Error(`invalid port "${text.slice(start, end)}"`);
      buf.writeUInt16BE(port, off);
      break;
    }
    case 'integer': {
      const v = digits(text, start, end);
      if (!(v >= 0 && v <= 0xffffffff)) throw new Error(`invalid integer "${text.slice(start, end)}"`);
      buf.writeUInt32LE(v, off); // host order; skiff supports little-endian hosts (x86-64, arm64)
      break;
    }
  }
  return off + 4;
}

export function writeField(buf: Buffer, off: number, type: FieldType, text: string): number {
  return writeFieldRange(buf, off, type, text, 0, text.length);
}

/** Writes the components of `text` ("a . b . c", as nft prints a concatenation) one after another. */
export function writeJoinedFields(buf: Buffer, off: number, types: readonly FieldType[], text: string): number {
  let start = 0;
  for (let i = 0; i < types.length; i++) {
    let end = i === types.length - 1 ? text.length : text.indexOf(' . ', start);
    if (end < 0) throw new Error(`"${text}" has fewer than ${types.length} components`);
    off = writeFieldRange(buf, off, types[i]!, text, start, end);
    start = end + 3;
  }
  // The last component runs to the end of the text: an extra " . x" makes its parse fail.
  return off;
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
