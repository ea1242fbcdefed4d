// Reference-counted set/map elements: each service port contributes elements; the store turns a change of
// contributions into the minimal element operations (add on 0→1, delete on 1→0, delete+add on a new value).

/** One contributed element: set or map name, key components joined by " . ", value text ('' for sets). */
export interface Contribution {
  set: string;
  key: string;
  value: string;
}

/** Element operations on one set in bulk form: keys, and values for adds. */
export interface ElementBatch {
  set: string;
  keys: string[];
  values: string[];
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
  list(): ElementBatch[] {
    return [...this.bySet.values()];
  }
}

/** One set's elements: value per key, and extra references only for keys held more than once (rare). */
interface SetEntries {
  values: Map<string, string>;
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

  get size(): number {
    let n = 0;
    for (const s of this.#sets.values()) n += s.values.size;
    return n;
  }

  /** Current value of an element, or undefined. */
  get(set: string, key: string): string | undefined {
    return this.#sets.get(set)?.values.get(key);
  }

  /** Adds one reference; returns true when the key is new. */
  #ref(s: SetEntries, key: string, value: string): boolean {
    const existing = s.values.get(key);
    if (existing === undefined) {
      s.values.set(key, value);
      return true;
    }
    if (existing !== value) this.conflicts++;
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
    const before = new Map<string, Map<string, { value: string | undefined; extra: number | undefined }>>();
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
    for (const c of added) this.#ref(this.#set(c.set), c.key, c.value);
    const deletes = new Batches();
    const adds = new Batches();
    for (const [set, keys] of before) {
      const s = this.#sets.get(set);
      for (const [key, old] of keys) {
        const now = s?.values.get(key);
        if (old.value === now) continue;
        if (old.value !== undefined) deletes.push(set, key, old.value);
        if (now !== undefined) adds.push(set, key, now);
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
      if (this.#ref(last, c.key, c.value)) adds.push(c.set, c.key, c.value);
    }
    return adds.list();
  }

  /** Every element, one batch per set. */
  all(): ElementBatch[] {
    const out: ElementBatch[] = [];
    for (const [set, s] of this.#sets) out.push({ set, keys: [...s.values.keys()], values: [...s.values.values()] });
    return out;
  }

  clear(): void {
    this.#sets.clear();
  }
}
