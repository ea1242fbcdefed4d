// Decodes Kubernetes protobuf request bodies (the `k8s\0` envelope) into the JSON-shaped object kubectl would send.
//
// kubectl >= 1.32 posts `application/vnd.kubernetes.protobuf` for `kubectl create <generator>` and `kubectl
// autoscale`. Wire format (apimachinery runtime/serializer/protobuf): magic 0x6b 0x38 0x73 0x00, then a
// runtime.Unknown whose `raw` holds the k8s.io/api message. Fields we do not know are skipped, never fatal.
import protobuf from 'protobufjs/minimal.js';
import { StatusError, badRequest } from '../../api/status.js';
import { kinds, messages, type FieldDef, type MessageDef, type ValueType } from './messages.js';

const magic = [0x6b, 0x38, 0x73, 0x00];
const maxDepth = 64;

export const protobufContentType = 'application/vnd.kubernetes.protobuf';

type Reader = protobuf.Reader;
type Json = Record<string, unknown>;

/** Throws StatusError 415/400 when the body is not a protobuf object of a kind skiff can decode. */
export function decodeProtobuf(body: Buffer | Uint8Array): unknown {
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
  if (bytes.length < 4 || magic.some((v, i) => bytes[i] !== v)) {
    throw badRequest('provided object is not a Kubernetes protobuf message: missing the "k8s\\x00" prefix');
  }
  const unknown = decodeOrBadRequest(bytes.subarray(4), 'Unknown');
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const encoding = unknown.contentEncoding;
  if (encoding) throw badRequest(`unsupported protobuf content encoding "${String(encoding)}"`);
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (!kind) throw badRequest("Object 'Kind' is missing in protobuf body");
  const message = kinds[`${apiVersion}/${kind}`];
  if (!message) {
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `skiff cannot decode ${apiVersion}/${kind} from ${protobufContentType}; send application/json instead`,
    );
  }
  const raw = typeof unknown.raw === 'string' ? Buffer.from(unknown.raw, 'base64') : new Uint8Array();
  const obj = decodeOrBadRequest(raw, message);
  return { kind, apiVersion, ...obj };
}

function decodeOrBadRequest(bytes: Uint8Array, message: string): Json {
  try {
    const r = protobuf.Reader.create(bytes);
    return decodeMessage(r, r.len, messages[message]!, 0);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    throw badRequest(`failed to decode protobuf ${message}: ${(e as Error).message}`);
  }
}

function decodeMessage(r: Reader, end: number, def: MessageDef, depth: number): Json {
  if (depth > maxDepth) throw badRequest('protobuf message nested too deeply');
  const out: Json = {};
  const seen = new Set<number>();
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw new Error('invalid field number 0');
    const f = def[field];
    if (!f || !wireMatches(f, wire)) {
      r.skipType(wire);
      continue;
    }
    seen.add(field);
    if (f.map) {
      const [k, v] = decodeMapEntry(r, f.type, depth);
      const map = (out[f.json] ??= {}) as Json;
      map[k] = v;
    } else if (f.repeated) {
      const arr = (out[f.json] ??= []) as unknown[];
      // Packed repeated scalars never occur in these messages (only strings and messages are repeated).
      arr.push(decodeValue(r, f.type, depth));
    } else {
      out[f.json] = decodeValue(r, f.type, depth);
    }
  }
  if (r.pos > end) throw new Error('message overruns its length');
  return applyJsonRules(out, def, seen);
}

function wireMatches(f: FieldDef, wire: number): boolean {
  if (f.map || f.repeated) return wire === 2;
  switch (f.type) {
    case 'int32':
    case 'int64':
    case 'bool':
      return wire === 0;
    case 'double':
      return wire === 1;
    default:
      return wire === 2;
  }
}

