// Writes the admin kubeconfig (server URL, CA data, bearer token) that kubectl and client-node use unchanged.
import { writeFileSync } from 'node:fs';
import * as yaml from 'js-yaml';

export function kubeconfigYaml(server: string, token: string, caPem?: string): string {
  const cluster: Record<string, unknown> = { server };
  if (caPem) cluster['certificate-authority-data'] = Buffer.from(caPem).toString('base64');
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'skiff', cluster }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'skiff', context: { cluster: 'skiff', user: 'admin', namespace: 'default' } }],
    'current-context': 'skiff',
    preferences: {},
  });
}

export function writeKubeconfig(path: string, server: string, token: string, caPem?: string): void {
  writeFileSync(path, kubeconfigYaml(server, token, caPem), { mode: 0o600 });
}
