// Reference-counted set/map elements: each service port contributes elements; the store turns a change of
// contributions into the minimal element operations (add on 0→1, delete on 1→0, delete+add on a new value).

/** One contributed element: set or map name, key components joined by " . ", value text ('' for sets). */
export interface Contribution {
  set: string;
  key: string;
  value: string;
}

interface Entry {
  value: string;
  refs: number;
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

export class ElementStore {
  readonly #sets = new Map<string, Map<string, Entry>>();
  /** Contributions whose key another owner holds with another value (e.g. two services claiming one VIP:port). */
  conflicts = 0;

  #set(name: string): Map<string, Entry> {
    let s = this.#sets.get(name);
    if (!s) this.#sets.set(name, (s = new Map()));
    return s;
  }

  get size(): number {
    let n = 0;
    for (const s of this.#sets.values()) n += s.size;
    return n;
  }

  /** Current value of an element, or undefined. */
  get(set: string, key: string): string | undefined {
    return this.#sets.get(set)?.get(key)?.value;
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
    // Effective value of every touched key before the change.
    const before = new Map<string, Map<string, string | undefined>>();
    const remember = (c: Contribution) => {
      let m = before.get(c.set);
      if (!m) before.set(c.set, (m = new Map()));
      if (!m.has(c.key)) m.set(c.key, this.#sets.get(c.set)?.get(c.key)?.value);
    };
    for (const c of removed) remember(c);
    for (const c of added) remember(c);
    const journal: (() => void)[] = [];
    for (const c of removed) {
      const s = this.#set(c.set);
      const e = s.get(c.key);
      if (!e) continue;
      if (--e.refs === 0) {
        s.delete(c.key);
        journal.push(() => s.set(c.key, e));
      }
      journal.push(() => e.refs++);
    }
    for (const c of added) {
      const s = this.#set(c.set);
      const e = s.get(c.key);
      if (!e) {
        const fresh = { value: c.value, refs: 1 };
        s.set(c.key, fresh);
        journal.push(() => s.delete(c.key));
      } else {
        if (e.value !== c.value) this.conflicts++;
        e.refs++;
        journal.push(() => e.refs--);
      }
    }
    const deletes = new Batches();
    const adds = new Batches();
    for (const [set, keys] of before) {
      const s = this.#sets.get(set);
      for (const [key, old] of keys) {
        const now = s?.get(key)?.value;
        if (old === now) continue;
        if (old !== undefined) deletes.push(set, key, old);
        if (now !== undefined) adds.push(set, key, now);
      }
    }
    return {
      deletes: deletes.list(),
      adds: adds.list(),
      undo: () => {
        for (let i = journal.length - 1; i >= 0; i--) journal[i]!();
      },
    };
  }

  /**
   * The full-sync path: clears the store, takes every contribution and returns one add per element, without the
   * bookkeeping change() needs for undo (a failed full sync is simply redone from scratch).
   */
  fill(added: readonly Contribution[]): ElementBatch[] {
    this.clear();
    for (const c of added) {
      const s = this.#set(c.set);
      const e = s.get(c.key);
      if (!e) s.set(c.key, { value: c.value, refs: 1 });
      else {
        if (e.value !== c.value) this.conflicts++;
        e.refs++;
      }
    }
    return this.all();
  }

  /** Every element, one batch per set (for a full sync after the table was rebuilt). */
  all(): ElementBatch[] {
    const out: ElementBatch[] = [];
    for (const [set, s] of this.#sets) {
      const keys: string[] = [];
      const values: string[] = [];
      for (const [key, e] of s) {
        keys.push(key);
        values.push(e.value);
      }
      out.push({ set, keys, values });
    }
    return out;
  }

  clear(): void {
    this.#sets.clear();
  }
}
