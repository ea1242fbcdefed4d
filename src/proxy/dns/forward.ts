// Relays a query for a name outside the cluster to the node's upstream resolvers, one after another,
// each with a timeout; resolves to the upstream's reply bytes or undefined when none answered.
import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

/** "10.0.0.2", "10.0.0.2:5353", "[fd00::1]:53", "fd00::1" -> Upstream. */
export function parseUpstream(spec: string): Upstream {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : 53 };
  if (isIP(spec) === 6) return { host: spec, port: 53 };
  const [host, port] = spec.split(':');
  if (!host || isIP(host) === 0) throw new Error(`dns: upstream "${spec}" is not an IP address[:port]`);
  const n = port === undefined ? 53 : Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`dns: upstream "${spec}" has a bad port`);
  return { host, port: n };
}

function askUdp(query: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    // A fresh socket per query: a random source port, and replies to other queries can't be confused.
    const sock = createSocket(isIP(up.host) === 6 ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    let finished = false;
    const done = (reply: Buffer | undefined) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('message', (msg, rinfo) => {
      // Accept only the upstream's reply to this query id; anything else is noise or spoofing.
      if (rinfo.address !== up.host || rinfo.port !== up.port || msg.length < 12 || msg.readUInt16BE(0) !== id) return;
      done(msg);
    });
    try {
      sock.send(query, up.port, up.host, (err) => err && done(undefined));
    } catch {
      done(undefined);
    }
  });
}

function askTcp(query: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    let finished = false;
    const done = (reply: Buffer | undefined) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

/** Tries each upstream in order over the client's transport. */
export async function forwardQuery(
  query: Buffer,
  upstreams: Upstream[],
  transport: 'udp' | 'tcp',
  timeoutMs: number,
): Promise<Buffer | undefined> {
  for (const up of upstreams) {
    const reply = transport === 'udp' ? await askUdp(query, up, timeoutMs) : await askTcp(query, up, timeoutMs);
    if (reply) return reply;
  }
  return undefined;
}
