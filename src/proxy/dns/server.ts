// The cluster DNS server: UDP and TCP on one port, cluster names answered from ClusterRecords,
// everything else relayed to the node's resolvers. Malformed input never throws past a handler.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server as TcpServer, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import { defaultZoneConfig, RCODE, resolve, type ZoneConfig } from './answer.js';
import { forwardQuery, parseUpstream, type Upstream } from './forward.js';
import { hostResolvConf } from './resolvconf.js';
import type { ClusterRecords } from './records.js';

export interface DnsServerOptions {
  records: ClusterRecords;
  host?: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port?: number;
  zone?: Partial<ZoneConfig>;
  /** "ip[:port]" upstreams; default: the nameservers in /etc/resolv.conf. */
  upstreams?: string[];
  /** Per-upstream timeout of a forwarded query. */
  forwardTimeoutMs?: number;
  /** Forwarded queries in flight at once; more get SERVFAIL rather than piling up. */
  maxInflightForwards?: number;
  /** Open TCP connections at once; more are closed on arrival (clients fall back to retrying). */
  maxTcpConnections?: number;
}

export interface DnsStats {
  queries: number;
  answered: number;
  forwarded: number;
  servfail: number;
  malformed: number;
}

const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const TCP_IDLE_MS = 10_000;

export class DnsServer {
  readonly stats: DnsStats = { queries: 0, answered: 0, forwarded: 0, servfail: 0, malformed: 0 };
  private udp?: UdpSocket;
  private tcp?: TcpServer;
  private readonly conns = new Set<Socket>();
  private readonly zone: ZoneConfig;
  private upstreams: Upstream[];
  private inflight = 0;
  port = 0;

  constructor(private readonly opts: DnsServerOptions) {
    this.zone = { ...defaultZoneConfig, ...opts.zone };
    this.upstreams = (opts.upstreams ?? hostResolvConf().nameservers).map(parseUpstream);
  }

  /** Binds UDP then TCP on the same port; with port 0, retries a few random ports if TCP's is taken. */
  async start(): Promise<number> {
    const host = this.opts.host ?? '127.0.0.1';
    for (let attempt = 0; attempt < 10; attempt++) {
      const udp = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      const port = await new Promise<number>((res, rej) => {
        udp.once('error', rej);
        udp.bind(this.opts.port ?? 0, host, () => res(udp.address().port));
      });
      const tcp = createServer((c) => this.onTcp(c));
      const ok = await new Promise<boolean>((res, rej) => {
        tcp.once('error', (err: NodeJS.ErrnoException) =>
          err.code === 'EADDRINUSE' && !this.opts.port ? res(false) : rej(err),
        );
        tcp.listen(port, host, () => res(true));
      }).catch((err) => {
        udp.close();
        throw err;
      });
      if (!ok) {
        udp.close();
        continue;
      }
      udp.removeAllListeners('error');
      udp.on('error', () => undefined); // a send error on one reply must not take the server down
      udp.on('message', (msg, rinfo) => {
        this.handle(msg, 'udp')
          .then((reply) => {
            // The socket may have closed while a forwarded query was out; send() would throw then.
            if (reply && this.udp === udp) udp.send(reply, rinfo.port, rinfo.address);
          })
          .catch(() => {
            this.stats.servfail++;
          });
      });
      this.udp = udp;
      this.tcp = tcp;
      this.port = port;
      // Never forward to ourselves: a resolv.conf naming this very address would loop.
      this.upstreams = this.upstreams.filter((u) => !(u.host === host && u.port === port));
      return port;
    }
    throw new Error('dns: no free port for UDP and TCP together');
  }

