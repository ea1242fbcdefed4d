// The piscina worker that fills Maglev table batches in Wasm; one kernel instance per worker thread.
import { move } from 'piscina';
import { LbKernel } from './wasm.js';

let kernel: LbKernel | undefined;

/** Input and output are transferred (see batch.ts for the format). */
export default function fillTables(input: Int32Array): Int32Array {
  kernel ??= new LbKernel();
  return move(kernel.fillBatch(input)) as unknown as Int32Array;
}
