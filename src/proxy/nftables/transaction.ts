// A transaction of typed nftables operations on one table (the knftables model), rendered to `nft -f` text.
//
// Rules are kept as nft text: skiff's rules are static, so only set/map elements need a structured form
// (they are what changes at run time, and what the netlink backend encodes itself).
import type { FieldType } from './types.js';

export type Family = 'ip' | 'ip6' | 'inet';

export interface ChainDef {
  kind: 'chain';
  name: string;
  /** Base chains only: type, hook and numeric priority (nft 1.0.6 rejects the name `dstnat` on output). */
  type?: 'filter' | 'nat' | 'route';
  hook?: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  priority?: number;
  policy?: 'accept' | 'drop';
  comment?: string;
}

export interface RuleDef {
  kind: 'rule';
  chain: string;
  rule: string;
  comment?: string;
}

export interface SetDef {
  kind: 'set';
  name: string;
  key: FieldType[];
  /** `typeof …` text, required when the key holds an `integer` (numgen/jhash results have no type name). */
  typeof?: string;
  flags?: string[];
  comment?: string;
}

export interface MapDef {
  kind: 'map';
  name: string;
  key: FieldType[];
  value: FieldType[] | 'verdict';
  /** `typeof KEY : VALUE` expression text, as for sets. */
  typeof?: string;
  /** e.g. `dynamic`, `timeout`: a map the packet path adds elements to. */
  flags?: string[];
  comment?: string;
}

export interface ElementDef {
  kind: 'element';
  /** Name of the set or map. */
  set: string;
  key: string[];
  /** Map value: components, or a verdict (`goto chain`, `drop`) for verdict maps. */
  value?: string[] | string;
}

/**
 * Many elements of one set or map in columnar form (the bulk path: no object per element). Each key is its
 * components joined by " . " exactly as nft writes them; each value likewise, or a verdict text for verdict maps.
 */
export interface ElementsDef {
  kind: 'elements';
  set: string;
  keys: string[];
  /** Parallel to keys; omitted for sets and for deletes. */
  values?: string[];
  /**
   * Slot tables: when present (parallel to keys), element k's key is `keys[k] . slots[k]`, so the many slots of
   * one VIP share one base key string instead of each having its own.
   */
  slots?: number[];
}

/** Key text of element k of a bulk operation. */
export function bulkKey(o: ElementsDef, k: number): string {
  return o.slots ? `${o.keys[k]} . ${o.slots[k]}` : o.keys[k]!;
}

export interface TableDef {
  kind: 'table';
  comment?: string;
}

export type NftObject = TableDef | ChainDef | RuleDef | SetDef | MapDef | ElementDef | ElementsDef;
export type Verb = 'add' | 'delete' | 'flush';

