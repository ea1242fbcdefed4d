// The body of a JSON list reply, assembled from items already encoded as UTF-8 JSON (the watch cache's bytes).
import { Readable } from 'node:stream';

const comma = Buffer.from(',');
const end = Buffer.from(']}');

/** Lists up to this size go out as one buffer; larger ones stream in pieces. */
const STREAM_ABOVE = 1 << 20;
/**
 * Size of a streamed piece. Pieces are small enough to come from memory the allocator reuses: one fresh multi-MiB
 * buffer costs more in page faults than the copy itself, and TLS would copy header plus body into another one.
 */
const PIECE = 64 * 1024;

/** `head` (everything up to and including `"items":[`), the items separated by commas, then `]}`. */
export function listBody(head: string, items: readonly Buffer[]): Buffer | Readable {
  const first = Buffer.from(head, 'utf8');
  let total = first.length + end.length + Math.max(0, items.length - 1);
  for (const b of items) total += b.length;
  if (total <= STREAM_ABOVE) {
    const parts: Buffer[] = [first];
    for (let i = 0; i < items.length; i++) {
      if (i) parts.push(comma);
      parts.push(items[i]!);
    }
    parts.push(end);
    return Buffer.concat(parts, total);
  }
  return Readable.from(pieces(first, items), { objectMode: false });
}

function* pieces(first: Buffer, items: readonly Buffer[]): Generator<Buffer> {
  let acc: Buffer[] = [first];
  let size = first.length;
  for (let i = 0; i < items.length; i++) {
    if (i) {
      acc.push(comma);
      size++;
    }
    const b = items[i]!;
    acc.push(b);
    size += b.length;
    if (size >= PIECE) {
      yield Buffer.concat(acc, size);
      acc = [];
      size = 0;
    }
  }
  acc.push(end);
  yield Buffer.concat(acc, size + end.length);
}
