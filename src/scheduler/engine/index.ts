// The Wasm scheduling engine behind the Engine interface: objects are flattened here, on the caller's thread, and
// sent as deltas with each batch to one piscina worker that owns the Wasm node table, so the event loop never blocks.
import { fnv1a32 } from '../../lib/hash.js';
import { createPool, type Piscina } from '../../wasm/pool.js';
import type { Engine, Explanation, Node, Pod, Profile, ScheduleResult, Workload } from '../types.js';
import { classKey, flattenClass, flattenNode, podKey, podKeyHash, sameClass } from './flatten.js';
import type { ExplainTask, Op, ScheduleReply, ScheduleTask, Task } from './messages.js';
import { EngineState } from './state.js';
import { runTask } from './worker.js';

export interface WasmEngineOptions {
  /** Run in a piscina worker (default) or on the calling thread (tests, tools that are single-threaded anyway). */
  worker?: boolean;
}

class WasmEngine implements Engine {
  readonly #run: (task: Task) => Promise<unknown>;
  readonly #close: () => Promise<void>;
  #ops: Op[] = [];
  readonly #slotOf = new Map<string, number>();
  readonly #nameOf: string[] = [];
  readonly #classOf = new Map<string, number>();
  #closed = false;

  constructor(run: (task: Task) => Promise<unknown>, close: () => Promise<void>) {
    this.#run = run;
    this.#close = close;
  }

  #open(): void {
    if (this.#closed) throw new Error('scheduler is closed');
  }