export interface Operation {
  verb: Verb;
  object: NftObject;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
/** What element keys and values may contain: enough for addresses, ports, protocols and verdicts, nothing nft-special. */
const ELEMENT_TEXT = /^[A-Za-z0-9_.:/ -]+$/;

/** Elements per `add element` statement in rendered text (keeps lines reasonable for nft's parser). */
const ELEMENTS_PER_STATEMENT = 1000;

function checkName(what: string, name: string): void {
  if (!NAME.test(name)) throw new Error(`invalid nftables ${what} name "${name}"`);
}

function quote(comment: string): string {
  if (/["\n]/.test(comment)) throw new Error(`comment may not contain quotes or newlines: ${comment}`);
  return `"${comment}"`;
}

export function typeText(def: SetDef | MapDef): string {
  if (def.typeof) return `typeof ${def.typeof}`;
  if (
    def.key.includes('integer') ||
    (def.kind === 'map' && Array.isArray(def.value) && def.value.includes('integer'))
  ) {
    throw new Error(`${def.kind} ${def.name}: integer fields need a typeof expression`);
  }
  const key = def.key.join(' . ');
  if (def.kind === 'set') return `type ${key}`;
  return `type ${key} : ${def.value === 'verdict' ? 'verdict' : def.value.join(' . ')}`;
}

/** `k1 . k2 : v1 . v2` (or `k : goto c`) as nft writes an element. */
export function elementText(e: ElementDef, withValue: boolean): string {
  const key = e.key.join(' . ');
  if (!withValue || e.value === undefined) return key;
  return `${key} : ${typeof e.value === 'string' ? e.value : e.value.join(' . ')}`;
}

export class Transaction {
  readonly operations: Operation[] = [];

  constructor(
    readonly family: Family,
    readonly table: string,
  ) {
    checkName('table', table);
  }

  #push(verb: Verb, object: NftObject): this {
    validate(verb, object);
    this.operations.push({ verb, object });
    return this;
  }

  add(object: NftObject): this {
    return this.#push('add', object);
  }
  delete(object: NftObject): this {
    return this.#push('delete', object);
  }
  flush(object: TableDef | ChainDef | SetDef | MapDef): this {
    return this.#push('flush', object);
  }

  /** Operations, counting each element of a bulk operation. */
  get size(): number {
    let n = 0;
    for (const op of this.operations) n += op.object.kind === 'elements' ? op.object.keys.length : 1;
    return n;
  }

  /** The transaction as one `nft -f` script; consecutive element operations on a set share one statement. */
  render(): string {
    const out: string[] = [];
    const where = `${this.family} ${this.table}`;
    const ops = this.operations;
    for (let i = 0; i < ops.length; i++) {
      const { verb, object: o } = ops[i]!;
      switch (o.kind) {
        case 'table':
          out.push(`${verb} table ${where}${verb === 'add' && o.comment ? ` { comment ${quote(o.comment)} ; }` : ''}`);
          break;
        case 'chain': {
          let body = '';
          if (verb === 'add' && (o.hook || o.comment)) {
            const parts: string[] = [];
            if (o.hook)
              parts.push(`type ${o.type} hook ${o.hook} priority ${o.priority}`, `policy ${o.policy ?? 'accept'}`);
            if (o.comment) parts.push(`comment ${quote(o.comment)}`);
            body = ` { ${parts.join(' ; ')} ; }`;
          }
          out.push(`${verb} chain ${where} ${o.name}${body}`);
          break;
        }
        case 'rule':
          out.push(`${verb} rule ${where} ${o.chain} ${o.rule}${o.comment ? ` comment ${quote(o.comment)}` : ''}`);
          break;
        case 'set':
        case 'map': {
          let body = '';
          if (verb === 'add') {
            const parts = [typeText(o)];
            if (o.flags?.length) parts.push(`flags ${o.flags.join(',')}`);
            if (o.comment) parts.push(`comment ${quote(o.comment)}`);
            body = ` { ${parts.join(' ; ')} ; }`;
          }
          out.push(`${verb} ${o.kind} ${where} ${o.name}${body}`);
          break;
        }
        case 'elements': {
          const withValue = verb === 'add' && o.values !== undefined;
          for (const k of o.keys)
            if (!ELEMENT_TEXT.test(k)) throw new Error(`invalid element key ${JSON.stringify(k)}`);
          if (withValue) {
            for (const v of o.values!)
              if (!ELEMENT_TEXT.test(v)) throw new Error(`invalid element value ${JSON.stringify(v)}`);
          }
          for (let at = 0; at < o.keys.length; at += ELEMENTS_PER_STATEMENT) {
            const items: string[] = [];
            for (let k = at; k < Math.min(o.keys.length, at + ELEMENTS_PER_STATEMENT); k++) {
              items.push(withValue ? `${bulkKey(o, k)} : ${o.values![k]}` : bulkKey(o, k));
            }
            out.push(`${verb} element ${where} ${o.set} { ${items.join(', ')} }`);
          }
          break;
        }
        case 'element': {
          const items = [elementText(o, verb === 'add')];
          while (i + 1 < ops.length) {
            const next = ops[i + 1]!;
            if (next.verb !== verb || next.object.kind !== 'element' || next.object.set !== o.set) break;
            items.push(elementText(next.object, verb === 'add'));
            i++;
          }
          out.push(`${verb} element ${where} ${o.set} { ${items.join(', ')} }`);
          break;
        }
      }
    }
    return out.length ? out.join('\n') + '\n' : '';
  }
}

function validate(verb: Verb, o: NftObject): void {
  switch (o.kind) {
    case 'table':
      return;
    case 'chain':
      checkName('chain', o.name);
      if ((o.hook === undefined) !== (o.type === undefined) || (o.hook !== undefined) !== (o.priority !== undefined)) {
        throw new Error(`chain ${o.name}: a base chain needs type, hook and priority together`);
      }
      return;
    case 'rule':
      checkName('chain', o.chain);
      if (verb === 'flush') throw new Error('rules cannot be flushed');
      if (verb === 'delete') throw new Error('rules are deleted by flushing their chain');
      if (!o.rule.trim() || o.rule.includes('\n')) throw new Error(`invalid rule "${o.rule}"`);
      return;
    case 'set':
    case 'map':
      checkName(o.kind, o.name);
      if (o.key.length === 0) throw new Error(`${o.kind} ${o.name} needs a key type`);
      if (verb === 'add') typeText(o);
      return;
    case 'elements':
      checkName('set', o.set);
      if (verb === 'flush') throw new Error('elements cannot be flushed; flush their set');
      if (o.values !== undefined && o.values.length !== o.keys.length) {
        throw new Error('elements: keys and values differ in length');
      }
      if (o.slots !== undefined && (o.slots.length !== o.keys.length || !o.slots.every((n) => n >= 0))) {
        throw new Error('elements: slots must be non-negative and as many as keys');
      }
      // Element texts are checked when rendered to nft text (the only place they could inject syntax); the
      // netlink encoder parses every component strictly instead. Checking 100k+ strings twice costs ~0.3 s.
      return;
    case 'element':
      checkName('set', o.set);
      if (verb === 'flush') throw new Error('elements cannot be flushed; flush their set');
      if (o.key.length === 0 || o.key.some((k) => !/^[A-Za-z0-9_.:/-]+$/.test(k))) {
        throw new Error(`invalid element key ${JSON.stringify(o.key)}`);
      }
      return;
  }
}
