// Encodes nf_tables set-element messages (NFT_MSG_NEWSETELEM / DELSETELEM) into NFNL batches and sends them on a
// raw NETLINK_NETFILTER socket from the npm `netlink` package, which has no nf_tables support of its own.
//
// Message and attribute numbers are the kernel UAPI's (include/uapi/linux/netfilter/nf_tables.h, nfnetlink.h).
import { RawNetlinkSocket } from 'netlink';
import { writeJoinedFields, type FieldType } from './types.js';

const NETLINK_NETFILTER = 12;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;
const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_DELTABLE = 2;
const NFTA_TABLE_NAME = 1;
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

/**
 * Element operations on one set: keys as nft writes them ("10.0.0.1 . tcp . 80"), values likewise or a verdict
 * text ("goto svc-rand-3") for verdict maps; values only for adds to maps.
 */
export interface ElementRun {
  op: 'add' | 'delete';
  set: SetLayout;
  keys: readonly string[];
  values?: readonly string[];
  /** With slots, key k is `keys[k] . slots[k]`: the base key's components, then the slot as the last one. */
  slots?: readonly number[];
}

/** A growable byte buffer with the netlink attribute helpers we need. */
class Writer {
  buf: Buffer;
  len = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.#lastBaseAt = -1; // the copy source moves with the buffer
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  pad(): void {
    const p = (4 - (this.len & 3)) & 3;
    if (p === 0) return;
    this.ensure(p);
    for (let i = 0; i < p; i++) this.buf[this.len + i] = 0;
    this.len += p;
  }
  /** Starts an attribute; returns its offset for end(). Byte stores: Buffer's checked writers cost more here. */
  begin(type: number, nested = false): number {
    const at = this.len;
    this.ensure(4);
    const t = type | (nested ? NLA_F_NESTED : 0);
    const b = this.buf;
    b[at] = 0;
    b[at + 1] = 0;
    b[at + 2] = t & 0xff;
    b[at + 3] = t >>> 8;
    this.len += 4;
    return at;
  }
  end(at: number): void {
    const n = this.len - at;
    this.buf[at] = n & 0xff;
    this.buf[at + 1] = n >>> 8;
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
  fields(type: number, types: readonly FieldType[], text: string): void {
    const at = this.begin(type);
    this.ensure(types.length * 4);
    this.len = writeJoinedFields(this.buf, this.len, types, text);
    this.end(at);
  }
  /**
   * A slot key: the base key's components (all types but the last), then the slot number as a host-order
   * integer. Consecutive slots of one VIP share the base string: its bytes are copied, not parsed again.
   */
  slotKey(type: number, types: readonly FieldType[], base: string, slot: number): void {
    const at = this.begin(type);
    const baseLen = (types.length - 1) * 4;
    this.ensure(baseLen + 4);
    if (types[types.length - 1] !== 'integer') throw new Error('slot keys end with an integer component');
    if (this.#lastBase === base && this.#lastBaseAt >= 0) {
      this.buf.copy(this.buf, this.len, this.#lastBaseAt, this.#lastBaseAt + baseLen);
      this.len += baseLen;
    } else {
      this.#lastBaseAt = this.len;
      this.len = writeJoinedFields(this.buf, this.len, types.slice(0, -1), base);
      this.#lastBase = base;
    }
    this.buf.writeUInt32LE(slot, this.len); // host order, as writeFieldRange stores integers
    this.len += 4;
    this.end(at);
  }
  #lastBase: string | undefined;
  #lastBaseAt = -1;
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
function writeElement(w: Writer, run: ElementRun, k: number): void {
  const el = w.begin(NFTA_LIST_ELEM, true);
  const key = w.begin(NFTA_SET_ELEM_KEY, true);
  if (run.slots) w.slotKey(NFTA_DATA_VALUE, run.set.key, run.keys[k]!, run.slots[k]!);
  else w.fields(NFTA_DATA_VALUE, run.set.key, run.keys[k]!);
  w.end(key);
  if (run.op === 'add' && run.set.value !== undefined) {
    const value = run.values?.[k];
    if (value === undefined) throw new Error(`element ${run.keys[k]} of map ${run.set.name} needs a value`);
    const data = w.begin(NFTA_SET_ELEM_DATA, true);
    if (run.set.value === 'verdict') {
      const v = parseVerdict(value);
      const nest = w.begin(NFTA_DATA_VERDICT, true);
      w.be32(NFTA_VERDICT_CODE, v.code);
      if (v.chain) w.string(NFTA_VERDICT_CHAIN, v.chain);
      w.end(nest);
    } else {
      w.fields(NFTA_DATA_VALUE, run.set.value, value);
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
 * Encodes element runs into batches, in order: a message holds up to ELEMENTS_PER_MESSAGE elements of one run.
 * Each batch is atomic in the kernel; a long list spans several batches.
 */
export function encodeElementBatches(
  family: string,
  table: string,
  runs: readonly ElementRun[],
  nextSeq: () => number,
): EncodedBatch[] {
  const fam = FAMILIES[family];
  if (fam === undefined) throw new Error(`unknown nftables family "${family}"`);
  const batches: EncodedBatch[] = [];
  let r = 0;
  let k = 0;
  const done = () => r >= runs.length;
  const skipEmpty = () => {
    while (r < runs.length && k >= runs[r]!.keys.length) {
      r++;
      k = 0;
    }
  };
  skipEmpty();
  while (!done()) {
    const w = new Writer(BATCH_BYTES + (1 << 16));
    const firstSeq = nextSeq();
    const begin = w.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, firstSeq, 0, NFNL_SUBSYS_NFTABLES);
    w.endMessage(begin);
    let lastSeq = firstSeq;
    let lastMessage = begin;
    while (!done() && w.len < BATCH_BYTES) {
      const run = runs[r]!;
      const type = (NFNL_SUBSYS_NFTABLES << 8) | (run.op === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
      lastSeq = nextSeq();
      const msg = w.message(type, NLM_F_REQUEST | NLM_F_CREATE, lastSeq, fam, 0);
      lastMessage = msg;
      w.string(NFTA_SET_ELEM_LIST_TABLE, table);
      w.string(NFTA_SET_ELEM_LIST_SET, run.set.name);
      const list = w.begin(NFTA_SET_ELEM_LIST_ELEMENTS, true);
      for (let n = 0; k < run.keys.length && n < ELEMENTS_PER_MESSAGE && w.len < BATCH_BYTES; n++, k++) {
        writeElement(w, run, k);
      }
      w.end(list);
      w.endMessage(msg);
      skipEmpty();
    }
    // Ask for an ACK on the last message only: errors come back for any message, the ACK says "all processed".
    w.buf.writeUInt16LE(w.buf.readUInt16LE(lastMessage + 6) | NLM_F_ACK, lastMessage + 6);
    const end = w.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, nextSeq(), 0, NFNL_SUBSYS_NFTABLES);
    w.endMessage(end);
    batches.push({ bytes: w.buf.subarray(0, w.len), lastSeq, firstSeq });
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

  /**
   * Deletes a table with everything in it, if it exists. Through netlink this costs the kernel's work only;
   * `nft delete table` first reads the whole table into its cache (seconds for 100k+ elements).
   */
  async deleteTable(family: string, table: string): Promise<boolean> {
    const fam = FAMILIES[family];
    if (fam === undefined) throw new Error(`unknown nftables family "${family}"`);
    const w = new Writer();
    const firstSeq = this.nextSeq();
    w.endMessage(w.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, firstSeq, 0, NFNL_SUBSYS_NFTABLES));
    const lastSeq = this.nextSeq();
    const msg = w.message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_REQUEST | NLM_F_ACK, lastSeq, fam, 0);
    w.string(NFTA_TABLE_NAME, table);
    w.endMessage(msg);
    w.endMessage(w.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, this.nextSeq(), 0, NFNL_SUBSYS_NFTABLES));
    try {
      await this.sendBatch({ bytes: w.buf.subarray(0, w.len), firstSeq, lastSeq });
      return true;
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === 2) return false; // ENOENT: nothing to delete
      throw err;
    }
  }

  /** Encodes and sends element runs; batches go one after another so a failure stops the rest. */
  async applyElements(family: string, table: string, runs: readonly ElementRun[]): Promise<void> {
    for (const batch of encodeElementBatches(family, table, runs, this.nextSeq)) await this.sendBatch(batch);
  }

  close(): void {
    this.#socket.close();
  }
}