function decodeValue(r: Reader, type: ValueType, depth: number): unknown {
  if (typeof type === 'object') {
    const len = r.uint32();
    return decodeMessage(r, checkedEnd(r, len), messages[type.message]!, depth + 1);
  }
  switch (type) {
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'int32':
      return r.int32();
    case 'int64':
      return toNumber(r.int64());
    case 'bool':
      return r.bool();
    case 'double':
      return r.double();
    case 'time':
      return decodeTime(r, depth);
    case 'intOrString':
      return decodeIntOrString(r, depth);
    case 'quantity':
      return decodeQuantity(r);
  }
}

function checkedEnd(r: Reader, len: number): number {
  const end = r.pos + len;
  if (end > r.len) throw new Error('length exceeds the buffer');
  return end;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const l = v as { toNumber?: () => number; low: number; high: number };
  return l.toNumber ? l.toNumber() : l.high * 2 ** 32 + (l.low >>> 0);
}

/** metav1.Time is {seconds=1, nanos=2}; the zero time prints as null (Go's Time.MarshalJSON for IsZero). */
function decodeTime(r: Reader, _depth: number): string | null {
  const end = checkedEnd(r, r.uint32());
  let seconds = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 0) seconds = toNumber(r.int64());
    else r.skipType(tag & 7);
  }
  if (seconds === 0 || seconds === -62135596800) return null;
  return new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** intstr.IntOrString is {type=1 (0 int, 1 string), intVal=2, strVal=3}; JSON is the bare number or string. */
function decodeIntOrString(r: Reader, _depth: number): number | string {
  const end = checkedEnd(r, r.uint32());
  let kind = 0;
  let intVal = 0;
  let strVal = '';
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 0) kind = toNumber(r.int64());
    else if (field === 2 && wire === 0) intVal = r.int32();
    else if (field === 3 && wire === 2) strVal = r.string();
    else r.skipType(wire);
  }
  return kind === 1 ? strVal : intVal;
}

/** resource.Quantity is {string=1}; JSON is the string. */
function decodeQuantity(r: Reader): string {
  const end = checkedEnd(r, r.uint32());
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) value = r.string();
    else r.skipType(tag & 7);
  }
  return value;
}

function decodeMapEntry(r: Reader, valueType: ValueType, depth: number): [string, unknown] {
  const end = checkedEnd(r, r.uint32());
  let key = '';
  let value: unknown = zeroOf(valueType);
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) key = r.string();
    else if (field === 2 && wire === 2) value = decodeValue(r, valueType, depth);
    else r.skipType(wire);
  }
  return [key, value];
}

function zeroOf(type: ValueType): unknown {
  if (type === 'string' || type === 'bytes' || type === 'quantity') return type === 'quantity' ? '0' : '';
  return null;
}

function isZero(v: unknown): boolean {
  if (v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v !== null && typeof v === 'object') return false;
  return false;
}

/** Drops what Go's encoding/json would omit and fills required zero values, in the field order of the Go struct. */
function applyJsonRules(decoded: Json, def: MessageDef, seen: Set<number>): Json {
  const out: Json = {};
  for (const [num, f] of Object.entries(def).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const present = seen.has(Number(num));
    const v = decoded[f.json];
    const isMessage = typeof f.type === 'object' || f.type === 'time' || f.type === 'intOrString';
    if (f.map || f.repeated) {
      if (present && (v as object) && Object.keys(v as object).length > 0) out[f.json] = v;
      else if (f.presence === 'req' && !present) out[f.json] = null;
      continue;
    }
    if (!present) {
      if (f.presence === 'req') out[f.json] = zeroScalar(f.type);
      continue;
    }
    if (isMessage || f.presence === 'ptr' || f.presence === 'req' || !isZero(v)) out[f.json] = v;
  }
  return out;
}

function zeroScalar(type: ValueType): unknown {
  switch (type) {
    case 'string':
      return '';
    case 'int32':
    case 'int64':
    case 'double':
      return 0;
    case 'bool':
      return false;
    default:
      return null;
  }
}
