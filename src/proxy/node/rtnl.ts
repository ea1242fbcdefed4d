// The node's network plumbing over rtnetlink (npm `netlink`): a dummy interface holding LoadBalancer IPs,
// addresses and routes. Acts on the network namespace the process runs in (e.g. under `ip netns exec`).
import { isIP } from 'node:net';
import { AttrStream, createRtNetlink, FlagsNew, ifla, type RtNetlinkSocket, type StreamData } from 'netlink';

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_MAIN = 254;
/** Link kinds that can hold LB addresses, in order of preference. */
const HOLDER_KINDS = ['dummy', 'bridge'];

/** An error code from the kernel ("EEXIST"), read off the library's "Request rejected: EEXIST" message. */
export function netlinkErrno(err: unknown): string | undefined {
  const m = /Request rejected: (\w+)/.exec(err instanceof Error ? err.message : String(err));
  return m?.[1];
}

export interface Cidr {
  ip: string;
  prefix: number;
  family: 4 | 6;
}

/** "10.0.0.1/24" -> Cidr; a bare address gets /32 or /128. Throws a clear error on bad input. */
export function parseCidr(text: string): Cidr {
  const [ip, len, extra] = text.split('/');
  const fam = isIP(ip ?? '');
  if (!ip || fam === 0 || extra !== undefined) throw new Error(`invalid CIDR "${text}"`);
  const max = fam === 4 ? 32 : 128;
  const prefix = len === undefined ? max : /^\d+$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`invalid prefix length in "${text}"`);
  return { ip, prefix, family: fam as 4 | 6 };
}

export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  if (isIP(ip) !== 6) throw new Error(`invalid IP address "${ip}"`);
  // Expand "::" then write eight 16-bit groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return buf;
}

export function bytesToIp(buf: Buffer): string {
  if (buf.length === 4) return [...buf].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(i).toString(16));
  // Canonical compressed form, via the URL parser (RFC 5952).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

export interface RouteSpec {
  /** Destination CIDR. */
  dst: string;
  /** Outgoing interface name. */
  dev?: string;
  gateway?: string;
  type?: 'unicast' | 'local' | 'blackhole' | 'unreachable';
  table?: number;
  /** Source address hint (prefsrc). */
  src?: string;
}

export interface RouteInfo {
  dst: string;
  dev?: string;
  gateway?: string;
  type: string;
  table: number;
}

const ROUTE_TYPES = { unicast: 1, local: 2, blackhole: 6, unreachable: 7 } as const;

/** One rtnetlink socket in the current namespace; close() when done. */
export class NodeNetlink {
  private readonly sock: RtNetlinkSocket;
  constructor() {
    this.sock = createRtNetlink();
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Runs dumps one at a time: the kernel allows one dump per netlink socket at once. */
  private dump<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.sock.socket.close();
  }

  async links(): Promise<{ index: number; name: string; up: boolean; kind?: string }[]> {
    const msgs = await this.dump(() => this.sock.getLinks());
    return msgs.map((m) => {
      const info = m.attrs.linkinfo ? ifla.parseInfo(m.attrs.linkinfo) : undefined;
      const link: { index: number; name: string; up: boolean; kind?: string } = {
        index: m.data.index ?? 0,
        name: m.attrs.ifname ?? '',
        up: m.data.flags?.up === true,
      };
      if (info?.kind) link.kind = info.kind;
      return link;
    });
  }

  async linkIndex(name: string): Promise<number | undefined> {
    return (await this.links()).find((l) => l.name === name)?.index;
  }

  private async mustIndex(name: string): Promise<number> {
    const index = await this.linkIndex(name);
    if (index === undefined) throw new Error(`no network interface "${name}"`);
    return index;
  }

