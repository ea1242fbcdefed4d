// An in-memory model of one nftables table that applies transactions atomically and dumps the result, so unit
// tests can check what a transaction does without root (the role of knftables' Fake).
import { canonicalField } from './types.js';
import {
  bulkKey,
  typeText,
  type ChainDef,
  type ElementDef,
  type Family,
  type MapDef,
  type Operation,
  type SetDef,
  type Transaction,
} from './transaction.js';

interface FakeChain {
  def: ChainDef;
  rules: string[];
}

interface FakeSet {
  def: SetDef | MapDef;
  /** Canonical key text → canonical value text ('' for sets). */
  elements: Map<string, string>;
}

interface FakeState {
  exists: boolean;
  chains: Map<string, FakeChain>;
  sets: Map<string, FakeSet>;
}

/** An error like nft's: which operation failed and why (ENOENT, EEXIST, EBUSY, EINVAL). */
export class FakeNftError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'EEXIST' | 'EBUSY' | 'EINVAL',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

function clone(state: FakeState): FakeState {
  return {
    exists: state.exists,
    chains: new Map([...state.chains].map(([k, c]) => [k, { def: c.def, rules: [...c.rules] }])),
    sets: new Map([...state.sets].map(([k, s]) => [k, { def: s.def, elements: new Map(s.elements) }])),
  };
}

const SET_REF = /@([A-Za-z0-9_.-]+)/g;
const CHAIN_REF = /\b(?:goto|jump)\s+([A-Za-z0-9_.-]+)/g;

export class FakeTable {
  #state: FakeState = { exists: false, chains: new Map(), sets: new Map() };
  /** The last transaction applied successfully. */
  lastTransaction: Transaction | undefined;

  constructor(
    readonly family: Family,
    readonly table: string,
  ) {}

