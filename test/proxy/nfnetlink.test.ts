// The nf_tables netlink encoder: message framing, attribute layout and field encoding, checked byte by byte.
import t from 'tap';
import { encodeElementBatches, type SetLayout } from '../../src/proxy/nftables/nfnetlink.js';
import { writeJoinedFields, canonicalField, isIPv4 } from '../../src/proxy/nftables/types.js';

const slots: SetLayout = {
  name: 'service-slots',
  key: ['ipv4_addr', 'inet_proto', 'inet_service', 'integer'],
  value: ['ipv4_addr', 'inet_service'],
};

/** Splits a buffer into netlink messages: [type, flags, seq, payload]. */
function messages(buf: Buffer): { type: number; flags: number; seq: number; payload: Buffer }[] {
  const out = [];
  for (let off = 0; off < buf.length;) {
    const len = buf.readUInt32LE(off);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      payload: buf.subarray(off + 16, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** Attributes of a payload region: [type without flags, nested?, data]. */
function attrs(buf: Buffer): { type: number; nested: boolean; data: Buffer }[] {
  const out = [];
  for (let off = 0; off + 4 <= buf.length;) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2);
    out.push({ type: type & 0x3fff, nested: (type & 0x8000) !== 0, data: buf.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}

t.test('components are laid out as the kernel stores them', async (t) => {
  const buf = Buffer.alloc(16);
  t.equal(writeJoinedFields(buf, 0, slots.key, '10.96.0.10 . tcp . 80 . 3'), 16);
  t.same(
    [...buf],
    [10, 96, 0, 10, 6, 0, 0, 0, 0, 80, 0, 0, 3, 0, 0, 0],
    'addr | proto+pad | port BE+pad | u32 host order',
  );
  t.throws(() => writeJoinedFields(buf, 0, slots.key, '10.96.0.10 . tcp . 80'), /fewer than 4/);
  t.throws(() => writeJoinedFields(buf, 0, slots.key, '10.96.0.300 . tcp . 80 . 1'), /invalid IPv4/);
  t.throws(() => writeJoinedFields(buf, 0, slots.key, '10.96.0.1 . tcp . 70000 . 1'), /invalid port/);
  t.throws(() => writeJoinedFields(buf, 0, slots.key, '10.96.0.1 . tcp . 80 . 1 . 2'), /invalid integer/);
  t.equal(canonicalField('inet_proto', '17'), 'udp');
});

t.test(
  'a batch: BEGIN, NEWSETELEM with table, set and nested elements, END; ACK asked on the last message',
  async (t) => {
    let seq = 100;
    const [batch, ...rest] = encodeElementBatches(
      'ip',
      'skiff',
      [
        {
          op: 'add',
          set: slots,
          keys: ['10.96.0.10 . tcp . 80 . 0', '10.96.0.10 . tcp . 80 . 1'],
          values: ['10.0.1.1 . 8080', '10.0.1.2 . 8080'],
        },
        {
          op: 'delete',
          set: { name: 'service-ips', key: ['ipv4_addr', 'inet_proto', 'inet_service'], value: 'verdict' },
          keys: ['10.96.0.9 . udp . 53'],
        },
        {
          op: 'add',
          set: { name: 'service-ips', key: ['ipv4_addr', 'inet_proto', 'inet_service'], value: 'verdict' },
          keys: ['10.96.0.10 . tcp . 80'],
          values: ['goto svc-rand-2'],
        },
      ],
      () => seq++,
    );
    t.equal(rest.length, 0, 'one batch');
    const msgs = messages(batch!.bytes);
    t.same(
      msgs.map((m) => m.type),
      [0x10, 0xa0c, 0xa0e, 0xa0c, 0x11],
      'BEGIN, NEWSETELEM, DELSETELEM, NEWSETELEM, END',
    );
    t.same(
      msgs.map((m) => m.seq),
      [100, 101, 102, 103, 104],
    );
    t.same(
      msgs.map((m) => (m.flags & 0x4) !== 0),
      [false, false, false, true, false],
      'ACK only on the last element message',
    );
    t.ok(
      msgs.slice(1, 4).every((m) => (m.flags & 0x400) !== 0),
      'NLM_F_CREATE on element messages',
    );
    t.equal(batch!.firstSeq, 100);
    t.equal(batch!.lastSeq, 103);
    t.same([...msgs[0]!.payload.subarray(0, 4)], [0, 0, 0, 10], 'BEGIN: AF_UNSPEC, res_id = NFNL_SUBSYS_NFTABLES (BE)');
    const add = msgs[1]!.payload;
    t.equal(add[0], 2, 'nfgen_family NFPROTO_IPV4');
    const top = attrs(add.subarray(4));
    t.same(
      top.map((a) => a.type),
      [1, 2, 3],
      'TABLE, SET, ELEMENTS',
    );
    t.equal(top[0]!.data.toString(), 'skiff\0');
    t.equal(top[1]!.data.toString(), 'service-slots\0');
    t.ok(top[2]!.nested);
    const elements = attrs(top[2]!.data);
    t.equal(elements.length, 2);
    const first = attrs(elements[0]!.data);
    t.same(
      first.map((a) => a.type),
      [1, 2],
      'KEY, DATA',
    );
    const key = attrs(first[0]!.data);
    t.same([...key[0]!.data], [10, 96, 0, 10, 6, 0, 0, 0, 0, 80, 0, 0, 0, 0, 0, 0]);
    const data = attrs(first[1]!.data);
    t.same([...data[0]!.data], [10, 0, 1, 1, 0x1f, 0x90, 0, 0], '10.0.1.1 . 8080');
    const del = attrs(attrs(attrs(msgs[2]!.payload.subarray(4))[2]!.data)[0]!.data);
    t.same(
      del.map((a) => a.type),
      [1],
      'a delete carries only the key',
    );
    const verdict = attrs(attrs(attrs(attrs(attrs(msgs[3]!.payload.subarray(4))[2]!.data)[0]!.data)[1]!.data)[0]!.data);
    t.same(
      verdict.map((a) => a.type),
      [1, 2],
      'VERDICT_CODE, VERDICT_CHAIN',
    );
    t.equal(verdict[0]!.data.readInt32BE(0), -4, 'NFT_GOTO');
    t.equal(verdict[1]!.data.toString(), 'svc-rand-2\0');
  },
);

t.test('long runs are split into messages of 1024 elements and batches of about 1 MB', async (t) => {
  let seq = 1;
  const keys = Array.from({ length: 50_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255} . tcp . 80 . 0`);
  const values = keys.map(() => '10.0.0.1 . 80');
  const batches = encodeElementBatches('ip', 'skiff', [{ op: 'add', set: slots, keys, values }], () => seq++);
  t.ok(batches.length >= 2, `${batches.length} batches`);
  let total = 0;
  for (const b of batches) {
    t.ok(b.bytes.length <= (1 << 20) + (1 << 16), 'batch fits the send buffer');
    for (const m of messages(b.bytes).slice(1, -1)) {
      const n = attrs(attrs(m.payload.subarray(4))[2]!.data).length;
      t.ok(n <= 1024);
      total += n;
    }
  }
  t.equal(total, 50_000, 'every element encoded once');
  t.throws(
    () => encodeElementBatches('bogus', 'skiff', [{ op: 'add', set: slots, keys, values }], () => seq++),
    /family/,
  );
});

t.test('slot-form keys (base key + slot number) encode exactly like the joined text', async (t) => {
  // Several VIPs with several slots each, across batch boundaries, so the copied base bytes are exercised too.
  const bases: string[] = [];
  const slotNumbers: number[] = [];
  const joined: string[] = [];
  const values: string[] = [];
  for (let v = 0; v < 8000; v++) {
    const base = `10.96.${v >> 8}.${v & 255} . ${v % 2 ? 'udp' : 'tcp'} . ${80 + (v % 7)}`;
    for (let s = 0; s < 1 + (v % 13); s++) {
      bases.push(base);
      slotNumbers.push(s);
      joined.push(`${base} . ${s}`);
      values.push(`10.128.${v >> 8}.${s} . ${8000 + s}`);
    }
  }
  for (const op of ['add', 'delete'] as const) {
    let a = 1;
    let b = 1;
    const viaText = encodeElementBatches(
      'ip',
      'skiff',
      [{ op, set: slots, keys: joined, ...(op === 'add' ? { values } : {}) }],
      () => a++,
    );
    const viaSlots = encodeElementBatches(
      'ip',
      'skiff',
      [{ op, set: slots, keys: bases, slots: slotNumbers, ...(op === 'add' ? { values } : {}) }],
      () => b++,
    );
    t.ok(viaText.length >= 2, `${op}: several batches`);
    t.equal(viaSlots.length, viaText.length, `${op}: same batching`);
    viaText.forEach((x, i) => t.ok(x.bytes.equals(viaSlots[i]!.bytes), `${op}: batch ${i} byte-identical`));
  }
});

t.test('isIPv4 accepts exactly the dotted quads the strict pattern accepts', async (t) => {
  // The pattern the character loop replaced (and the tracker's definition of an IPv4 endpoint address).
  const STRICT = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const cases = [
    '0.0.0.0',
    '255.255.255.255',
    '10.96.0.1',
    '256.1.1.1',
    '01.1.1.1',
    '1.1.1.00',
    '1.1.1',
    '1.1.1.1.1',
    '1..1.1',
    '.1.1.1',
    '1.1.1.1.',
    '1.1.1.1 ',
    'a.b.c.d',
    '1234.1.1.1',
    '::1',
    '',
    '100.200.250.199',
  ];
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const alphabet = '0123456789..a 5';
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    const len = 5 + Math.floor(rnd() * 12);
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    cases.push(s);
  }
  for (let i = 0; i < 2000; i++) cases.push([0, 0, 0, 0].map(() => Math.floor(rnd() * 300)).join('.'));
  const wrong = cases.filter((c) => isIPv4(c) !== STRICT.test(c));
  t.same(wrong, [], 'no disagreement');
  t.ok(cases.filter((c) => STRICT.test(c)).length > 1000, 'plenty of valid addresses among the cases');
});