  /**
   * Creates the interface that holds LoadBalancer IPs and the service-range route (if missing) and sets it
   * up; returns its index and kind. A `dummy` where the kernel has it; kernels built without the dummy
   * driver (this machine's: "Unknown device type") get an empty bridge, which behaves the same for
   * local addresses and routes. Idempotent; refuses to adopt an interface of another kind.
   */
  async ensureDummy(name: string): Promise<{ index: number; kind: string }> {
    if (name.length === 0 || name.length > 15 || /[\s/]/.test(name))
      throw new Error(`invalid interface name "${name}"`);
    const existing = (await this.links()).find((l) => l.name === name);
    if (existing && !HOLDER_KINDS.includes(existing.kind ?? '')) {
      throw new Error(`interface "${name}" exists and is a ${existing.kind ?? 'device without a kind'}, not a dummy`);
    }
    if (!existing) {
      for (const kind of HOLDER_KINDS) {
        const linkinfo = Buffer.concat(toBuffers(ifla.formatInfo({ kind })));
        try {
          await this.sock.newLink({}, { ifname: name, linkinfo }, { flags: FlagsNew.CREATE | FlagsNew.EXCL });
          break;
        } catch (err) {
          const code = netlinkErrno(err);
          if (code === 'EEXIST') break; // created concurrently: fine
          if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
          if (kind === HOLDER_KINDS[HOLDER_KINDS.length - 1]) throw err;
        }
      }
    }
    const link = (await this.links()).find((l) => l.name === name);
    if (!link) throw new Error(`no network interface "${name}"`);
    await this.sock.setLink({ index: link.index, change: { up: true }, flags: { up: true } });
    return { index: link.index, kind: link.kind ?? 'dummy' };
  }

  /** Removes an interface; a missing one is not an error. */
  async deleteLink(name: string): Promise<void> {
    const index = await this.linkIndex(name);
    if (index === undefined) return;
    try {
      await this.sock.delLink({ index });
    } catch (err) {
      if (netlinkErrno(err) !== 'ENODEV') throw err;
    }
  }

  /** Addresses on an interface as CIDR strings. */
  async addresses(dev: string): Promise<string[]> {
    const index = await this.mustIndex(dev);
    const msgs = await this.dump(() => this.sock.getAddresses());
    return msgs
      .filter((m) => m.data.index === index)
      .map((m) => {
        const raw = m.attrs.local ?? m.attrs.address;
        return raw ? `${bytesToIp(raw)}/${m.data.prefixlen}` : '';
      })
      .filter(Boolean);
  }

  /** Adds an address; already present is fine. */
  async addAddress(dev: string, cidr: string): Promise<void> {
    const c = parseCidr(cidr);
    const index = await this.mustIndex(dev);
    const bytes = ipBytes(c.ip);
    try {
      await this.sock.newAddress(
        // nodad: an LB address on a dummy device must be usable at once, not "tentative" (IPv6).
        { family: c.family === 4 ? AF_INET : AF_INET6, prefixlen: c.prefix, index, flags: { nodad: true } },
        { local: bytes, address: bytes },
        { flags: FlagsNew.CREATE | FlagsNew.EXCL },
      );
    } catch (err) {
      if (netlinkErrno(err) !== 'EEXIST') throw err;
    }
  }

  /** Removes an address; already absent is fine. */
  async delAddress(dev: string, cidr: string): Promise<void> {
    const c = parseCidr(cidr);
    const index = await this.linkIndex(dev);
    if (index === undefined) return;
    const bytes = ipBytes(c.ip);
    try {
      await this.sock.delAddress(
        { family: c.family === 4 ? AF_INET : AF_INET6, prefixlen: c.prefix, index },
        { local: bytes, address: bytes },
      );
    } catch (err) {
      if (netlinkErrno(err) !== 'EADDRNOTAVAIL') throw err;
    }
  }

  /**
   * Makes the interface hold exactly `want` (CIDRs), adding and removing the difference; used for the
   * LoadBalancer IPs a node answers for. Returns what changed.
   */
  async syncAddresses(dev: string, want: string[]): Promise<{ added: string[]; removed: string[] }> {
    const wanted = new Set(want.map((w) => canonicalCidr(w)));
    const have = new Set((await this.addresses(dev)).filter((a) => !a.startsWith('fe80:')));
    const added = [...wanted].filter((w) => !have.has(w));
    const removed = [...have].filter((h) => !wanted.has(h));
    for (const a of added) await this.addAddress(dev, a);
    for (const r of removed) await this.delAddress(dev, r);
    return { added, removed };
  }

