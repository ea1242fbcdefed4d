// The Wasm engine's cluster state and decisions, as run inside its worker: the node table in linear memory, one
// equivalence class per distinct pod shape with a score index kept current one node at a time, and the batch loop.
//
// What runs where:
// - Wasm (assembly/scheduler): NodeResourcesFit filter and scores, BalancedAllocation, normalisation of
//   TaintToleration/NodeAffinity, weighted sums, tie-break, the per-class bucket index, pod placement deltas.
// - Once per (class, node) when a class is first used or a node changes, in TypeScript: the static filters
//   (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity) and the static raw scores (TaintToleration,
//   NodeAffinity, ImageLocality), by calling the reference plugins so the two engines share one rule.
// - Per pod, only for pods whose outcome depends on other pods' labels (spread constraints, pod (anti-)affinity,
//   or any placed pod with affinity): PodTopologySpread and InterPodAffinity on incrementally kept counts
//   (pod-relations.ts), feeding the Wasm full scan.
import { Skip, type CycleContext } from '../framework.js';
import { ErrNoNodesAvailable, fitErrorMessage } from '../message.js';
import { filterPlugins, scorePlugins } from '../plugins/index.js';
import { ErrReasonPorts } from '../plugins/node-ports.js';
import { isExtendedResourceName, isScalarResourceName, podRequests } from '../resources.js';
import { PodInfo, Snapshot, type HostPort, type NodeInfo } from '../snapshot.js';
import { podTieSalt } from '../tiebreak.js';
import type { Explanation, FilterPluginName, Pod, Profile, ScorePluginName } from '../types.js';
import { loadWasm, type WasmInstance } from '../../wasm/loader.js';
import { Arena, C, CLASS_BYTES, FIXED_SLOTS, MAX_SLOTS, SLOT_PODS, type SchedulerKernels } from './layout.js';
import type { FlatClass, FlatNode, Op } from './messages.js';
import { KernelInputs } from './kernel-inputs.js';
import { PodRelations, type WasmPut } from './pod-relations.js';

const STATIC_FILTERS: ReadonlySet<FilterPluginName> = new Set([
  'NodeUnschedulable',
  'NodeName',
  'TaintToleration',
  'NodeAffinity',
]);
const POD_DEPENDENT_FILTERS: readonly FilterPluginName[] = ['PodTopologySpread', 'InterPodAffinity'];
const POD_DEPENDENT_SCORES: readonly ScorePluginName[] = ['PodTopologySpread', 'InterPodAffinity'];
/** Failure code of nodes a PreFilter excluded (lower than every plugin's code: they are never evaluated). */
const CODE_ABSENT = 1;
/** Class headers kept materialised at once (least recently used ones are recycled). */
const HEADER_SLOTS = 48;
/** Histogram capacity of normalised static raw scores; classes beyond it are scanned instead of indexed. */
const HIST_CAP = 1024;
/** Node slots per class id in the packed placement numbers. */
const SLOT_SPAN = 2 ** 24;

/** One class's per-node arrays and index in linear memory. */
interface Header {
  ptr: number;
  owner: ClassState | undefined;
  lastUse: number;
}

interface ClassState {
  id: number;
  info: PodInfo;
  /** Requests by slot (filter), the non-zero cpu/memory, host ports. */
  slotReq: Map<number, number>;
  nzCpu: number;
  nzMemory: number;
  /** Needs the per-pod path (its outcome depends on other pods' labels). */
  ownPodDependent: boolean;
  /** Has pod affinity or anti-affinity (PodInfo.hasAffinity, kept). */
  hasAffinity: boolean;
  header: Header | undefined;
  /** The static arrays and index reflect this node epoch. */
  epoch: number;
  /** Position in the change log the index has seen. */
  logPos: number;
  indexed: boolean;
  /** PreFilter outcome for the static plugins. */
  reject: string | undefined;
  absentReason: string;
  filterStates: unknown[];
  defaultSelectorEpoch: number;
  hasDefaultSelector: boolean;
  /** Raw static scores beyond the histograms: scanned per pod instead of indexed. */
  histOverflow: boolean;
  /** The pod fields the static plugins read (see staticKey): classes with equal keys share static arrays. */
  staticKey: string;
}

/**
 * Everything NodeUnschedulable, NodeName, TaintToleration, NodeAffinity and ImageLocality read from a pod. Two classes
 * with the same key (they may differ in namespace, labels, requests or pod (anti-)affinity) get the same static
 * filter codes and raw scores, so a new class copies them from one computed in the same node epoch.
 */
function staticKey(pod: Pod): string {
  const spec = pod.spec;
  const images = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.image ?? '');
  return JSON.stringify([
    spec?.nodeName || '',
    spec?.tolerations ?? [],
    spec?.nodeSelector ?? {},
    spec?.affinity?.nodeAffinity ?? null,
    images,
  ]);
}

export class EngineState {
  readonly wasm: WasmInstance<SchedulerKernels>;
  readonly #k: SchedulerKernels;
  readonly #arena: Arena;
  readonly #profile: Profile;
  readonly #seed: number;
  readonly #filterCode = new Map<FilterPluginName, number>();
  readonly #weights = new Map<ScorePluginName, number>();
  readonly #maxTotal: number;

