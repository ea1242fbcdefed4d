// The shape every controller shares: a name, start (informers synced, workers running) and stop, built from a context.
import type { Client } from '../client/types.js';

/** What a controller gets from whoever runs it (`skiff up` in-process, or a separate controller manager). */
export interface ControllerContext {
  /** The only way to the cluster: in `skiff up` an in-process (inject) client, elsewhere HTTP(S). */
  client: Client;
  log: (line: string) => void;
  /** Concurrent workers per queue (kube-controller-manager's --concurrent-*-syncs). */
  workers?: number;
}

export interface Controller {
  readonly name: string;
  /** Starts informers and workers; resolves once the informers have synced (work may already be running). */
  start(): Promise<void>;
  /** Stops informers and workers; resolves when in-flight work has finished. */
  stop(): Promise<void>;
}

export type ControllerFactory = (ctx: ControllerContext) => Controller;
