// Encodes nf_tables set-element messages (NFT_MSG_NEWSETELEM / DELSETELEM) into NFNL batches and sends them on a
// raw NETLINK_NETFILTER socket from the npm `netlink` package, which has no nf_tables support of its own.
//
// Message and attribute numbers are the kernel UAPI's (include/uapi/linux/netfilter/nf_tables.h, nfnetlink.h).
import { RawNetlinkSocket } from 'netlink';
import { writeField, type FieldType } from './types.js';

const NETLINK_NETFILTER = 12;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;
const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_DATA = 2;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;

const FAMILIES: Record<string, number> = { inet: 1, ip: 2, ip6: 10 };

/** The verdict codes of include/uapi/linux/netfilter.h and nf_tables.h (NF_DROP, NF_ACCEPT, NFT_JUMP…). */
const VERDICTS: Record<string, number> = { drop: 0, accept: 1, continue: -1, return: -5, jump: -3, goto: -4 };

/** What an element message needs to know about its set: layout of key and value. */
export interface SetLayout {
  name: string;
  key: readonly FieldType[];
  value?: readonly FieldType[] | 'verdict';
}

/** One element operation: key components, and for maps the value (components, or a verdict like `goto c`). */
export interface ElementOp {
  op: 'add' | 'delete';
  set: SetLayout;
  key: readonly string[];
  value?: readonly string[] | string;
}

/** A growable byte buffer with the netlink attribute helpers we need. */
class Writer {
  buf = Buffer.allocUnsafe(1 << 16);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
  }
  pad(): void {
    const p = (4 - (this.len & 3)) & 3;
    this.ensure(p);
    this.buf.fill(0, this.len, this.len + p);
    this.len += p;
  }
  /** Starts an attribute; returns its offset for end(). */
  begin(type: number, nested = false): number {
    const at = this.len;
    this.ensure(4);
    this.buf.writeUInt16LE(0, at);
    this.buf.writeUInt16LE(type | (nested ? NLA_F_NESTED : 0), at + 2);
    this.len += 4;
    return at;
  }
  end(at: number): void {
    this.buf.writeUInt16LE(this.len - at, at);
    this.pad();
  }
  string(type: number, s: string): void {
    const at = this.begin(type);
    const n = Buffer.byteLength(s);
    this.ensure(n + 1);
    this.buf.write(s, this.len);
    this.buf[this.len + n] = 0;
    this.len += n + 1;
    this.end(at);
  }
  be32(type: number, v: number): void {
    const at = this.begin(type);
    this.ensure(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    this.end(at);
  }
  fields(type: number, types: readonly FieldType[], values: readonly string[]): void {
    if (types.length !== values.length) {
      throw new Error(`element has ${values.length} components, set expects ${types.length}`);
    }
    const at = this.begin(type);
    this.ensure(types.length * 4);
    for (let i = 0; i < types.length; i++) this.len = writeField(this.buf, this.len, types[i]!, values[i]!);
    this.end(at);
  }
  /** Starts a netlink message header; returns its offset. */
  message(type: number, flags: number, seq: number, family: number, resId: number): number {
    this.ensure(20);
    const at = this.len;
    this.buf.writeUInt32LE(0, at);
    this.buf.writeUInt16LE(type, at + 4);
    this.buf.writeUInt16LE(flags, at + 6);
    this.buf.writeUInt32LE(seq, at + 8);
    this.buf.writeUInt32LE(0, at + 12);
    this.buf[at + 16] = family;
    this.buf[at + 17] = 0; // NFNETLINK_V0
    this.buf.writeUInt16BE(resId, at + 18);
    this.len += 20;
    return at;
  }
  endMessage(at: number): void {
    this.buf.writeUInt32LE(this.len - at, at);
  }
}

function parseVerdict(text: string): { code: number; chain?: string } {
  const [word, chain] = text.trim().split(/\s+/);
  const code = VERDICTS[word ?? ''];
  if (code === undefined || ((word === 'goto' || word === 'jump') && !chain)) throw new Error(`bad verdict "${text}"`);
  return chain ? { code, chain } : { code };
}