  // node table
  #nCap = 0;
  #used = 0; // slots handed out
  #allocPtr = 0;
  #reqPtr = 0;
  #nzPtr = 0;
  #hashPtr = 0;
  #rankPtr = 0;
  #presentPtr = 0;
  readonly #nodes: (NodeInfo | undefined)[] = [];
  #ranksDirty = true;
  #epoch = 1;
  readonly #slotOfResource = new Map<string, number>([
    ['cpu', 0],
    ['memory', 1],
    ['ephemeral-storage', 2],
    ['pods', 3],
  ]);
  readonly #resourceOfSlot: string[] = ['cpu', 'memory', 'ephemeral-storage', 'pods'];

  // pods
  readonly #classes = new Map<number, ClassState>();
  /** Placed pods: key → classId * 2^24 + slot (a number, so 50,000 placements cost no objects). */
  readonly #placements = new Map<string, number>();
  readonly #portsBySlot = new Map<number, HostPort[]>();
  #placedWithAffinity = 0;
  /** The reference snapshot's node side (static plugins read NodeInfo, ImageLocality the image counts). */
  readonly #snapshot = new Snapshot();
  readonly #relations: PodRelations;

  // index maintenance
  readonly #headers: Header[] = [];
  #useClock = 0;
  #log: number[] = [];
  #logBase = 0;

  constructor(profile: Profile, seed: number) {
    this.#profile = profile;
    this.#relations = new PodRelations(profile, this.#snapshot, () => this.#nodes);
    this.#seed = seed >>> 0;
    this.wasm = loadWasm<SchedulerKernels>('scheduler');
    this.#k = this.wasm.exports;
    this.#arena = new Arena(this.wasm);
    this.#inputs = new KernelInputs(this.#arena);
    profile.filters.forEach((name, i) => this.#filterCode.set(name, i + 2));
    let sum = 0;
    for (const s of profile.scores) {
      this.#weights.set(s.name, (this.#weights.get(s.name) ?? 0) + s.weight);
      sum += s.weight;
    }
    this.#maxTotal = 100 * sum;
    this.#podDependentFilters = POD_DEPENDENT_FILTERS.filter((f) => this.#filterCode.has(f)).sort(
      (a, b) => this.#filterCode.get(a)! - this.#filterCode.get(b)!,
    );
    this.#layout(64);
    this.#k.setHashDuplicates(0);
  }

  // ---- memory layout ------------------------------------------------------------------------------------------------

  /** (Re)lays out the node table for `cap` slots, keeping its contents; class headers are recycled. */
  #layout(cap: number): void {
    const v = this.wasm.views;
    const old =
      this.#nCap === 0
        ? undefined
        : {
            cap: this.#nCap,
            alloc: v.i64.slice(this.#allocPtr / 8, this.#allocPtr / 8 + MAX_SLOTS * this.#nCap),
            req: v.i64.slice(this.#reqPtr / 8, this.#reqPtr / 8 + MAX_SLOTS * this.#nCap),
            nz: v.i64.slice(this.#nzPtr / 8, this.#nzPtr / 8 + 2 * this.#nCap),
            hash: v.u32.slice(this.#hashPtr / 4, this.#hashPtr / 4 + this.#nCap),
            present: v.i32.slice(this.#presentPtr / 4, this.#presentPtr / 4 + this.#nCap),
          };
    this.#arena.reset();
    for (const h of this.#headers) if (h.owner) h.owner.header = undefined;
    this.#headers.length = 0;
    this.#nCap = cap;
    this.#allocPtr = this.#arena.alloc(MAX_SLOTS * cap * 8);
    this.#reqPtr = this.#arena.alloc(MAX_SLOTS * cap * 8);
    this.#nzPtr = this.#arena.alloc(2 * cap * 8);
    this.#hashPtr = this.#arena.alloc(cap * 4);
    this.#rankPtr = this.#arena.alloc(cap * 4);
    this.#presentPtr = this.#arena.alloc(cap * 4);
    this.#scratchReq = this.#arena.alloc(MAX_SLOTS * 8 + 16);
    this.#layoutEpoch++;
    if (old) {
      const w = this.wasm.views;
      for (let s = 0; s < MAX_SLOTS; s++) {
        w.i64.set(old.alloc.subarray(s * old.cap, (s + 1) * old.cap), this.#allocPtr / 8 + s * cap);
        w.i64.set(old.req.subarray(s * old.cap, (s + 1) * old.cap), this.#reqPtr / 8 + s * cap);
      }
      for (let s = 0; s < 2; s++) w.i64.set(old.nz.subarray(s * old.cap, (s + 1) * old.cap), this.#nzPtr / 8 + s * cap);
      w.u32.set(old.hash, this.#hashPtr / 4);
      w.i32.set(old.present, this.#presentPtr / 4);
    }
    this.#k.setTable(cap, this.#allocPtr, this.#reqPtr, this.#nzPtr, this.#hashPtr, this.#rankPtr, this.#presentPtr);
    this.#k.setUsed(this.#used);
    this.#ranksDirty = true;
    this.#epoch++;
  }

  #ensureSlot(slot: number): void {
    if (slot >= this.#nCap) {
      let cap = this.#nCap;
      while (cap <= slot) cap *= 2;
      this.#layout(cap);
    }
    if (slot >= this.#used) {
      this.#used = slot + 1;
      this.#k.setUsed(this.#used);
    }
  }

  #resourceSlot(name: string): number {
    let slot = this.#slotOfResource.get(name);
    if (slot === undefined) {
      slot = this.#resourceOfSlot.length;
      if (slot >= MAX_SLOTS) throw new Error(`more than ${MAX_SLOTS - FIXED_SLOTS} extended resources`);
      this.#slotOfResource.set(name, slot);
      this.#resourceOfSlot.push(name);
    }
    return slot;
  }

  // ---- deltas -------------------------------------------------------------------------------------------------------

  apply(ops: Op[]): void {
    for (const op of ops) {
      switch (op.op) {
        case 'node':
          this.#upsertNode(op.node);
          break;
        case 'removeNode':
          this.#removeNode(op.slot);
          break;
        case 'class':
          this.#defineClass(op.cls);
          break;
        case 'place':
          this.#place(op.key, op.classId, op.slot, op.nodeName);
          break;
        case 'unplace':
          this.#unplace(op.key);
          break;
        case 'workload':
          this.#snapshot.workloads.set(`${op.workload.kind}/${op.workload.namespace}/${op.workload.name}`, op.workload);
          this.#relations.workloadsChanged();
          this.#epoch++;
          break;
        case 'removeWorkload':
          this.#snapshot.workloads.delete(`${op.kind}/${op.namespace}/${op.name}`);
          this.#relations.workloadsChanged();
          this.#epoch++;
          break;
      }
    }
  }

  #upsertNode(flat: FlatNode): void {
    const slot = flat.slot;
    this.#ensureSlot(slot);
    this.#snapshot.upsertNode(flat.node);
    const info = this.#snapshot.node(flat.node.metadata!.name!)!;
    const v = this.wasm.views;
    for (let s = 0; s < MAX_SLOTS; s++) v.i64[this.#allocPtr / 8 + s * this.#nCap + slot] = 0n;
    for (const [name, amount] of flat.allocatable) {
      if (name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage' && name !== 'pods')
        if (!isScalarResourceName(name)) continue;
      const s = this.#resourceSlot(name);
      v.i64[this.#allocPtr / 8 + s * this.#nCap + slot] += BigInt(amount);
    }
    v.u32[this.#hashPtr / 4 + slot] = info.hash;
    v.i32[this.#presentPtr / 4 + slot] = 1;
    if (!this.#nodes[slot]) this.#countHash(info.hash, 1);
    this.#nodes[slot] = info;
    this.#slotNames[slot] = info.name;
    this.#relations.nodesChanged();
    this.#ranksDirty = true;
    this.#epoch++;
  }

  /** Present nodes per name hash: the kernels' SIMD tie-break is exact only while no two share one. */
  readonly #hashCount = new Map<number, number>();
  #sharedHashes = 0;

  #countHash(hash: number, sign: 1 | -1): void {
    const count = (this.#hashCount.get(hash) ?? 0) + sign;
    if (count === 0) this.#hashCount.delete(hash);
    else this.#hashCount.set(hash, count);
    if (sign === 1 && count === 2) this.#sharedHashes++;
    if (sign === -1 && count === 1) this.#sharedHashes--;
    this.#k.setHashDuplicates(this.#sharedHashes > 0 ? 1 : 0);
  }

  #removeNode(slot: number): void {
    const info = this.#nodes[slot];
    if (!info) return;
    this.#nodes[slot] = undefined;
    this.#countHash(info.hash, -1);
    this.wasm.views.i32[this.#presentPtr / 4 + slot] = 0;
    this.#snapshot.removeNode(info.name);
    this.#relations.nodesChanged();
    this.#ranksDirty = true;
    this.#epoch++;
  }

  #defineClass(flat: FlatClass): void {
    const info = new PodInfo({
      ...flat.pod,
      metadata: { ...flat.pod.metadata, name: flat.pod.metadata?.name || `class-${flat.id}` },
    });
    const slotReq = new Map<number, number>();
    for (const [name, amount] of podRequests(info.pod, false)) {
      if (amount === 0) continue;
      if (name === 'pods') continue; // upstream's framework.Resource keeps pods in AllowedPodNumber, never requested
      if (name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage' && !isScalarResourceName(name)) continue;
      slotReq.set(this.#resourceSlot(name), amount);
    }
    const spec = info.pod.spec;
    const ownPodDependent =
      (spec?.topologySpreadConstraints ?? []).length > 0 ||
      info.requiredAffinityTerms.length > 0 ||
      info.requiredAntiAffinityTerms.length > 0 ||
      info.preferredAffinityTerms.length > 0 ||
      info.preferredAntiAffinityTerms.length > 0;
    this.#classes.set(flat.id, {
      id: flat.id,
      info,
      slotReq,
      nzCpu: info.nonZeroCpu,
      nzMemory: info.nonZeroMemory,
      ownPodDependent,
      hasAffinity: info.hasAffinity,
      header: undefined,
      epoch: 0,
      logPos: 0,
      indexed: false,
      reject: undefined,
      absentReason: '',
      filterStates: [],
      defaultSelectorEpoch: 0,
      hasDefaultSelector: false,
      histOverflow: false,
      staticKey: staticKey(info.pod),
    });
    this.#relations.defineClass(this.#classes.get(flat.id)!);
  }

  #class(id: number): ClassState {
    const cls = this.#classes.get(id);
    if (!cls) throw new Error(`unknown pod class ${id}`);
    return cls;
  }

  /** Node name of every slot handed out (also for pods placed on nodes not known yet). */
  readonly #slotNames: string[] = [];

  /** Places (or moves) a pod; slot -1 records it as not placed. */
  #place(key: string, classId: number, slot: number, nodeName?: string): void {
    this.#unplace(key);
    if (slot < 0) return;
    const cls = this.#class(classId);
    this.#ensureSlot(slot);
    if (nodeName !== undefined) this.#slotNames[slot] = nodeName;
    this.#applyPod(cls, slot, 1);
    this.#placements.set(key, classId * SLOT_SPAN + slot);
    if (cls.info.hostPorts.length > 0) {
      let list = this.#portsBySlot.get(slot);
      if (!list) this.#portsBySlot.set(slot, (list = []));
      list.push(...cls.info.hostPorts);
    }
    if (cls.hasAffinity) this.#placedWithAffinity++;
    this.#relations.place(slot, cls, 1);
    this.#log.push(slot);
  }

  #unplace(key: string): void {
    const packed = this.#placements.get(key);
    if (packed === undefined) return;
    this.#placements.delete(key);
    const old = { classId: Math.floor(packed / SLOT_SPAN), slot: packed % SLOT_SPAN };
    const cls = this.#class(old.classId);
    this.#applyPod(cls, old.slot, -1);
    if (cls.info.hostPorts.length > 0) {
      const list = this.#portsBySlot.get(old.slot)!;
      for (const p of cls.info.hostPorts) list.splice(list.indexOf(p), 1);
    }
    if (cls.hasAffinity) this.#placedWithAffinity--;
    this.#relations.place(old.slot, cls, -1);
    this.#log.push(old.slot);
  }

  // ---- class headers ------------------------------------------------------------------------------------------------

  #headerBytes(): number {
    const words = (this.#nCap + 31) >> 5;
    const small =
      this.#profile.nodeResourcesFit.scoringStrategy.resources.length +
      this.#profile.nodeResourcesBalancedAllocation.resources.length +
      (this.#profile.nodeResourcesFit.scoringStrategy.requestedToCapacityRatio?.shape.length ?? 0);
    return (
      CLASS_BYTES +
      17 * (4 * this.#nCap + 8) +
      (this.#maxTotal + 1) * (words + 1) * 4 +
      16 +
      2 * HIST_CAP * 4 +
      4096 +
      64 * small
    );
  }

  /** A header for the class (its per-node arrays may be stale: see #refreshStatic). */
  #headerFor(cls: ClassState): Header {
    this.#useClock++;
    if (cls.header) {
      cls.header.lastUse = this.#useClock;
      return cls.header;
    }
    return this.#assignHeader(cls);
  }

  #assignHeader(cls: ClassState): Header {
    let h: Header;
    if (this.#headers.length < HEADER_SLOTS) {
      h = { ptr: this.#arena.alloc(this.#headerBytes()), owner: undefined, lastUse: 0 };
      this.#headers.push(h);
    } else {
      h = this.#headers.reduce((a, b) => (a.lastUse <= b.lastUse ? a : b));
      if (h.owner) h.owner.header = undefined;
    }
    h.owner = cls;
    h.lastUse = this.#useClock;
    cls.header = h;
    cls.epoch = 0;
    cls.indexed = false;
    this.#writeHeader(cls, h.ptr);
    return h;
  }

  /** Lays out the header's arrays and writes the class's resource parameters. */
  #writeHeader(cls: ClassState, ptr: number): void {
    const v = this.wasm.views;
    const n = this.#nCap;
    const words = (n + 31) >> 5;
    let p = ptr + Math.ceil(CLASS_BYTES / 16) * 16;
    const take = (bytes: number) => {
      const at = p;
      p += Math.ceil(bytes / 8) * 8;
      return at;
    };
    const set = (off: number, value: number) => (v.i32[(ptr + off) / 4] = value);
    for (const off of [
      C.STATIC,
      C.TAINT_RAW,
      C.AFF_RAW,
      C.IMG,
      C.EXTRA_STATUS,
      C.EXTRA_SCORE,
      C.SCORE,
      C.FAIL,
      C.OUT_FIT,
      C.OUT_BAL,
      C.OUT_TAINT,
      C.OUT_AFF,
      C.PD_STATUS,
      C.PD_SCORE,
      C.TOP_NODES,
      C.TOP_HASH,
      C.TOP_POS,
    ])
      set(off, take(4 * n));
    set(C.TOP_VALID, 0);
    set(C.BUCKETS, take((this.#maxTotal + 1) * words * 4));
    set(C.BUCKET_COUNT, take((this.#maxTotal + 1) * 4));
    set(C.MAX_TOTAL, this.#maxTotal);
    set(C.HIST_T, take(HIST_CAP * 4));
    set(C.HIST_A, take(HIST_CAP * 4));
    // Small parameter arrays.
    const podReq = take(MAX_SLOTS * 8);
    const checkSlots = take(MAX_SLOTS * 4);
    const nzReq = take(16);
    const fitRes = this.#profile.nodeResourcesFit.scoringStrategy.resources;
    const balRes = this.#profile.nodeResourcesBalancedAllocation.resources;
    const fitSlots = take(fitRes.length * 4);
    const fitWeights = take(fitRes.length * 8);
    const fitReq = take(fitRes.length * 8);
    const fitNz = take(fitRes.length * 4);
    const balSlots = take(balRes.length * 4);
    const balReq = take(balRes.length * 8);
    const shape = this.#profile.nodeResourcesFit.scoringStrategy.requestedToCapacityRatio?.shape ?? [];
    const shapeUtil = take(shape.length * 8 + 8);
    const shapeScore = take(shape.length * 8 + 8);
    if (p > ptr + this.#headerBytes()) throw new Error('class header overflow');
    set(C.POD_REQ, podReq);
    set(C.CHECK_SLOTS, checkSlots);
    set(C.NZ_REQ, nzReq);
    set(C.FIT_SLOTS, fitSlots);
    set(C.FIT_WEIGHTS, fitWeights);
    set(C.FIT_REQ, fitReq);
    set(C.FIT_NZ, fitNz);
    set(C.BAL_SLOTS, balSlots);
    set(C.BAL_REQ, balReq);
    set(C.SHAPE_UTIL, shapeUtil);
    set(C.SHAPE_SCORE, shapeScore);
    this.#writeRequests(cls, ptr);

    // NodeResourcesFit filter: cpu, memory, ephemeral-storage when requested; scalar resources by name unless ignored.
    const fitArgs = this.#profile.nodeResourcesFit;
    const ignored = new Set(fitArgs.ignoredResources);
    const ignoredGroups = new Set(fitArgs.ignoredResourceGroups);
    const checks: number[] = [];
    for (const s of [0, 1, 2]) if ((cls.slotReq.get(s) ?? 0) > 0) checks.push(s);
    const scalars = [...cls.slotReq.keys()].filter((s) => s >= FIXED_SLOTS).map((s) => this.#resourceOfSlot[s]!);
    for (const name of scalars.sort()) {
      if (isExtendedResourceName(name) && (ignored.has(name) || ignoredGroups.has(name.split('/')[0]!))) continue;
      checks.push(this.#slotOfResource.get(name)!);
    }
    set(C.CHECK_COUNT, checks.length);
    checks.forEach((s, i) => (v.i32[checkSlots / 4 + i] = s));

    // Scoring inputs: pod requests with (fit) and without (balanced) the non-zero defaults, per scored resource.
    const withDefaults = podRequests(cls.info.pod, true);
    const plain = podRequests(cls.info.pod, false);
    const scoredSlot = (name: string, want: number): number => {
      if (want === 0 && isScalarResourceName(name)) return -1;
      if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage') return this.#slotOfResource.get(name)!;
      if (!isScalarResourceName(name)) return -1;
      return this.#resourceSlot(name);
    };
    const strategy = fitArgs.scoringStrategy.type;
    set(C.STRATEGY, strategy === 'LeastAllocated' ? 0 : strategy === 'MostAllocated' ? 1 : 2);
    set(C.FIT_COUNT, fitRes.length);
    fitRes.forEach((r, i) => {
      const want = withDefaults.get(r.name) ?? 0;
      v.i32[fitSlots / 4 + i] = scoredSlot(r.name, want);
      v.i64[fitWeights / 8 + i] = BigInt(r.weight);
      v.i64[fitReq / 8 + i] = BigInt(want);
      v.i32[fitNz / 4 + i] = r.name === 'cpu' || r.name === 'memory' ? 1 : 0;
    });
    const balWant = balRes.map((r) => plain.get(r.name) ?? 0);
    set(C.BAL_COUNT, balRes.length);
    balRes.forEach((r, i) => {
      v.i32[balSlots / 4 + i] = scoredSlot(r.name, balWant[i]!);
      v.i64[balReq / 8 + i] = BigInt(balWant[i]!);
    });
    set(C.SHAPE_COUNT, shape.length);
    shape.forEach((pt, i) => {
      v.i64[shapeUtil / 8 + i] = BigInt(pt.utilization);
      v.i64[shapeScore / 8 + i] = BigInt(pt.score * 10);
    });

    const w = (name: ScorePluginName) => this.#weights.get(name) ?? 0;
    set(C.FIT_ON, this.#weights.has('NodeResourcesFit') ? 1 : 0);
    set(C.W_FIT, w('NodeResourcesFit'));
    const balOn = this.#weights.has('NodeResourcesBalancedAllocation') && balWant.some((x) => x !== 0);
    set(C.BAL_ON, balOn ? 1 : 0);
    set(C.W_BAL, w('NodeResourcesBalancedAllocation'));
    set(C.TAINT_ON, this.#weights.has('TaintToleration') ? 1 : 0);
    set(C.W_TAINT, w('TaintToleration'));
    set(C.W_AFF, w('NodeAffinity'));
    set(C.W_IMG, this.#weights.has('ImageLocality') ? w('ImageLocality') : 0);
    set(C.FIT_CODE, this.#filterCode.get('NodeResourcesFit') ?? 0x7fffffff);
    set(C.HIST_T_LEN, HIST_CAP);
    set(C.HIST_A_LEN, HIST_CAP);
  }

  /** Adds or removes a pod of the class on a node (requests written to a scratch block when the class changes). */
  #applyPod(cls: ClassState, slot: number, sign: number): void {
    if (this.#scratchOwner !== cls || this.#scratchEpoch !== this.#layoutEpoch) {
      this.#writeRequestsAt(cls, this.#scratchReq, this.#scratchReq + MAX_SLOTS * 8);
      this.#scratchOwner = cls;
      this.#scratchEpoch = this.#layoutEpoch;
    }
    this.#k.applyPod(this.#scratchReq, this.#scratchReq + MAX_SLOTS * 8, slot, sign);
  }
  #scratchReq = 0;
  #scratchOwner: ClassState | undefined;
  #scratchEpoch = 0;
  #layoutEpoch = 0;

  /** The pod's requests by slot and non-zero cpu/memory, as the class header holds them. */
  #writeRequests(cls: ClassState, ptr: number): void {
    const v = this.wasm.views;
    this.#writeRequestsAt(cls, v.i32[(ptr + C.POD_REQ) / 4]!, v.i32[(ptr + C.NZ_REQ) / 4]!);
  }

  #writeRequestsAt(cls: ClassState, podReq: number, nzReq: number): void {
    const v = this.wasm.views;
    for (let s = 0; s < MAX_SLOTS; s++) v.i64[podReq / 8 + s] = BigInt(cls.slotReq.get(s) ?? 0);
    v.i64[podReq / 8 + SLOT_PODS] = 0n;
    v.i64[nzReq / 8] = BigInt(cls.nzCpu);
    v.i64[nzReq / 8 + 1] = BigInt(cls.nzMemory);
  }

  #ctx(cls: ClassState): CycleContext {
    return { pod: cls.info, snapshot: this.#snapshot, profile: this.#profile };
  }

  /** staticKey → the class that last computed static arrays for it (a donor while its epoch is current). */
  readonly #staticDonor = new Map<string, ClassState>();

  /** Recomputes the class's static per-node arrays when nodes (or workloads) changed since it last did. */
  #refreshStatic(cls: ClassState, h: Header): void {
    if (cls.epoch !== this.#epoch) this.#recomputeStatic(cls, h);
  }

  // Hot callers (every run, every pod) reach only the small checks above and below; the heavy bodies are separate
  // functions that stay cold, so the optimising compiler does not inline them into every hot caller (compiling those
  // copies cost more CPU than the scheduling itself in a short run).

  #recomputeStatic(cls: ClassState, h: Header): void {
    this.#updateRanks();
    const v = this.wasm.views;
    const ptr = h.ptr;
    const arr = (off: number) => v.i32[(ptr + off) / 4]! / 4;
    const donor = this.#staticDonor.get(cls.staticKey);
    if (donor && donor !== cls && donor.header && donor.epoch === this.#epoch) {
      // Same static inputs, same node epoch: copy instead of running the plugins over every node again.
      const from = donor.header.ptr;
      v.i32[(ptr + C.AFF_ON) / 4] = v.i32[(from + C.AFF_ON) / 4]!;
      for (const off of [C.STATIC, C.TAINT_RAW, C.AFF_RAW, C.IMG]) {
        const src = v.i32[(from + off) / 4]! / 4;
        v.i32.copyWithin(arr(off), src, src + this.#nCap);
      }
      cls.reject = donor.reject;
      cls.filterStates = donor.filterStates;
      cls.absentReason = donor.absentReason;
      this.#finishRefresh(cls, h, donor.histOverflow);
      return;
    }
    this.#staticDonor.set(cls.staticKey, cls);
    this.#evaluateStatic(cls, h);
  }

  /** Runs the static plugins over every node for the class (the pass a donor copy saves; its own function so a
   * class that copies never enters, and so never has the optimising compiler recompile, this loop). */
  #evaluateStatic(cls: ClassState, h: Header): void {
    const v = this.wasm.views;
    const ptr = h.ptr;
    const arr = (off: number) => v.i32[(ptr + off) / 4]! / 4;
    const ctx = this.#ctx(cls);
    // PreFilter of the static plugins: a rejection or a narrowed node set.
    cls.reject = undefined;
    cls.filterStates = [];
    let allowed: Set<string> | undefined;
    const narrowedBy: string[] = [];
    for (const name of this.#profile.filters) {
      if (!STATIC_FILTERS.has(name)) {
        cls.filterStates.push(undefined);
        continue;
      }
      const res = filterPlugins[name].preFilter(ctx);
      if (res.reject !== undefined && cls.reject === undefined) cls.reject = res.reject;
      if (res.nodeNames) {
        allowed = allowed ? new Set([...allowed].filter((n) => res.nodeNames!.has(n))) : new Set(res.nodeNames);
        narrowedBy.push(name);
      }
      cls.filterStates.push(res.state);
    }
    cls.absentReason = `node(s) didn't satisfy plugin(s) [${[...narrowedBy].sort().join(' ')}]`;
    const taintState = this.#weights.has('TaintToleration') ? scorePlugins.TaintToleration.preScore(ctx, []) : Skip;
    const affState = this.#weights.has('NodeAffinity') ? scorePlugins.NodeAffinity.preScore(ctx, []) : Skip;
    const imgState = this.#weights.has('ImageLocality') ? scorePlugins.ImageLocality.preScore(ctx, []) : Skip;
    v.i32[(ptr + C.AFF_ON) / 4] = affState === Skip ? 0 : 1;
    const st = arr(C.STATIC);
    const tr = arr(C.TAINT_RAW);
    const ar = arr(C.AFF_RAW);
    const img = arr(C.IMG);
    let tooBig = false;
    // The static filters in profile order (their codes ascend with it), looked up once instead of per node.
    const statics = this.#profile.filters.flatMap((name, i) =>
      STATIC_FILTERS.has(name)
        ? [{ plugin: filterPlugins[name], state: cls.filterStates[i], code: this.#filterCode.get(name)! }]
        : [],
    );
    for (let n = 0; n < this.#nCap; n++) {
      const node = this.#nodes[n];
      if (!node) {
        v.i32[st + n] = 0;
        v.i32[tr + n] = 0;
        v.i32[ar + n] = 0;
        v.i32[img + n] = 0;
        continue;
      }
      let code = 0;
      if (allowed && !allowed.has(node.name)) code = CODE_ABSENT;
      else
        for (let i = 0; i < statics.length && code === 0; i++) {
          const f = statics[i]!;
          if (f.plugin.filter(ctx, f.state, node)) code = f.code;
        }
      v.i32[st + n] = code;
      const t = taintState === Skip ? 0 : scorePlugins.TaintToleration.score(ctx, taintState, node);
      const a = affState === Skip ? 0 : scorePlugins.NodeAffinity.score(ctx, affState, node);
      if (t >= HIST_CAP || a >= HIST_CAP || a < 0) tooBig = true;
      v.i32[tr + n] = t;
      v.i32[ar + n] = a;
      v.i32[img + n] = imgState === Skip ? 0 : scorePlugins.ImageLocality.score(ctx, imgState, node);
    }
    this.#finishRefresh(cls, h, tooBig);
  }

  /** The part of a static refresh that is the class's own (ports, index state, default spread selector). */
  #finishRefresh(cls: ClassState, h: Header, tooBig: boolean): void {
    this.#refreshPorts(cls, h, undefined);
    cls.epoch = this.#epoch;
    cls.indexed = false;
    cls.logPos = this.#logBase + this.#log.length;
    if (cls.defaultSelectorEpoch !== this.#epoch) {
      cls.hasDefaultSelector = this.#relations.hasSpreadConstraints(cls.info);
      cls.defaultSelectorEpoch = this.#epoch;
    }
    // Classes whose raw scores do not fit the histograms are scanned per pod instead of indexed.
    cls.histOverflow = tooBig;
  }

  /** NodePorts as an outside status (all nodes, or one); a full refresh also zeroes the outside scores. */
  #refreshPorts(cls: ClassState, h: Header, only: number | undefined): void {
    const v = this.wasm.views;
    const es = v.i32[(h.ptr + C.EXTRA_STATUS) / 4]! / 4;
    const code = this.#filterCode.get('NodePorts');
    const wants = cls.info.hostPorts;
    const check = (n: number) => {
      let conflict = false;
      if (code !== undefined && wants.length > 0) {
        const used = this.#portsBySlot.get(n);
        if (used)
          for (const want of wants)
            for (const u of used) {
              if (u.port !== want.port || u.protocol !== want.protocol) continue;
              if (want.ip === '0.0.0.0' || u.ip === '0.0.0.0' || u.ip === want.ip) conflict = true;
            }
      }
      v.i32[es + n] = conflict ? code! : 0;
    };
    if (only !== undefined) return check(only);
    if (code === undefined || wants.length === 0) v.i32.fill(0, es, es + this.#nCap);
    else for (let n = 0; n < this.#nCap; n++) check(n);
    // A full refresh also drops outside scores a previous full scan left behind.
    const xs = v.i32[(h.ptr + C.EXTRA_SCORE) / 4]! / 4;
    v.i32.fill(0, xs, xs + this.#nCap);
  }

  /** Present node slots in name order (valid after #updateRanks). */
  #byName: number[] = [];
  #scratchCodes = new Int32Array(0);
  #scratchReasons = new Uint8Array(0);
  #podDependentFilters: FilterPluginName[] = [];

  #updateRanks(): void {
    if (this.#scratchCodes.length < this.#nCap) {
      this.#scratchCodes = new Int32Array(this.#nCap);
      this.#scratchReasons = new Uint8Array(this.#nCap);
    }
    if (!this.#ranksDirty) return;
    const slots: number[] = [];
    for (let n = 0; n < this.#used; n++) if (this.#nodes[n]) slots.push(n);
    slots.sort((a, b) => {
      const x = this.#nodes[a]!.name;
      const y = this.#nodes[b]!.name;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const v = this.wasm.views;
    slots.forEach((s, i) => (v.i32[this.#rankPtr / 4 + s] = i));
    this.#byName = slots;
    this.#ranksDirty = false;
  }

  // ---- decisions ----------------------------------------------------------------------------------------------------

  #podDependent(cls: ClassState): boolean {
    return cls.ownPodDependent || this.#placedWithAffinity > 0 || cls.hasDefaultSelector;
  }

  /** Brings the class's index up to date with the nodes changed since it last looked. */
  #syncIndex(cls: ClassState, h: Header): void {
    // Nothing changed since the class last looked (e.g. the previous run was its own).
    if (cls.indexed && cls.logPos === this.#logBase + this.#log.length && this.#log.length <= 4 * this.#nCap) return;
    this.#catchUpIndex(cls, h);
  }

  #catchUpIndex(cls: ClassState, h: Header): void {
    const end = this.#logBase + this.#log.length;
    if (!cls.indexed || cls.logPos < this.#logBase || end - cls.logPos > this.#nCap / 4) {
      this.#refreshPorts(cls, h, undefined);
      this.#k.rebuildIndex(h.ptr);
    } else {
      const hasPorts = cls.info.hostPorts.length > 0;
      for (let i = cls.logPos - this.#logBase; i < this.#log.length; i++) {
        const n = this.#log[i]!;
        if (hasPorts) this.#refreshPorts(cls, h, n);
        if (this.#k.refreshNode(h.ptr, n) !== 0) {
          this.#k.rebuildIndex(h.ptr);
          break;
        }
      }
    }
    cls.indexed = true;
    cls.logPos = end;
    // Keep the change log short: classes that fall behind it rebuild.
    if (this.#log.length > 4 * this.#nCap) {
      this.#logBase += this.#log.length;
      this.#log = [];
      cls.logPos = this.#logBase;
    }
  }

  /**
   * PodTopologySpread and InterPodAffinity (pod-relations.ts) for the nodes that pass every other filter, given the
   * class's current failure codes in C_FAIL. With `indexed` their results go to C_PD_STATUS/C_PD_SCORE (the index
   * stays intact); otherwise into EXTRA_STATUS/EXTRA_SCORE for a full scan.
   */
  #podDependentPass(cls: ClassState, h: Header, indexed: boolean): PodDependentResult {
    const ptr = h.ptr;
    let i32 = this.wasm.views.i32;
    let es: number;
    let xs: number;
    if (indexed) {
      es = i32[(ptr + C.PD_STATUS) / 4]! / 4;
      xs = i32[(ptr + C.PD_SCORE) / 4]! / 4;
      i32.fill(0, es, es + this.#nCap);
    } else {
      this.#refreshPorts(cls, h, undefined);
      i32 = this.wasm.views.i32;
      es = i32[(ptr + C.EXTRA_STATUS) / 4]! / 4;
      xs = i32[(ptr + C.EXTRA_SCORE) / 4]! / 4;
      this.#k.filterClass(ptr);
    }
    i32.fill(0, xs, xs + this.#nCap);
    const fail = i32[(ptr + C.FAIL) / 4]! / 4;
    this.#updateRanks();
    const order = this.#byName;
    // Current first failure per node (0 = passes so far); the two plugins run in profile order where nothing
    // earlier failed, exactly like the framework's per-node loop. Reasons: index into a small table per node.
    const cur = this.#scratchCodes;
    const reasonIdx = this.#scratchReasons;
    const table: (readonly string[])[] = [];
    for (const n of order) {
      cur[n] = i32[fail + n]! & 0xff;
      reasonIdx[n] = 0;
    }
    for (const f of this.#podDependentFilters) {
      const code = this.#filterCode.get(f)!;
      let lastReasons: readonly string[] | undefined;
      let lastIdx = 0;
      const sink = (n: number, r: readonly string[]) => {
        if (r !== lastReasons) {
          lastIdx = table.indexOf(r) + 1 || table.push(r);
          lastReasons = r;
        }
        cur[n] = code;
        reasonIdx[n] = lastIdx;
        const prev = i32[es + n]!;
        i32[es + n] = prev === 0 || code < prev ? code : prev;
      };
      const candidates = { order, codes: cur, code };
      if (f === 'PodTopologySpread') this.#relations.spreadFilter(cls.info, candidates, sink);
      else this.#relations.affinityFilter(cls.info, candidates, sink);
    }
    const reasons = new Map<number, readonly string[]>();
    if (!indexed) for (const n of order) if (reasonIdx[n] !== 0) reasons.set(n, table[reasonIdx[n]! - 1]!);
    // Scores over the final feasible nodes, in name order as the reference passes them.
    const feasible: number[] = [];
    for (const n of order) if (cur[n] === 0) feasible.push(n);
    // A plugin that skips (undefined) scores 0 everywhere: nothing to add, explain reports zeros.
    const pluginScores = new Map<ScorePluginName, number[] | undefined>();
    for (const name of POD_DEPENDENT_SCORES) {
      if (!this.#weights.has(name)) continue;
      const scores =
        feasible.length === 0
          ? undefined
          : name === 'PodTopologySpread'
            ? this.#relations.spreadScores(cls.info, feasible)
            : this.#relations.affinityScores(cls.info, feasible);
      pluginScores.set(name, scores);
      if (!scores) continue;
      const w = this.#weights.get(name)!;
      for (let i = 0; i < feasible.length; i++) i32[xs + feasible[i]!] += w * scores[i]!;
    }
    return { reasons, feasible, pluginScores };
  }

  /**
   * The indexed pod-dependent pass in Wasm, when neither PodTopologySpread nor InterPodAffinity scores this pod: the
   * spreadFilter/affinityFilter kernels mark the nodes they reject in C_PD_STATUS (C_PD_SCORE stays 0). Returns
   * false, doing nothing, when a score may apply (then #podDependentPass runs).
   */
  #podDependentKernels(cls: ClassState, h: Header): boolean {
    if (this.#weights.has('PodTopologySpread') && !this.#relations.spreadScoreSkips(cls.info)) return false;
    if (this.#weights.has('InterPodAffinity') && !this.#relations.affinityScoreSkips(cls.info)) return false;
    const i32 = this.wasm.views.i32;
    const es = i32[(h.ptr + C.PD_STATUS) / 4]! / 4;
    const xs = i32[(h.ptr + C.PD_SCORE) / 4]! / 4;
    i32.fill(0, es, es + this.#nCap);
    i32.fill(0, xs, xs + this.#nCap);
    const put = this.#put();
    const filters = this.#podDependentFilters;
    for (let i = 0; i < filters.length; i++) {
      const f = filters[i];
      if (f === 'PodTopologySpread') {
        const spread = this.#relations.spreadProgram(cls, put);
        if (spread?.kernel === 'check') this.#k.spreadCheck(h.ptr, spread.prog);
        else if (spread) this.#k.spreadFilter(h.ptr, spread.prog);
      } else {
        const prog = this.#relations.affinityProgram(cls, put);
        if (prog !== undefined) this.#k.affinityFilter(h.ptr, prog);
      }
    }
    return true;
  }

  /** The kernel inputs of one pod (see kernel-inputs.ts). */
  #put(): WasmPut {
    const relaid = this.#putLayout !== this.#layoutEpoch;
    this.#putLayout = this.#layoutEpoch;
    return this.#inputs.begin(this.#nCap, relaid);
  }
  #inputs!: KernelInputs;
  #putLayout = -1;

  /** Decides one pod; returns the slot or -1 and, when unschedulable, the message. */
  #decide(cls: ClassState, hash: number): { slot: number; message?: string; pd?: PodDependentResult } {
    const h = this.#headerFor(cls);
    this.#refreshStatic(cls, h);
    if (this.#snapshot.size === 0) return { slot: -1, message: ErrNoNodesAvailable };
    if (cls.reject !== undefined)
      return { slot: -1, message: fitErrorMessage(this.#snapshot.size, [], undefined, cls.reject) };
    const salt = podTieSalt(this.#seed, hash);
    let slot: number;
    let pd: PodDependentResult | undefined;
    if (this.#podDependent(cls) && !cls.histOverflow) {
      // The index keeps every node's other filters and scores current; only the two pod-dependent plugins are
      // evaluated per pod, then combined in one pass (or a full scan when normalisation would differ).
      this.#syncIndex(cls, h);
      pd = this.#podDependentKernels(cls, h) ? undefined : this.#podDependentPass(cls, h, true);
      slot = this.#k.bestWithPodScores(h.ptr, salt);
      if (slot < -1) {
        pd = this.#podDependentPass(cls, h, false);
        slot = this.#k.scanClass(h.ptr, salt);
        cls.indexed = false;
      }
      if (slot < 0) {
        // The message needs every node's reasons from a full evaluation.
        pd = this.#podDependentPass(cls, h, false);
        this.#k.scanClass(h.ptr, salt);
        cls.indexed = false;
      }
    } else if (this.#podDependent(cls)) {
      pd = this.#podDependentPass(cls, h, false);
      slot = this.#k.scanClass(h.ptr, salt);
      cls.indexed = false;
    } else if (cls.histOverflow) {
      this.#refreshPorts(cls, h, undefined);
      slot = this.#k.scanClass(h.ptr, salt);
      cls.indexed = false;
    } else {
      this.#syncIndex(cls, h);
      slot = this.#k.bestIndexed(h.ptr, salt);
      if (slot < 0) this.#k.scanClass(h.ptr, salt); // fills the failure codes for the message
    }
    if (slot >= 0) return { slot, pd };
    return { slot: -1, message: this.#message(cls, h, pd), pd };
  }

  /** Reasons of node n from its failure code (after a scan). */
  #nodeReasons(cls: ClassState, h: Header, n: number, pd: PodDependentResult | undefined): string[] {
    const v = this.wasm.views;
    const f = v.i32[v.i32[(h.ptr + C.FAIL) / 4]! / 4 + n]!;
    const code = f & 0xff;
    if (code === CODE_ABSENT) return [cls.absentReason];
    const name = this.#profile.filters[code - 2]!;
    if (name === 'NodeResourcesFit') {
      const mask = f >>> 8;
      const out: string[] = [];
      if (mask & (1 << SLOT_PODS)) out.push('Too many pods');
      for (const s of [0, 1, 2]) if (mask & (1 << s)) out.push(`Insufficient ${this.#resourceOfSlot[s]}`);
      const scalars: string[] = [];
      for (let s = FIXED_SLOTS; s < this.#resourceOfSlot.length; s++)
        if (mask & (1 << s)) scalars.push(this.#resourceOfSlot[s]!);
      for (const r of scalars.sort()) out.push(`Insufficient ${r}`);
      return out;
    }
    if (name === 'NodePorts') return [ErrReasonPorts];
    if (STATIC_FILTERS.has(name)) {
      const i = this.#profile.filters.indexOf(name);
      return filterPlugins[name].filter(this.#ctx(cls), cls.filterStates[i], this.#nodes[n]!) ?? [];
    }
    return [...(pd?.reasons.get(n) ?? [])];
  }

  #message(cls: ClassState, h: Header, pd: PodDependentResult | undefined): string {
    const v = this.wasm.views;
    const fail = v.i32[(h.ptr + C.FAIL) / 4]! / 4;
    const evaluated: string[][] = [];
    let absent = 0;
    for (let n = 0; n < this.#nCap; n++) {
      if (!this.#nodes[n]) continue;
      if ((v.i32[fail + n]! & 0xff) === CODE_ABSENT) absent++;
      else evaluated.push(this.#nodeReasons(cls, h, n, pd));
    }
    return fitErrorMessage(this.#snapshot.size, evaluated, { count: absent, reason: cls.absentReason });
  }

  /** Schedules pods one after another; each placement is visible to the next decision. */
  schedule(
    classIds: Int32Array,
    hashes: Uint32Array,
    keys: string[],
    repeats: Uint8Array,
  ): { slots: Int32Array; messages: Record<number, string> } {
    const slots = new Int32Array(classIds.length);
    const messages: Record<number, string> = {};
    for (let i = 0; i < classIds.length;) {
      const cls = this.#class(classIds[i]!);
      const run = this.#runLength(cls, classIds, keys, repeats, i);
      if (run > 0) {
        const placed = this.#scheduleRun(cls, hashes, keys, i, run, slots);
        i += placed;
        if (placed === run) continue;
        // Pod i fits nowhere: the per-pod path below writes its message.
      }
      const d = this.#decide(cls, hashes[i]!);
      slots[i] = d.slot;
      if (d.slot < 0) {
        // An unschedulable pod is remembered as not placed (as the reference's upsert of a pending pod would not be).
        messages[i] = d.message!;
      } else {
        this.#place(keys[i]!, cls.id, d.slot, this.#nodes[d.slot]!.name);
      }
      i++;
    }
    return { slots, messages };
  }

  /**
   * How many pods from `from` on can be decided by one Wasm call (scheduleRun): the same class, one whose decisions
   * depend only on node state (its index covers everything), and pods not placed already (moving one would change
   * a node mid-run). 0 when pod `from` needs the per-pod path.
   */
  #runLength(cls: ClassState, classIds: Int32Array, keys: string[], repeats: Uint8Array, from: number): number {
    if (cls.ownPodDependent || cls.hasAffinity || cls.info.hostPorts.length > 0 || this.#snapshot.size === 0) return 0;
    const h = this.#headerFor(cls);
    this.#refreshStatic(cls, h);
    if (cls.reject !== undefined || cls.histOverflow || this.#podDependent(cls)) return 0;
    let j = from;
    while (j < classIds.length && classIds[j] === cls.id && repeats[j] === 0 && !this.#placements.has(keys[j]!)) j++;
    return j - from;
  }
  #runPtr = 0;
  #runCap = 0;
  #runLayout = -1;

  /** Pods [from, from + count) of one class through scheduleRun; returns how many were placed (in order). */
  #scheduleRun(
    cls: ClassState,
    hashes: Uint32Array,
    keys: string[],
    from: number,
    count: number,
    slots: Int32Array,
  ): number {
    const h = this.#headerFor(cls);
    this.#syncIndex(cls, h);
    if (this.#runCap < count || this.#runLayout !== this.#layoutEpoch) {
      this.#runCap = Math.max(count, 1024);
      this.#runPtr = this.#arena.alloc(this.#runCap * 8);
      this.#runLayout = this.#layoutEpoch;
    }
    const podHashes = this.#runPtr;
    const out = this.#runPtr + this.#runCap * 4;
    // The kernel derives each pod's tie salt (podTieSalt's twin, tieSalt) from its key hash.
    this.wasm.views.u32.set(hashes.subarray(from, from + count), podHashes / 4);
    const placed = this.#k.scheduleRun(h.ptr, podHashes, this.#seed, out, count);
    const i32 = this.wasm.views.i32;
    const base = cls.id * SLOT_SPAN;
    slots.set(i32.subarray(out / 4, out / 4 + placed), from);
    // What #place does, minus the requests the kernel already added.
    for (let k = 0; k < placed; k++) {
      const slot = slots[from + k]!;
      this.#placements.set(keys[from + k]!, base + slot);
      this.#log.push(slot);
    }
    this.#relations.placeMany(slots, from, placed, cls);
    // The run re-indexed every node it changed for this class.
    cls.logPos = this.#logBase + this.#log.length;
    return placed;
  }

  /** The full evaluation of one pod without changing anything. */
  explain(classId: number, hash: number): Explanation {
    const cls = this.#class(classId);
    const out: Explanation = { feasible: [], filtered: {}, scores: {}, total: {} };
    for (const s of this.#profile.scores) out.scores[s.name] = {};
    const h = this.#headerFor(cls);
    this.#refreshStatic(cls, h);
    if (this.#snapshot.size === 0) return { ...out, reasons: [ErrNoNodesAvailable] };
    this.#updateRanks();
    const order: number[] = [];
    for (let n = 0; n < this.#used; n++) if (this.#nodes[n]) order.push(n);
    const v0 = this.wasm.views;
    order.sort((a, b) => v0.i32[this.#rankPtr / 4 + a]! - v0.i32[this.#rankPtr / 4 + b]!);
    if (cls.reject !== undefined) {
      for (const n of order) out.filtered[this.#nodes[n]!.name] = [cls.reject];
      return { ...out, reasons: [fitErrorMessage(order.length, [], undefined, cls.reject)] };
    }
    const salt = podTieSalt(this.#seed, hash);
    let pd: PodDependentResult | undefined;
    let slot: number;
    if (this.#podDependent(cls)) {
      pd = this.#podDependentPass(cls, h, false);
    } else {
      this.#refreshPorts(cls, h, undefined);
      v0.i32.fill(0, v0.i32[(h.ptr + C.EXTRA_SCORE) / 4]! / 4, v0.i32[(h.ptr + C.EXTRA_SCORE) / 4]! / 4 + this.#nCap);
    }
    slot = this.#k.scanClass(h.ptr, salt);
    cls.indexed = false;
    const v = this.wasm.views;
    const a = (off: number) => v.i32[(h.ptr + off) / 4]! / 4;
    const fail = a(C.FAIL);
    const score = a(C.SCORE);
    const outs: [ScorePluginName, number][] = [
      ['NodeResourcesFit', a(C.OUT_FIT)],
      ['NodeResourcesBalancedAllocation', a(C.OUT_BAL)],
      ['TaintToleration', a(C.OUT_TAINT)],
      ['NodeAffinity', a(C.OUT_AFF)],
      ['ImageLocality', a(C.IMG)],
    ];
    const feasibleRank = new Map<number, number>();
    pd?.feasible.forEach((n, i) => feasibleRank.set(n, i));
    for (const n of order) {
      const name = this.#nodes[n]!.name;
      if (v.i32[fail + n] !== 0) {
        out.filtered[name] = this.#nodeReasons(cls, h, n, pd);
        continue;
      }
      out.feasible.push(name);
      for (const [plugin, base] of outs) if (this.#weights.has(plugin)) out.scores[plugin]![name] = v.i32[base + n]!;
      if (pd)
        for (const [plugin, scores] of pd.pluginScores)
          out.scores[plugin]![name] = scores ? scores[feasibleRank.get(n)!]! : 0;
      else for (const plugin of POD_DEPENDENT_SCORES) if (this.#weights.has(plugin)) out.scores[plugin]![name] = 0;
      out.total[name] = v.i32[score + n]!;
    }
    if (slot < 0) return { ...out, reasons: [this.#message(cls, h, pd)] };
    out.node = this.#nodes[slot]!.name;
    return out;
  }

  /** Bytes of linear memory in use. */
  get memoryBytes(): number {
    return this.wasm.memory.buffer.byteLength;
  }
}

interface PodDependentResult {
  reasons: Map<number, readonly string[]>;
  /** Feasible slots in name order. */
  feasible: number[];
  /** Normalised scores per feasible node, undefined when the plugin skipped (0 everywhere). */
  pluginScores: Map<ScorePluginName, number[] | undefined>;
}