  private async routeMessage(spec: RouteSpec) {
    const dst = parseCidr(spec.dst);
    const type = spec.type ?? 'unicast';
    const attrs: Record<string, unknown> = { dst: ipBytes(dst.ip) };
    if (spec.dev) attrs.oif = await this.mustIndex(spec.dev);
    if (spec.gateway) attrs.gateway = ipBytes(spec.gateway);
    if (spec.src) attrs.prefsrc = ipBytes(spec.src);
    const table = spec.table ?? RT_TABLE_MAIN;
    if (table > 255) attrs.table = table;
    // Scope: link for directly attached unicast routes, host for local ones, universe otherwise.
    const scope = type === 'local' ? 254 : type === 'unicast' && !spec.gateway && spec.dev ? 253 : 0;
    const data = {
      family: dst.family === 4 ? AF_INET : AF_INET6,
      dstLen: dst.prefix,
      table: table > 255 ? 252 : table, // RT_TABLE_COMPAT when the id needs the attribute
      protocol: 4, // RTPROT_STATIC
      scope,
      type: ROUTE_TYPES[type],
    };
    return { data, attrs };
  }

  /** Adds or replaces a route (idempotent). */
  async replaceRoute(spec: RouteSpec): Promise<void> {
    const { data, attrs } = await this.routeMessage(spec);
    await this.sock.newRoute(data as never, attrs as never, { flags: FlagsNew.CREATE | FlagsNew.REPLACE });
  }

  /** Deletes a route; an absent one is fine. */
  async deleteRoute(spec: RouteSpec): Promise<void> {
    const { data, attrs } = await this.routeMessage(spec);
    try {
      await this.sock.delRoute(data as never, attrs as never);
    } catch (err) {
      if (netlinkErrno(err) !== 'ESRCH') throw err;
    }
  }

  /** Routes of the main table (or `table`), for both families. */
  async routes(table = RT_TABLE_MAIN): Promise<RouteInfo[]> {
    // Sequential on purpose: two dumps in flight on one netlink socket interleave and break the reply.
    const links = await this.links();
    const msgs = await this.dump(() => this.sock.getRoutes());
    const names = new Map(links.map((l) => [l.index, l.name]));
    const typeNames = Object.fromEntries(Object.entries(ROUTE_TYPES).map(([k, v]) => [v, k]));
    const out: RouteInfo[] = [];
    for (const m of msgs) {
      const t = m.attrs.table ?? m.data.table ?? 0;
      if (t !== table) continue;
      const fam = m.data.family === AF_INET ? 4 : 6;
      const dst = m.attrs.dst ? `${bytesToIp(m.attrs.dst)}/${m.data.dstLen}` : fam === 4 ? '0.0.0.0/0' : '::/0';
      const type = m.data.type;
      const info: RouteInfo = {
        dst,
        type: typeof type === 'number' ? (typeNames[type] ?? String(type)) : String(type).toLowerCase(),
        table: t,
      };
      if (m.attrs.oif !== undefined) info.dev = names.get(m.attrs.oif);
      if (m.attrs.gateway) info.gateway = bytesToIp(m.attrs.gateway);
      out.push(info);
    }
    return out;
  }
}

/** Flattens the library's lazy attribute encoding into buffers (for a nested attribute such as linkinfo). */
function toBuffers(data: StreamData): Buffer[] {
  const stream = new AttrStream();
  stream.emit(data);
  return stream.bufs.map((b) => Buffer.from(b));
}

function canonicalCidr(text: string): string {
  const c = parseCidr(text);
  return `${bytesToIp(ipBytes(c.ip))}/${c.prefix}`;
}
