// Reference-counted set/map elements: each service port contributes elements; the store turns a change of
// contributions into the minimal element operations (add on 0→1, delete on 1→0, delete+add on a new value).
//
// A VIP's slot table is one contribution holding a vector (element `key . i` → vector[i]), not M of them: at
// 10k services the per-slot objects, key strings and map entries were most of what a full sync kept alive, and
// so most of its garbage-collection work.

/**
 * One contributed element: set or map name, key components joined by " . ", value text ('' for sets); or, with
 * `slots`, the elements `key . 0` … `key . n-1` of a map with values slots[0…n-1] (value is then '').
 */
export interface Contribution {
  set: string;
  key: string;
  value: string;
  slots?: readonly string[];
}

type Entry = string | readonly string[];

function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const entryOf = (c: Contribution): Entry => c.slots ?? c.value;

/**
 * Element operations on one set in bulk form: keys, and values for adds; with `slots`, element k's key is
 * `keys[k] . slots[k]` (every slot of a vector shares its base key string).
 */
export interface ElementBatch {
  set: string;
  keys: string[];
  values: string[];
  slots?: number[];
}

/** Groups (set, key, value) triples into one batch per set, keeping first-seen set order. */
class Batches {
  readonly bySet = new Map<string, ElementBatch>();
  push(set: string, key: string, value: string): void {
    let b = this.bySet.get(set);
    if (!b) this.bySet.set(set, (b = { set, keys: [], values: [] }));
    b.keys.push(key);
    b.values.push(value);
  }
  /** One slot of a vector: the batch of a vector set holds only slots. */
  slot(set: string, key: string, slot: number, value: string): void {
    let b = this.bySet.get(set);
    if (!b) this.bySet.set(set, (b = { set, keys: [], values: [], slots: [] }));
    b.keys.push(key);
    b.values.push(value);
    b.slots!.push(slot);
  }
  /** Pushes an entry: a plain element, or every slot of a vector. */
  entry(set: string, key: string, value: Entry): void {
    if (typeof value === 'string') return this.push(set, key, value);
    for (let i = 0; i < value.length; i++) this.slot(set, key, i, value[i]!);
  }
  /** The slots that differ between two vectors of one key: deletes of old ones, adds of new ones. */
  slotDiff(deletes: Batches, set: string, key: string, old: readonly string[], now: readonly string[]): void {
    for (let i = 0; i < Math.max(old.length, now.length); i++) {
      const o = old[i];
      const n = now[i];
      if (o === n) continue;
      if (o !== undefined) deletes.slot(set, key, i, o);
      if (n !== undefined) this.slot(set, key, i, n);
    }
  }
  list(): ElementBatch[] {
    return [...this.bySet.values()];
  }
}

/** One set's elements: value per key, and extra references only for keys held more than once (rare). */
interface SetEntries {
  values: Map<string, Entry>;
  extra: Map<string, number>;
}

export class ElementStore {
  readonly #sets = new Map<string, SetEntries>();
  /** Contributions whose key another owner holds with another value (e.g. two services claiming one VIP:port). */
  conflicts = 0;

