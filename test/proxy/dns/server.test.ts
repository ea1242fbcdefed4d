import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket, { type DecodedPacket, type Packet } from 'dns-packet';
import { DnsServer } from '../../../src/proxy/dns/server.js';
import { ClusterRecords } from '../../../src/proxy/dns/records.js';
import { sampleRecords, service, slice } from './fixtures/cluster.js';

/** Sends raw bytes over UDP and resolves to the reply, or undefined after `ms`. */
function udpRaw(port: number, bytes: Buffer, ms = 1500): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, ms);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(bytes, port, '127.0.0.1');
  });
}

async function udpQuery(port: number, name: string, type: string, extra: Partial<Packet> = {}): Promise<DecodedPacket> {
  const id = Math.floor(Math.random() * 65535);
  const bytes = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A' }],
    ...extra,
  });
  const reply = await udpRaw(port, bytes, 4000);
  if (!reply) throw new Error(`no reply for ${name}`);
  const p = dnsPacket.decode(reply);
  if (p.id !== id) throw new Error('id mismatch');
  return p;
}

function tcpQuery(port: number, name: string, type: string): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    c.on('error', reject);
    c.on('connect', () =>
      c.write(dnsPacket.streamEncode({ type: 'query', id: 7, questions: [{ name, type: type as 'A' }] })),
    );
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        c.destroy();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
  });
}

const rcode = (p: DecodedPacket) => (p as DecodedPacket & { rcode: string }).rcode;
const datas = (p: DecodedPacket) => (p.answers ?? []).map((a) => (a as { data: unknown }).data);

