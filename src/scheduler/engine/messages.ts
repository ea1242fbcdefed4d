// Messages between the Wasm engine's main-thread side and its worker: cluster deltas (flattened once on the main
// thread) and scheduling batches. Plain data only, so they cross postMessage by structured clone.
import type { Node, Pod, Profile, Workload } from '../types.js';

/** A node as the worker needs it: identity, labels, taints, images; allocatable already parsed to numbers. */
export interface FlatNode {
  slot: number;
  /** Only metadata.name/labels, spec.taints/unschedulable and status.images are kept. */
  node: Node;
  /** [resource name, amount] with cpu in millicores, everything else in whole units. */
  allocatable: [string, number][];
}

/** An equivalence class: pods with the same namespace, labels, owner and scheduling-relevant spec. */
export interface FlatClass {
  id: number;
  /** A representative pod (metadata.namespace/labels/ownerReferences and the spec; no name). */
  pod: Pod;
}

export type Op =
  | { op: 'node'; node: FlatNode }
  | { op: 'removeNode'; slot: number }
  | { op: 'class'; cls: FlatClass }
  /** A pod bound to a node (slot -1: known but not placed; it stops counting where it was). */
  | { op: 'place'; key: string; classId: number; slot: number; nodeName?: string }
  | { op: 'unplace'; key: string }
  | { op: 'workload'; workload: Workload }
  | { op: 'removeWorkload'; kind: Workload['kind']; namespace: string; name: string };

export interface InitData {
  profile: Profile;
  seed: number;
}

/** A batch: pending deltas, then pods decided one after another (each sees the previous placements). */
export interface ScheduleTask {
  kind: 'schedule';
  ops: Op[];
  classIds: Int32Array;
  /** fnv1a32("namespace/name") per pod. */
  hashes: Uint32Array;
  /** The pods' keys concatenated (one string crosses the thread boundary far cheaper than thousands). */
  keyText: string;
  /** End offset of each key in keyText. */
  keyEnds: Uint32Array;
  /** 1 where the pod's key already appeared earlier in the batch. */
  repeats: Uint8Array;
}

export interface ScheduleReply {
  /** Node slot per pod, -1 when unschedulable. */
  slots: Int32Array;
  /** Unschedulable message per pod index. */
  messages: Record<number, string>;
}

export interface ExplainTask {
  kind: 'explain';
  ops: Op[];
  classId: number;
  hash: number;
}

export interface SyncTask {
  kind: 'sync';
  ops: Op[];
}

export type Task = ScheduleTask | ExplainTask | SyncTask;
