// The controllers and what runs them: a table of factories (like kube-controller-manager's) and startControllers.
import type { Controller, ControllerContext, ControllerFactory } from './controller.js';
import { GarbageCollector } from './gc/collector.js';
import { PodGarbageCollector } from './podgc.js';

export type { Controller, ControllerContext, ControllerFactory } from './controller.js';
export { GarbageCollector } from './gc/collector.js';
export { PodGarbageCollector } from './podgc.js';
export type { PodGcOptions } from './podgc.js';
export { WorkQueue, runWorkers } from './queue.js';
export type { SyncResult } from './queue.js';
export { RestMapper } from './mapper.js';

/** Every controller skiff has, by upstream name (kube-controller-manager --controllers). */
export const controllerTable: Record<string, ControllerFactory> = {
  garbagecollector: (ctx) => new GarbageCollector(ctx),
  podgc: (ctx) => new PodGarbageCollector(ctx),
};

export interface RunningControllers {
  controllers: Controller[];
  stop(): Promise<void>;
}

/**
 * Starts the named controllers (default: all) and resolves once each has synced. A controller that fails to start
 * is logged and left out; the others keep running.
 */
export async function startControllers(
  ctx: ControllerContext,
  names: string[] = Object.keys(controllerTable),
): Promise<RunningControllers> {
  const controllers: Controller[] = [];
  for (const name of names) {
    const factory = controllerTable[name];
    if (!factory) throw new Error(`unknown controller "${name}" (known: ${Object.keys(controllerTable).join(', ')})`);
    controllers.push(factory(ctx));
  }
  const ok = await Promise.all(
    controllers.map(async (c) => {
      try {
        await c.start();
        return true;
      } catch (e) {
        ctx.log(`controller ${c.name}: failed to start: ${(e as Error).message}`);
        await c.stop().catch(() => {});
        return false;
      }
    }),
  );
  const started = controllers.filter((_, i) => ok[i]);
  return {
    controllers: started,
    async stop() {
      await Promise.all(started.map((c) => c.stop()));
    },
  };
}