/** A fake upstream resolver: answers example.com with 192.0.2.1, counts queries. */
async function fakeUpstream(): Promise<{ port: number; seen: string[]; sock: Socket }> {
  const sock = createSocket('udp4');
  const seen: string[] = [];
  sock.on('message', (m, rinfo) => {
    const qp = dnsPacket.decode(m);
    seen.push(qp.questions![0]!.name);
    sock.send(
      dnsPacket.encode({
        id: qp.id,
        type: 'response',
        flags: dnsPacket.RECURSION_AVAILABLE,
        questions: qp.questions,
        answers: [{ type: 'A', name: qp.questions![0]!.name, ttl: 60, data: '192.0.2.1' }],
      }),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, seen, sock };
}

t.test('serves cluster names over UDP and TCP, forwards the rest', async (t) => {
  const up = await fakeUpstream();
  const records = sampleRecords();
  const srv = new DnsServer({ records, upstreams: [`127.0.0.1:${up.port}`], forwardTimeoutMs: 500 });
  const port = await srv.start();
  t.teardown(async () => {
    await srv.close();
    up.sock.close();
  });

  const a = await udpQuery(port, 'web.default.svc.cluster.local', 'A');
  t.equal(rcode(a), 'NOERROR');
  t.ok(a.flag_aa, 'authoritative for the cluster zone');
  t.ok(a.flag_rd && a.flag_ra);
  t.same(datas(a), ['10.96.0.10']);

  const tcp = await tcpQuery(port, 'db.data.svc.cluster.local', 'A');
  t.same((datas(tcp) as string[]).sort(), ['10.244.1.5', '10.244.2.6']);

  const nx = await udpQuery(port, 'nothing.default.svc.cluster.local', 'A');
  t.equal(rcode(nx), 'NXDOMAIN');
  t.equal(nx.authorities?.[0]?.type, 'SOA');
  t.same(up.seen, [], 'cluster names never reach the upstream');

  const fwd = await udpQuery(port, 'example.com', 'A');
  t.same(datas(fwd), ['192.0.2.1']);
  t.same(up.seen, ['example.com']);
  const fwdTcp = await tcpQuery(port, 'example.org', 'A');
  t.equal(rcode(fwdTcp), 'SERVFAIL', 'the fake upstream has no TCP listener: SERVFAIL after the timeout');

  const ptr = await udpQuery(port, '10.0.96.10.in-addr.arpa', 'PTR');
  t.same(datas(ptr), ['web.default.svc.cluster.local']);

  // Records change under a running server.
  records.applyService({ type: 'ADDED', object: service('default', 'late', { clusterIP: '10.96.0.77' }) });
  t.same(datas(await udpQuery(port, 'late.default.svc.cluster.local', 'A')), ['10.96.0.77']);
  t.equal(srv.stats.forwarded, 2);
});

t.test('SERVFAIL when upstreams do not answer in time, or there are none', async (t) => {
  const silent = createSocket('udp4'); // bound, never replies
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  const srv = new DnsServer({
    records: new ClusterRecords(),
    upstreams: [`127.0.0.1:${silent.address().port}`],
    forwardTimeoutMs: 200,
  });
  const port = await srv.start();
  const none = new DnsServer({ records: new ClusterRecords(), upstreams: [] });
  const port2 = await none.start();
  t.teardown(async () => {
    await srv.close();
    await none.close();
    silent.close();
  });
  t.equal(rcode(await udpQuery(port, 'example.com', 'A')), 'SERVFAIL');
  t.equal(rcode(await udpQuery(port2, 'example.com', 'A')), 'SERVFAIL');
  t.equal(rcode(await udpQuery(port2, 'x.svc.cluster.local', 'A')), 'NXDOMAIN', 'cluster zone still answers');
});

t.test('malformed packets get FORMERR or silence, and the server keeps serving', async (t) => {
  const srv = new DnsServer({ records: sampleRecords(), upstreams: [] });
  const port = await srv.start();
  t.teardown(() => srv.close());

  t.equal(await udpRaw(port, Buffer.from([1, 2, 3]), 300), undefined, 'shorter than a header: dropped');
  const garbage = Buffer.concat([
    Buffer.from([0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]),
    Buffer.from([63, 1, 2]),
  ]);
  const fe = await udpRaw(port, garbage);
  t.ok(fe, 'a broken question still gets a reply');
  t.equal(fe!.readUInt16BE(0), 0xbeef, 'reply keeps the id');
  t.equal(fe!.readUInt16BE(2) & 0x0f, 1, 'FORMERR');
  t.ok(fe!.readUInt16BE(2) & 0x8000, 'QR set');

  const reply = dnsPacket.encode({ type: 'response', id: 9, questions: [{ name: 'a', type: 'A' }] });
  t.equal(await udpRaw(port, reply, 300), undefined, 'responses are never answered (no loops)');

  const zeroQ = dnsPacket.encode({ type: 'query', id: 10, questions: [] });
  t.equal((await udpRaw(port, zeroQ))!.readUInt16BE(2) & 0x0f, 1, 'no question: FORMERR');

  const twoQ = dnsPacket.encode({
    type: 'query',
    id: 11,
    questions: [
      { name: 'a', type: 'A' },
      { name: 'b', type: 'A' },
    ],
  });
  t.equal((await udpRaw(port, twoQ))!.readUInt16BE(2) & 0x0f, 1, 'two questions: FORMERR');

  const notify = Buffer.from(dnsPacket.encode({ type: 'query', id: 12, questions: [{ name: 'a', type: 'A' }] }));
  notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2); // opcode NOTIFY
  t.equal((await udpRaw(port, notify))!.readUInt16BE(2) & 0x0f, 4, 'unknown opcode: NOTIMP');

  // A compression pointer loop in the name.
  const loop = Buffer.from([0, 13, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  t.ok(await udpRaw(port, loop), 'pointer loop answered, not crashed');

  // Random bytes, bounded count.
  for (let i = 0; i < 200; i++) {
    const len = 12 + Math.floor(Math.random() * 60);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(Math.random() * 256);
    b[2] = b[2]! & 0x7f; // a query, so it is not silently dropped as a response
    await srv.handle(b, 'udp');
  }
  // A TCP frame announcing more bytes than arrive, then the connection closes.
  await new Promise<void>((res) => {
    const c = connect(port, '127.0.0.1', () => {
      c.end(Buffer.from([0xff, 0xff, 1, 2, 3]));
    });
    c.on('close', () => res());
    c.on('error', () => res());
  });
  t.same(datas(await udpQuery(port, 'web.default.svc.cluster.local', 'A')), ['10.96.0.10'], 'still serving');
  t.ok(srv.stats.malformed >= 2);
});

t.test('large headless answers are truncated over UDP and complete over TCP', async (t) => {
  const records = new ClusterRecords();
  records.applyService({ type: 'ADDED', object: service('ns', 'big', { clusterIP: 'None' }) });
  const eps = Array.from({ length: 100 }, (_, i) => ({ ip: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  records.applyEndpointSlice({ type: 'ADDED', object: slice('ns', 'big-1', 'big', eps) });
  const srv = new DnsServer({ records, upstreams: [] });
  const port = await srv.start();
  t.teardown(() => srv.close());
  const udp = await udpQuery(port, 'big.ns.svc.cluster.local', 'A');
  t.ok(udp.flag_tc, 'TC set over UDP');
  t.equal(udp.answers?.length ?? 0, 0);
  const edns = await udpQuery(port, 'big.ns.svc.cluster.local', 'A', {
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as never],
  });
  t.notOk(edns.flag_tc, 'EDNS0 with 4096 bytes fits 100 records');
  t.equal(edns.answers?.length, 100);
  const tcp = await tcpQuery(port, 'big.ns.svc.cluster.local', 'A');
  t.equal(tcp.answers?.length, 100);
});

t.test('closing while a forwarded query is out does not crash', async (t) => {
  const silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  const srv = new DnsServer({
    records: new ClusterRecords(),
    upstreams: [`127.0.0.1:${silent.address().port}`],
    forwardTimeoutMs: 300,
  });
  const port = await srv.start();
  const pending = udpRaw(
    port,
    dnsPacket.encode({ type: 'query', id: 5, questions: [{ name: 'example.com', type: 'A' }] }),
    800,
  );
  await new Promise((r) => setTimeout(r, 50));
  await srv.close();
  t.equal(await pending, undefined, 'no reply after close');
  await new Promise((r) => setTimeout(r, 400)); // the forward times out after close
  silent.close();
  t.pass('process still alive');
});

t.test('bad upstream specs are refused with a clear error', (t) => {
  t.throws(() => new DnsServer({ records: new ClusterRecords(), upstreams: ['not-an-ip'] }), /not an IP address/);
  t.throws(() => new DnsServer({ records: new ClusterRecords(), upstreams: ['10.0.0.1:99999'] }), /bad port/);
  t.end();
});

t.test('TCP connections beyond the cap are closed; the server keeps answering', async (t) => {
  const srv = new DnsServer({ records: sampleRecords(), upstreams: [], maxTcpConnections: 2 });
  const port = await srv.start();
  const open = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<ReturnType<typeof connect>>((res) => {
          const c = connect(port, '127.0.0.1', () => res(c));
        }),
    ),
  );
  t.teardown(async () => {
    for (const c of open) c.destroy();
    await srv.close();
  });
  await new Promise((r) => setTimeout(r, 50));
  const third = await new Promise<string>((res) => {
    const c = connect(port, '127.0.0.1');
    c.on('close', () => res('closed'));
    c.on('error', () => res('closed'));
  });
  t.equal(third, 'closed');
  for (const c of open) c.destroy();
  await new Promise((r) => setTimeout(r, 50));
  t.same(datas(await tcpQuery(port, 'web.default.svc.cluster.local', 'A')), ['10.96.0.10'], 'a slot freed up');
});
