// Reads a kubeconfig file into what the HTTP transport needs: server URL, credentials, CA and default namespace.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as yaml from 'js-yaml';

export interface ConnectionConfig {
  server: string;
  token?: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  insecureSkipTlsVerify?: boolean;
  namespace?: string;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Dict = Record<string, unknown>;

/** Default path like kubectl: $KUBECONFIG (first entry) or ~/.kube/config. */
export function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG?.split(':').find((p) => p);
  return env ?? resolve(process.env.HOME ?? '.', '.kube', 'config');
}

export function loadKubeconfig(path = defaultKubeconfigPath(), contextName?: string): ConnectionConfig {
  const text = readFileSync(path, 'utf8');
  const doc = (yaml.load(text) ?? {}) as Dict;
  const base = dirname(resolve(path));
  const find = <T>(list: unknown, name: unknown, what: string): T => {
    const found = (Array.isArray(list) ? (list as Named<T>[]) : []).find((x) => x.name === name);
    if (!found) throw new Error(`kubeconfig ${path}: ${what} "${String(name)}" not found`);
    return (found[what as 'cluster'] ?? {}) as T;
  };
  const ctxName = contextName ?? (doc['current-context'] as string | undefined);
  if (!ctxName) throw new Error(`kubeconfig ${path}: no current-context`);
  const ctx = find<Dict>(doc.contexts, ctxName, 'context');
  const cluster = find<Dict>(doc.clusters, ctx.cluster, 'cluster');
  const user = ctx.user ? find<Dict>(doc.users, ctx.user, 'user') : {};
  const file = (p: unknown) => readFileSync(resolve(base, String(p)));
  const data = (b64: unknown) => Buffer.from(String(b64), 'base64');
  if (typeof cluster.server !== 'string') throw new Error(`kubeconfig ${path}: cluster has no server`);
  const cfg: ConnectionConfig = { server: cluster.server.replace(/\/+$/, '') };
  if (cluster['certificate-authority-data']) cfg.ca = data(cluster['certificate-authority-data']);
  else if (cluster['certificate-authority']) cfg.ca = file(cluster['certificate-authority']);
  if (cluster['insecure-skip-tls-verify']) cfg.insecureSkipTlsVerify = true;
  if (typeof user.token === 'string') cfg.token = user.token;
  else if (user.tokenFile) cfg.token = file(user.tokenFile).toString('utf8').trim();
  if (user['client-certificate-data']) cfg.cert = data(user['client-certificate-data']);
  else if (user['client-certificate']) cfg.cert = file(user['client-certificate']);
  if (user['client-key-data']) cfg.key = data(user['client-key-data']);
  else if (user['client-key']) cfg.key = file(user['client-key']);
  if (typeof ctx.namespace === 'string') cfg.namespace = ctx.namespace;
  return cfg;
}
