// createClient: picks the transport (kubeconfig / explicit server / in-process fastify) and returns a Client.
import type { Client } from './types.js';

export type ClientConfig =
  | { kubeconfig?: string; context?: string }
  | { server: string; token?: string; ca?: string | Buffer; insecureSkipTlsVerify?: boolean }
  | { inject: unknown; token?: string };

export function createClient(config: ClientConfig = {}): Client {
  throw new Error('not implemented yet');
}