  async close(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((res) => (udp ? udp.close(() => res()) : res())),
      new Promise<void>((res) => (this.tcp ? this.tcp.close(() => res()) : res())),
    ]);
  }

  private onTcp(conn: Socket): void {
    if (this.conns.size >= (this.opts.maxTcpConnections ?? 256)) {
      conn.destroy();
      return;
    }
    this.conns.add(conn);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('close', () => this.conns.delete(conn));
    conn.on('error', () => conn.destroy());
    let buf = Buffer.alloc(0);
    // Replies go out in query order; a chain keeps a slow forwarded query from reordering them.
    let chain = Promise.resolve();
    conn.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        chain = chain.then(async () => {
          const reply = await this.handle(msg, 'tcp').catch(() => undefined);
          if (!reply) return void conn.destroy();
          if (conn.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([head, reply]));
        });
      }
    });
  }

  /** One query in, one reply out (or nothing for input that isn't worth answering). */
  async handle(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    this.stats.queries++;
    if (msg.length < 12) {
      this.stats.malformed++;
      return undefined;
    }
    const id = msg.readUInt16BE(0);
    const rawFlags = msg.readUInt16BE(2);
    if (rawFlags & QR) return undefined; // a response sent to us: answering could start a loop
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      this.stats.malformed++;
      return errorReply(id, rawFlags, RCODE.FORMERR);
    }
    const opt = (query.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');
    if ((rawFlags & OPCODE_MASK) !== 0) return errorReply(id, rawFlags, RCODE.NOTIMP, query, opt);
    if (query.questions?.length !== 1) return errorReply(id, rawFlags, RCODE.FORMERR, query, opt);

    let res;
    try {
      res = resolve(query.questions[0]!, this.opts.records, this.zone);
    } catch {
      this.stats.servfail++;
      return errorReply(id, rawFlags, RCODE.SERVFAIL, query, opt);
    }
    if (res.kind === 'forward') return this.forward(msg, id, rawFlags, query, opt, transport);

    this.stats.answered++;
    const reply = encodeReply(
      {
        id,
        type: 'response',
        flags:
          (rawFlags & dnsPacket.RECURSION_DESIRED) |
          dnsPacket.RECURSION_AVAILABLE |
          dnsPacket.AUTHORITATIVE_ANSWER |
          res.rcode,
        questions: query.questions,
        answers: res.answers,
        authorities: res.authorities,
        additionals: [...res.additionals, ...(opt ? [replyOpt()] : [])],
      },
      transport,
      opt,
    );
    return reply;
  }

  private async forward(
    msg: Buffer,
    id: number,
    rawFlags: number,
    query: DecodedPacket,
    opt: OptAnswer | undefined,
    transport: 'udp' | 'tcp',
  ): Promise<Buffer> {
    const limit = this.opts.maxInflightForwards ?? 1000;
    if (this.upstreams.length === 0 || this.inflight >= limit) {
      this.stats.servfail++;
      return errorReply(id, rawFlags, RCODE.SERVFAIL, query, opt);
    }
    this.inflight++;
    try {
      this.stats.forwarded++;
      const reply = await forwardQuery(msg, this.upstreams, transport, this.opts.forwardTimeoutMs ?? 2000);
      if (reply) return reply;
      this.stats.servfail++;
      return errorReply(id, rawFlags, RCODE.SERVFAIL, query, opt);
    } finally {
      this.inflight--;
    }
  }
}

/** Our EDNS record: we speak EDNS0 when the client does, and accept 1232-byte UDP (the DNS flag day value). */
function replyOpt(): OptAnswer {
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: 1232,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

function errorReply(id: number, rawFlags: number, rcode: number, query?: DecodedPacket, opt?: OptAnswer): Buffer {
  return dnsPacket.encode({
    id,
    type: 'response',
    // Keep the opcode and RD the client sent; set the error code.
    flags: (rawFlags & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED)) | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: query?.questions ?? [],
    additionals: opt ? [replyOpt()] : [],
  });
}

/** UDP replies larger than the client accepts carry TC and no records, so the client retries over TCP. */
function encodeReply(packet: Packet, transport: 'udp' | 'tcp', opt: OptAnswer | undefined): Buffer {
  const full = dnsPacket.encode(packet);
  if (transport === 'tcp') return full;
  const limit = opt ? Math.min(Math.max(opt.udpPayloadSize, 512), 4096) : 512;
  if (full.length <= limit) return full;
  return dnsPacket.encode({
    ...packet,
    flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
    additionals: opt ? [replyOpt()] : [],
  });
}