/** Encodes one element (NFTA_LIST_ELEM) into the writer. */
function writeElement(w: Writer, e: ElementOp): void {
  const el = w.begin(NFTA_LIST_ELEM, true);
  const key = w.begin(NFTA_SET_ELEM_KEY, true);
  w.fields(NFTA_DATA_VALUE, e.set.key, e.key);
  w.end(key);
  if (e.op === 'add' && e.set.value !== undefined) {
    const data = w.begin(NFTA_SET_ELEM_DATA, true);
    if (e.set.value === 'verdict') {
      const v = parseVerdict(String(e.value));
      const nest = w.begin(NFTA_DATA_VERDICT, true);
      w.be32(NFTA_VERDICT_CODE, v.code);
      if (v.chain) w.string(NFTA_VERDICT_CHAIN, v.chain);
      w.end(nest);
    } else {
      w.fields(NFTA_DATA_VALUE, e.set.value, e.value as readonly string[]);
    }
    w.end(data);
  }
  w.end(el);
}

/** Most elements per message and bytes per batch; a batch must fit the socket send buffer in one sendmsg. */
const ELEMENTS_PER_MESSAGE = 1024;
const BATCH_BYTES = 1 << 20;

export interface EncodedBatch {
  /** The bytes of one NFNL batch (BEGIN … END). */
  bytes: Buffer;
  /** Sequence number of the last element message, which asks for the ACK that says the batch is done. */
  lastSeq: number;
  /** Sequence number of the BATCH_BEGIN message; errors carry the failing message's number in between. */
  firstSeq: number;
}

/**
 * Encodes element operations into batches in order; consecutive operations with the same verb and set share a
 * message. Each batch is atomic in the kernel; a long list spans several batches.
 */
export function encodeElementBatches(
  family: string,
  table: string,
  ops: readonly ElementOp[],
  nextSeq: () => number,
): EncodedBatch[] {
  const fam = FAMILIES[family];
  if (fam === undefined) throw new Error(`unknown nftables family "${family}"`);
  const batches: EncodedBatch[] = [];
  let i = 0;
  while (i < ops.length) {
    const w = new Writer();
    const firstSeq = nextSeq();
    const begin = w.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, firstSeq, 0, NFNL_SUBSYS_NFTABLES);
    w.endMessage(begin);
    let lastSeq = firstSeq;
    let lastMessage = begin;
    while (i < ops.length && w.len < BATCH_BYTES) {
      const first = ops[i]!;
      const type = (NFNL_SUBSYS_NFTABLES << 8) | (first.op === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
      lastSeq = nextSeq();
      const msg = w.message(type, NLM_F_REQUEST | NLM_F_CREATE, lastSeq, fam, 0);
      lastMessage = msg;
      w.string(NFTA_SET_ELEM_LIST_TABLE, table);
      w.string(NFTA_SET_ELEM_LIST_SET, first.set.name);
      const list = w.begin(NFTA_SET_ELEM_LIST_ELEMENTS, true);
      let n = 0;
      while (i < ops.length && n < ELEMENTS_PER_MESSAGE && w.len < BATCH_BYTES) {
        const e = ops[i]!;
        if (e.op !== first.op || e.set.name !== first.set.name) break;
        writeElement(w, e);
        i++;
        n++;
      }
      w.end(list);
      w.endMessage(msg);
    }
    // Ask for an ACK on the last message only: errors come back for any message, the ACK says "all processed".
    w.buf.writeUInt16LE(w.buf.readUInt16LE(lastMessage + 6) | NLM_F_ACK, lastMessage + 6);
    const end = w.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, nextSeq(), 0, NFNL_SUBSYS_NFTABLES);
    w.endMessage(end);
    batches.push({ bytes: Buffer.from(w.buf.subarray(0, w.len)), lastSeq, firstSeq });
  }
  return batches;
}

