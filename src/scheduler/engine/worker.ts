// The engine's piscina worker: owns one EngineState (Wasm node table and classes) and runs tasks in arrival order.
import { workerData } from 'piscina';
import { EngineState } from './state.js';
import type { InitData, Task } from './messages.js';

let state: EngineState | undefined;

export default function run(task: Task): unknown {
  const init = workerData as InitData;
  state ??= new EngineState(init.profile, init.seed);
  return runTask(state, task);
}

function splitKeys(text: string, ends: Uint32Array): string[] {
  const keys: string[] = new Array(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    keys[i] = text.slice(start, ends[i]);
    start = ends[i]!;
  }
  return keys;
}

/** Shared by the worker and the in-thread mode. */
export function runTask(state: EngineState, task: Task): unknown {
  state.apply(task.ops);
  switch (task.kind) {
    case 'schedule':
      return state.schedule(task.classIds, task.hashes, splitKeys(task.keyText, task.keyEnds), task.repeats);
    case 'explain':
      return state.explain(task.classId, task.hash);
    case 'sync':
      return { memoryBytes: state.memoryBytes };
  }
}