  #slot(name: string): number {
    let slot = this.#slotOf.get(name);
    if (slot === undefined) {
      slot = this.#nameOf.length;
      this.#slotOf.set(name, slot);
      this.#nameOf.push(name);
    }
    return slot;
  }

  /** Pods of recently used classes (pending and placed apart), most recent first: compared before keying. */
  readonly #recent: { pod: Pod; id: number }[][] = [[], []];

  /** The class id of a pod, defining the class (one op) the first time its key is seen. */
  #classId(pod: Pod, placed: boolean, ops: Op[]): number {
    const recent = this.#recent[placed ? 1 : 0]!;
    for (let i = 0; i < recent.length; i++) {
      const r = recent[i]!;
      if (sameClass(pod, r.pod, placed)) {
        if (i > 0) {
          recent.splice(i, 1);
          recent.unshift(r);
        }
        return r.id;
      }
    }
    const key = classKey(pod, placed);
    let id = this.#classOf.get(key);
    if (id === undefined) {
      id = this.#classOf.size;
      ops.push({ op: 'class', cls: flattenClass(id, pod, placed) });
      this.#classOf.set(key, id);
    }
    // The pod object may be changed by its owner later: keep a copy of what the class depends on.
    recent.unshift({ pod: structuredClone(pod), id });
    if (recent.length > 4) recent.pop();
    return id;
  }

  upsertNode(node: Node): void {
    this.#open();
    const flat = flattenNode(node);
    this.#ops.push({ op: 'node', node: { slot: this.#slot(flat.node.metadata!.name!), ...flat } });
  }

  removeNode(name: string): void {
    this.#open();
    const slot = this.#slotOf.get(name);
    if (slot !== undefined) this.#ops.push({ op: 'removeNode', slot });
  }

  upsertPod(pod: Pod): void {
    this.#open();
    const key = podKey(pod);
    const ops: Op[] = [];
    const nodeName = pod.spec?.nodeName || undefined;
    const classId = this.#classId(pod, nodeName !== undefined, ops);
    ops.push({ op: 'place', key, classId, slot: nodeName ? this.#slot(nodeName) : -1, nodeName });
    this.#ops.push(...ops);
  }

  removePod(namespace: string, name: string): void {
    this.#open();
    this.#ops.push({ op: 'unplace', key: `${namespace || 'default'}/${name}` });
  }

  upsertWorkload(workload: Workload): void {
    this.#open();
    this.#ops.push({ op: 'workload', workload });
  }

  removeWorkload(kind: Workload['kind'], namespace: string, name: string): void {
    this.#open();
    this.#ops.push({ op: 'removeWorkload', kind, namespace, name });
  }

  #seenAt = new Int32Array(2048);
  #seenGen = new Uint32Array(2048);
  #gen = 0;

  #takeOps(extra: Op[]): Op[] {
    const ops = this.#ops;
    this.#ops = [];
    ops.push(...extra);
    return ops;
  }

  async schedule(pods: Pod[]): Promise<ScheduleResult[]> {
    this.#open();
    const { task, keys } = this.#scheduleTask(pods);
    return this.#results(keys, (await this.#run(task)) as ScheduleReply);
  }

  // schedule() is split in three small functions: an async function's optimised code is compiled as one unit, and in
  // a short run compiling one large unit costs more CPU than the work it speeds up.

  /** Flattens a batch into its task; a bad pod rejects the batch before anything is sent (nothing is kept). */
  #scheduleTask(pods: Pod[]): { task: ScheduleTask; keys: string[] } {
    const classOps: Op[] = [];
    const classIds = new Int32Array(pods.length);
    const hashes = new Uint32Array(pods.length);
    const keys: string[] = new Array(pods.length);
    const repeats = new Uint8Array(pods.length);
    const known = this.#classOf.size;
    const recent = this.#recent.map((r) => [...r]);
    try {
      this.#flattenBatch(pods, classOps, classIds, hashes, keys, repeats);
    } catch (err) {
      // Forget the classes this batch defined (ids are dense, in order of definition).
      for (const [k, v] of this.#classOf) if (v >= known) this.#classOf.delete(k);
      recent.forEach((r, i) => (this.#recent[i] = r));
      throw err;
    }
    const keyEnds = new Uint32Array(pods.length);
    let end = 0;
    for (let i = 0; i < pods.length; i++) keyEnds[i] = end += keys[i]!.length;
    const task: ScheduleTask = {
      kind: 'schedule',
      ops: this.#takeOps(classOps),
      classIds,
      hashes,
      keyText: keys.join(''),
      keyEnds,
      repeats,
    };
    return { task, keys };
  }

  #flattenBatch(
    pods: Pod[],
    classOps: Op[],
    classIds: Int32Array,
    hashes: Uint32Array,
    keys: string[],
    repeats: Uint8Array,
  ): void {
    // Keys seen earlier in the batch: an open-addressing table over the key hashes (compared as strings only when
    // two hashes are equal), reused across batches, instead of a Set that would hash and flatten every key again.
    let size = this.#seenAt.length;
    if (size < 2 * pods.length) {
      while (size < 2 * pods.length) size *= 2;
      this.#seenAt = new Int32Array(size);
      this.#seenGen = new Uint32Array(size);
    }
    const gen = ++this.#gen;
    const seenAt = this.#seenAt;
    const seenGen = this.#seenGen;
    const mask = size - 1;
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i]!;
      const key = podKey(pod);
      const hash = podKeyHash(pod);
      keys[i] = key;
      hashes[i] = hash;
      let at = hash & mask;
      for (; seenGen[at] === gen; at = (at + 1) & mask) {
        const j = seenAt[at]!;
        if (hashes[j] === hash && keys[j] === key) {
          repeats[i] = 1;
          break;
        }
      }
      if (repeats[i] === 0) {
        seenGen[at] = gen;
        seenAt[at] = i;
      }
      classIds[i] = this.#classId(pod, false, classOps);
    }
  }

  #results(keys: string[], reply: ScheduleReply): ScheduleResult[] {
    const out: ScheduleResult[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const slot = reply.slots[i]!;
      out[i] =
        slot >= 0 ? { pod: keys[i]!, node: this.#nameOf[slot]! } : { pod: keys[i]!, reasons: [reply.messages[i]!] };
    }
    return out;
  }

  async explain(pod: Pod): Promise<Explanation> {
    this.#open();
    const key = podKey(pod);
    const classOps: Op[] = [];
    const classId = this.#classId(pod, false, classOps);
    const task: ExplainTask = { kind: 'explain', ops: this.#takeOps(classOps), classId, hash: fnv1a32(key) };
    return (await this.#run(task)) as Explanation;
  }

  /** Applies pending deltas and reports the worker's Wasm memory (bytes). */
  async sync(): Promise<{ memoryBytes: number }> {
    this.#open();
    return (await this.#run({ kind: 'sync', ops: this.#takeOps([]) })) as { memoryBytes: number };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#close();
  }
}

/** Creates the Wasm engine; its worker is up and has compiled the module when the promise resolves. */
export async function createWasmEngine(
  profile: Profile,
  seed: number,
  options: WasmEngineOptions = {},
): Promise<Engine> {
  if (options.worker === false) {
    const state = new EngineState(profile, seed);
    return new WasmEngine(
      async (task) => runTask(state, task),
      async () => {},
    );
  }
  const pool: Piscina = createPool({
    worker: new URL('./worker.js', import.meta.url),
    workerData: { profile, seed },
    threads: 1,
  });
  const engine = new WasmEngine(
    (task) => pool.run(task),
    () => pool.destroy(),
  );
  // Start the worker and instantiate the module now, so the first batch does not pay for it.
  await pool.run({ kind: 'sync', ops: [] } satisfies Task);
  return engine;
}

export type { WasmEngine };