  /** Applies every operation or none. */
  apply(tx: Transaction): void {
    if (tx.family !== this.family || tx.table !== this.table) {
      throw new FakeNftError(
        'EINVAL',
        `transaction for ${tx.family} ${tx.table} applied to ${this.family} ${this.table}`,
      );
    }
    const next = clone(this.#state);
    tx.operations.forEach((op, i) => {
      try {
        applyOperation(next, op);
      } catch (err) {
        if (err instanceof FakeNftError) throw new FakeNftError(err.code, `operation ${i + 1}: ${err.message}`);
        throw err;
      }
    });
    this.#state = next;
    this.lastTransaction = tx;
  }

  get exists(): boolean {
    return this.#state.exists;
  }

  chainNames(): string[] {
    return [...this.#state.chains.keys()].sort();
  }

  rules(chain: string): string[] {
    return [...(this.#state.chains.get(chain)?.rules ?? [])];
  }

  /** Elements of a set or map as canonical `key` → `value` text (value '' for sets). */
  elements(set: string): Map<string, string> {
    const s = this.#state.sets.get(set);
    if (!s) throw new FakeNftError('ENOENT', `no set or map ${set}`);
    return new Map(s.elements);
  }

  /** One element's value (canonical text), undefined when absent. */
  lookup(set: string, key: string[]): string | undefined {
    const s = this.#state.sets.get(set);
    if (!s) return undefined;
    return s.elements.get(canonicalKey(s.def, key));
  }

  /** The table as nft-style text: deterministic (sorted) so tests can compare dumps. */
  dump(): string {
    if (!this.#state.exists) return '';
    const lines = [`table ${this.family} ${this.table} {`];
    for (const name of [...this.#state.sets.keys()].sort()) {
      const s = this.#state.sets.get(name)!;
      lines.push(`\t${s.def.kind} ${name} {`, `\t\t${typeText(s.def)}`);
      if (s.def.flags?.length) lines.push(`\t\tflags ${s.def.flags.join(',')}`);
      const items = [...s.elements].map(([k, v]) => (v ? `${k} : ${v}` : k)).sort();
      if (items.length) lines.push(`\t\telements = { ${items.join(',\n\t\t\t     ')} }`);
      lines.push('\t}');
    }
    for (const name of [...this.#state.chains.keys()].sort()) {
      const c = this.#state.chains.get(name)!;
      lines.push(`\tchain ${name} {`);
      if (c.def.hook) {
        lines.push(
          `\t\ttype ${c.def.type} hook ${c.def.hook} priority ${c.def.priority}; policy ${c.def.policy ?? 'accept'};`,
        );
      }
      for (const r of c.rules) lines.push(`\t\t${r}`);
      lines.push('\t}');
    }
    lines.push('}');
    return lines.join('\n') + '\n';
  }
}

function canonicalKey(def: SetDef | MapDef, key: readonly string[]): string {
  if (key.length !== def.key.length) {
    throw new FakeNftError('EINVAL', `${def.name}: key has ${key.length} components, expected ${def.key.length}`);
  }
  try {
    return key.map((k, i) => canonicalField(def.key[i]!, k)).join(' . ');
  } catch (err) {
    throw new FakeNftError('EINVAL', `${def.name}: ${(err as Error).message}`);
  }
}

function canonicalValue(state: FakeState, def: SetDef | MapDef, e: ElementDef): string {
  if (def.kind === 'set') {
    if (e.value !== undefined) throw new FakeNftError('EINVAL', `set ${def.name} elements have no value`);
    return '';
  }
  if (e.value === undefined) throw new FakeNftError('EINVAL', `map ${def.name} element needs a value`);
  if (def.value === 'verdict') {
    if (typeof e.value !== 'string') throw new FakeNftError('EINVAL', `map ${def.name} needs a verdict value`);
    const v = e.value.trim().replace(/\s+/g, ' ');
    const m = /^(goto|jump) (\S+)$/.exec(v);
    if (m) {
      if (!state.chains.has(m[2]!)) throw new FakeNftError('ENOENT', `verdict ${v}: no chain ${m[2]}`);
    } else if (!['accept', 'drop', 'return', 'continue'].includes(v)) {
      throw new FakeNftError('EINVAL', `bad verdict "${v}"`);
    }
    return v;
  }
  const values = typeof e.value === 'string' ? [e.value] : e.value;
  if (values.length !== def.value.length) throw new FakeNftError('EINVAL', `map ${def.name}: value arity`);
  try {
    return values.map((v, i) => canonicalField((def.value as string[])[i] as never, v)).join(' . ');
  } catch (err) {
    throw new FakeNftError('EINVAL', `${def.name}: ${(err as Error).message}`);
  }
}

/** Chains and sets a chain's rules or a verdict map's elements refer to (they cannot be deleted while used). */
function references(state: FakeState): { chains: Set<string>; sets: Set<string> } {
  const chains = new Set<string>();
  const sets = new Set<string>();
  for (const c of state.chains.values()) {
    for (const r of c.rules) {
      for (const m of r.matchAll(SET_REF)) sets.add(m[1]!);
      for (const m of r.matchAll(CHAIN_REF)) chains.add(m[1]!);
    }
  }
  for (const s of state.sets.values()) {
    if (s.def.kind !== 'map' || s.def.value !== 'verdict') continue;
    for (const v of s.elements.values()) {
      const m = /^(?:goto|jump) (\S+)$/.exec(v);
      if (m) chains.add(m[1]!);
    }
  }
  return { chains, sets };
}

function sameDef(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function applyOperation(state: FakeState, { verb, object: o }: Operation): void {
  if (o.kind === 'elements') {
    // Bulk form: the same checks as one element at a time.
    o.keys.forEach((_, i) => {
      const key = bulkKey(o, i);
      const value = o.values?.[i];
      const set = state.sets.get(o.set);
      const verdict = set?.def.kind === 'map' && set.def.value === 'verdict';
      applyOperation(state, {
        verb,
        object: {
          kind: 'element',
          set: o.set,
          key: key.split(' . '),
          ...(value !== undefined ? { value: verdict ? value : value.split(' . ') } : {}),
        },
      });
    });
    return;
  }
  if (o.kind === 'table') {
    if (verb === 'add') state.exists = true;
    else {
      if (!state.exists) throw new FakeNftError('ENOENT', 'no such table');
      if (verb === 'delete') state.exists = false;
      state.sets = verb === 'delete' ? new Map() : state.sets;
      if (verb === 'delete') state.chains = new Map();
      else {
        for (const c of state.chains.values()) c.rules = [];
        for (const s of state.sets.values()) s.elements.clear();
      }
    }
    return;
  }
  if (!state.exists) throw new FakeNftError('ENOENT', `no table for ${o.kind}`);
  switch (o.kind) {
    case 'chain': {
      const existing = state.chains.get(o.name);
      if (verb === 'add') {
        if (!existing) state.chains.set(o.name, { def: o, rules: [] });
        else if (existing.def.hook !== o.hook || existing.def.priority !== o.priority || existing.def.type !== o.type) {
          throw new FakeNftError('EEXIST', `chain ${o.name} exists with other properties`);
        }
      } else if (!existing) {
        throw new FakeNftError('ENOENT', `no chain ${o.name}`);
      } else if (verb === 'flush') {
        existing.rules = [];
      } else {
        if (existing.rules.length) throw new FakeNftError('EBUSY', `chain ${o.name} is not empty`);
        if (references(state).chains.has(o.name)) throw new FakeNftError('EBUSY', `chain ${o.name} is in use`);
        state.chains.delete(o.name);
      }
      return;
    }
    case 'rule': {
      const chain = state.chains.get(o.chain);
      if (!chain) throw new FakeNftError('ENOENT', `no chain ${o.chain}`);
      for (const m of o.rule.matchAll(SET_REF)) {
        if (!state.sets.has(m[1]!)) throw new FakeNftError('ENOENT', `rule refers to missing set ${m[1]}`);
      }
      for (const m of o.rule.matchAll(CHAIN_REF)) {
        if (!state.chains.has(m[1]!)) throw new FakeNftError('ENOENT', `rule refers to missing chain ${m[1]}`);
      }
      chain.rules.push(o.rule.trim().replace(/\s+/g, ' ') + (o.comment ? ` comment "${o.comment}"` : ''));
      return;
    }
    case 'set':
    case 'map': {
      const existing = state.sets.get(o.name);
      if (verb === 'add') {
        if (!existing) state.sets.set(o.name, { def: o, elements: new Map() });
        else if (!sameDef({ ...existing.def, comment: undefined }, { ...o, comment: undefined })) {
          throw new FakeNftError('EEXIST', `${o.kind} ${o.name} exists with another definition`);
        }
      } else if (!existing || existing.def.kind !== o.kind) {
        throw new FakeNftError('ENOENT', `no ${o.kind} ${o.name}`);
      } else if (verb === 'flush') {
        existing.elements.clear();
      } else {
        if (references(state).sets.has(o.name)) throw new FakeNftError('EBUSY', `${o.kind} ${o.name} is in use`);
        state.sets.delete(o.name);
      }
      return;
    }
    case 'element': {
      const set = state.sets.get(o.set);
      if (!set) throw new FakeNftError('ENOENT', `no set or map ${o.set}`);
      const key = canonicalKey(set.def, o.key);
      if (verb === 'add') {
        const value = canonicalValue(state, set.def, o);
        const existing = set.elements.get(key);
        // The kernel refuses to overwrite a map element with another value (EBUSY): delete it first.
        if (existing !== undefined && existing !== value) {
          throw new FakeNftError('EBUSY', `${o.set}: element ${key} exists with value ${existing}`);
        }
        set.elements.set(key, value);
      } else {
        if (!set.elements.delete(key)) throw new FakeNftError('ENOENT', `${o.set}: no element ${key}`);
      }
      return;
    }
  }
}
