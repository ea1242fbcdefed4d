// Runs the controllers inside `skiff up` on an in-process client of the API server (the direct transport).
import type { ApiServer } from '../apiserver/server.js';
import { createClient } from '../client/create.js';
import { startControllers, type RunningControllers } from './index.js';

/** Starts every controller (or `names`) on an in-process admin client; stop() also releases the client. */
export async function startInProcessControllers(server: ApiServer, names?: string[]): Promise<RunningControllers> {
  const client = createClient({
    inject: server.fastify,
    token: server.adminToken,
    userAgent: 'skiff-controller-manager',
  });
  const running = await startControllers({ client, log: (line) => process.stderr.write(`skiff ${line}\n`) }, names);
  return {
    controllers: running.controllers,
    async stop() {
      await running.stop();
      await client.close();
    },
  };
}
