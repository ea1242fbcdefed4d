// Test helpers for controllers: an API server on loopback with the controllers on its in-process client.
import type { Test } from 'tap';
import { createClient } from '../../src/client/create.js';
import type { Client, KubeObject, ResourceAddress } from '../../src/client/types.js';
import { startControllers, type RunningControllers } from '../../src/controllers/index.js';
import { startTestServer, type TestServer } from '../apiserver/helpers.js';

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ControllerEnv {
  ts: TestServer;
  client: Client;
  controllers: RunningControllers | undefined;
  /** (Re)starts the named controllers on the in-process client. */
  startControllers(names?: string[]): Promise<RunningControllers>;
  stopControllers(): Promise<void>;
  /** Controller log lines so far. */
  logs: string[];
}

export async function controllerEnv(t: Test, names?: string[]): Promise<ControllerEnv> {
  const ts = await startTestServer(t);
  const client = createClient({ inject: ts.server.fastify, token: ts.server.adminToken, userAgent: 'test' });
  const logs: string[] = [];
  const env: ControllerEnv = {
    ts,
    client,
    controllers: undefined,
    logs,
    async startControllers(n = names) {
      env.controllers = await startControllers({ client, log: (l) => logs.push(l) }, n);
      return env.controllers;
    },
    async stopControllers() {
      await env.controllers?.stop();
      env.controllers = undefined;
    },
  };
  // Stop the controllers before the server closes (teardowns run in reverse order).
  t.teardown(() => env.stopControllers());
  if (names !== undefined) await env.startControllers(names);
  return env;
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `ms`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The object, or undefined when the server answers 404. */
export async function getOrUndefined(client: Client, res: ResourceAddress, name: string): Promise<Obj | undefined> {
  try {
    return (await client.get(res, name)) as Obj;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

export function ownerRef(owner: KubeObject, extra: Obj = {}): Obj {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata!.name,
    uid: owner.metadata!.uid,
    ...extra,
  };
}