  #set(name: string): SetEntries {
    let s = this.#sets.get(name);
    if (!s) this.#sets.set(name, (s = { values: new Map(), extra: new Map() }));
    return s;
  }

  /** Elements (a vector counts one per slot). */
  get size(): number {
    let n = 0;
    for (const s of this.#sets.values()) {
      for (const v of s.values.values()) n += typeof v === 'string' ? 1 : v.length;
    }
    return n;
  }

  /** Current value of an element (a slot of a vector too, as `key . i`), or undefined. */
  get(set: string, key: string): string | undefined {
    const values = this.#sets.get(set)?.values;
    const v = values?.get(key);
    if (typeof v === 'string') return v;
    const dot = key.lastIndexOf(' . ');
    const vector = dot > 0 ? values?.get(key.slice(0, dot)) : undefined;
    return typeof vector === 'object' ? vector[Number(key.slice(dot + 3))] : undefined;
  }

  /** Adds one reference; returns true when the key is new. */
  #ref(s: SetEntries, key: string, value: Entry): boolean {
    const existing = s.values.get(key);
    if (existing === undefined) {
      s.values.set(key, value);
      return true;
    }
    if (!sameEntry(existing, value)) this.conflicts++;
    s.extra.set(key, (s.extra.get(key) ?? 0) + 1);
    return false;
  }

  /** Drops one reference; returns true when the key is gone. */
  #unref(s: SetEntries, key: string): boolean {
    if (!s.values.has(key)) return false;
    const extra = s.extra.get(key);
    if (extra === undefined) {
      s.values.delete(key);
      return true;
    }
    if (extra === 1) s.extra.delete(key);
    else s.extra.set(key, extra - 1);
    return false;
  }

  /**
   * Replaces `removed` contributions by `added` ones and returns the element operations that bring the kernel
   * from the old effective state to the new one, deletes first. The caller applies them, or calls the returned
   * undo() to restore the store if applying failed.
   */
  change(
    removed: readonly Contribution[],
    added: readonly Contribution[],
  ): { deletes: ElementBatch[]; adds: ElementBatch[]; undo: () => void } {
    // Effective value (and extra references) of every touched key before the change, for the diff and for undo.
    const before = new Map<string, Map<string, { value: Entry | undefined; extra: number | undefined }>>();
    const remember = (c: Contribution) => {
      let m = before.get(c.set);
      if (!m) before.set(c.set, (m = new Map()));
      if (!m.has(c.key)) {
        const s = this.#sets.get(c.set);
        m.set(c.key, { value: s?.values.get(c.key), extra: s?.extra.get(c.key) });
      }
    };
    for (const c of removed) remember(c);
    for (const c of added) remember(c);
    for (const c of removed) this.#unref(this.#set(c.set), c.key);
    for (const c of added) this.#ref(this.#set(c.set), c.key, entryOf(c));
    const deletes = new Batches();
    const adds = new Batches();
    for (const [set, keys] of before) {
      const s = this.#sets.get(set);
      for (const [key, old] of keys) {
        const now = s?.values.get(key);
        if (sameEntry(old.value, now)) continue;
        if (typeof old.value === 'object' && typeof now === 'object') {
          adds.slotDiff(deletes, set, key, old.value, now);
          continue;
        }
        if (old.value !== undefined) deletes.entry(set, key, old.value);
        if (now !== undefined) adds.entry(set, key, now);
      }
    }
    return {
      deletes: deletes.list(),
      adds: adds.list(),
      undo: () => {
        for (const [set, keys] of before) {
          const s = this.#set(set);
          for (const [key, old] of keys) {
            if (old.value === undefined) s.values.delete(key);
            else s.values.set(key, old.value);
            if (old.extra === undefined) s.extra.delete(key);
            else s.extra.set(key, old.extra);
          }
        }
      },
    };
  }

  /**
   * The full-sync path: clears the store, takes every contribution and returns one add per element, without the
   * bookkeeping change() needs for undo (a failed full sync is simply redone from scratch).
   */
  fill(added: readonly Contribution[]): ElementBatch[] {
    this.clear();
    const adds = new Batches();
    let last: SetEntries | undefined;
    let lastName = '';
    for (const c of added) {
      if (c.set !== lastName || !last) {
        last = this.#set(c.set);
        lastName = c.set;
      }
      const entry = entryOf(c);
      if (this.#ref(last, c.key, entry)) adds.entry(c.set, c.key, entry);
    }
    return adds.list();
  }

  /** Every element, one batch per set. */
  all(): ElementBatch[] {
    const out: ElementBatch[] = [];
    for (const [set, s] of this.#sets) {
      const b = new Batches();
      for (const [key, v] of s.values) b.entry(set, key, v);
      out.push(...b.list());
    }
    return out;
  }

  clear(): void {
    this.#sets.clear();
  }
}