/** An error the kernel returned for one message of a batch. */
export class NetlinkError extends Error {
  constructor(
    readonly errno: number,
    readonly seq: number,
  ) {
    super(`nf_tables netlink request ${seq} failed: ${errnoName(errno)} (${errno})`);
  }
}

function errnoName(errno: number): string {
  const names: Record<number, string> = {
    1: 'EPERM',
    2: 'ENOENT',
    16: 'EBUSY',
    17: 'EEXIST',
    22: 'EINVAL',
    95: 'EOPNOTSUPP',
  };
  return names[errno] ?? 'errno';
}

/**
 * A NETLINK_NETFILTER socket that sends element batches and waits for the kernel's verdict. The socket lives in
 * the network namespace of the process that opens it (Node cannot setns: run in the namespace, e.g. `ip netns exec`).
 */
export class NfTablesSocket {
  readonly #socket: RawNetlinkSocket;
  #seq = Math.floor(Date.now() / 1000) & 0x3fffffff;
  /** Pending batches by the sequence number of their last (ACKed) message. */
  readonly #pending = new Map<number, { firstSeq: number; errors: NetlinkError[]; done: (err?: Error) => void }>();

  constructor() {
    this.#socket = new RawNetlinkSocket(NETLINK_NETFILTER, { recvBufferSize: 1 << 20, sendBufferSize: 4 << 20 });
    this.#socket.on('message', (msg) => this.#receive(msg));
    this.#socket.unref();
  }

  nextSeq = (): number => (this.#seq = (this.#seq + 1) & 0x7fffffff);

  #receive(msg: Buffer): void {
    for (let off = 0; off + 16 <= msg.length;) {
      const len = msg.readUInt32LE(off);
      const type = msg.readUInt16LE(off + 4);
      if (len < 16) break;
      if (type === NLMSG_ERROR && len >= 36) {
        const errno = -msg.readInt32LE(off + 16);
        const seq = msg.readUInt32LE(off + 16 + 4 + 8); // the echoed request header's nlmsg_seq
        this.#settle(seq, errno);
      }
      off += (len + 3) & ~3;
    }
  }

  #settle(seq: number, errno: number): void {
    const exact = this.#pending.get(seq);
    if (exact) {
      if (errno !== 0) exact.errors.push(new NetlinkError(errno, seq));
      this.#pending.delete(seq);
      this.#finish(exact);
      return;
    }
    // An error for an earlier message of a batch: remember it until the batch's ACK arrives.
    for (const [last, p] of this.#pending) {
      if (seq >= p.firstSeq && seq <= last && errno !== 0) p.errors.push(new NetlinkError(errno, seq));
    }
  }

  #finish(p: { errors: NetlinkError[]; done: (err?: Error) => void }): void {
    if (this.#pending.size === 0) this.#socket.unref();
    p.done(p.errors[0]);
  }

  /** Sends one encoded batch and resolves when the kernel has committed it (rejects with its first error). */
  sendBatch(batch: EncodedBatch, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(batch.lastSeq);
        reject(new Error(`nf_tables netlink batch ${batch.lastSeq} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const entry = {
        firstSeq: batch.firstSeq,
        errors: [] as NetlinkError[],
        done: (err?: Error) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        },
      };
      this.#pending.set(batch.lastSeq, entry);
      this.#socket.ref();
      this.#socket.send(batch.bytes, {}, (err) => {
        if (!err) return;
        this.#pending.delete(batch.lastSeq);
        entry.done(err);
      });
    });
  }

  /** Encodes and sends element operations; batches go one after another so a failure stops the rest. */
  async applyElements(family: string, table: string, ops: readonly ElementOp[]): Promise<void> {
    for (const batch of encodeElementBatches(family, table, ops, this.nextSeq)) await this.sendBatch(batch);
  }

  close(): void {
    this.#socket.close();
  }
}
