// kube-proxy-style iptables rules for one service port (for hosts without nftables): chains per service port
// and endpoint, `statistic` for random spreading, `recent` for ClientIP affinity, marks for masquerading.
import { createHash } from 'node:crypto';
import type { EndpointState, ServicePortState } from '../types.js';

export const MARK = '0x4000';
export const SERVICES = 'SKIFF-SERVICES';
export const NODEPORTS = 'SKIFF-NODEPORTS';
export const EXTERNAL_CHECK = 'SKIFF-EP-CHECK';
export const MARK_MASQ = 'SKIFF-MARK-MASQ';
export const POSTROUTING = 'SKIFF-POSTROUTING';

/** Chain name: prefix + 16 base32 chars of sha256(identity), within iptables' 28-character limit. */
export function chainName(prefix: 'SKIFF-SVC-' | 'SKIFF-EXT-' | 'SKIFF-SEP-', identity: string): string {
  const digest = createHash('sha256').update(identity).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === 16) break;
  }
  return prefix + out;
}

/** What one service port puts into the shared chains and which chains of its own it has. */
export interface PortRules {
  /** nat SKIFF-SERVICES lines. */
  services: string[];
  /** nat SKIFF-NODEPORTS lines. */
  nodePorts: string[];
  /** filter SKIFF-EP-CHECK lines (reject/drop for no endpoints). */
  checks: string[];
  /** Own nat chains: name → rules. */
  chains: Map<string, string[]>;
}

function isIPv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

export function portRules(s: ServicePortState, nodeIPs: readonly string[]): PortRules {
  const out: PortRules = { services: [], nodePorts: [], checks: [], chains: new Map() };
  const p = s.protocol;
  const comment = `-m comment --comment "${s.namespace}/${s.name}:${s.portName}"`;
  const affinity = s.affinityTimeoutSeconds;

  /** A chain spreading to `eps` (and their endpoint chains); returns its name. */
  const spread = (prefix: 'SKIFF-SVC-' | 'SKIFF-EXT-', eps: readonly EndpointState[]): string => {
    const name = chainName(prefix, `${s.key}/${eps.map((e) => `${e.ip}:${e.port}`).join(',')}`);
    if (out.chains.has(name)) return name;
    const rules: string[] = [];
    const seps = eps.map((e) => chainName('SKIFF-SEP-', `${s.key}/${e.ip}:${e.port}`));
    if (affinity !== undefined) {
      seps.forEach((sep) =>
        rules.push(
          `-A ${name} ${comment} -m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinity} --reap -j ${sep}`,
        ),
      );
    }
    eps.forEach((_, i) => {
      const left = eps.length - i;
      // Each rule takes 1/left of what reaches it, so every endpoint gets 1/n overall.
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
      rules.push(`-A ${name} ${comment}${stat} -j ${seps[i]}`);
    });
    out.chains.set(name, rules);
    eps.forEach((e, i) => {
      const sep = seps[i]!;
      const r = [`-A ${sep} ${comment} -s ${e.ip}/32 -j ${MARK_MASQ}`];
      if (affinity !== undefined)
        r.push(`-A ${sep} ${comment} -m recent --name ${sep} --mask 255.255.255.255 --rsource --set`);
      r.push(`-A ${sep} ${comment} -m ${p} -p ${p} -j DNAT --to-destination ${e.ip}:${e.port}`);
      out.chains.set(sep, r);
    });
    return name;
  };

  const cluster = s.clusterEndpoints.filter((e) => isIPv4(e.ip));
  const external = s.externalEndpoints.filter((e) => isIPv4(e.ip));
  const none = (action: 'reject' | 'drop') => (action === 'drop' ? 'DROP' : 'REJECT');
  for (const ip of s.clusterIPs.filter(isIPv4)) {
    const match = `-d ${ip}/32 -p ${p} -m ${p} --dport ${s.port}`;
    if (cluster.length) out.services.push(`-A ${SERVICES} ${comment} ${match} -j ${spread('SKIFF-SVC-', cluster)}`);
    else out.checks.push(`-A ${EXTERNAL_CHECK} ${comment} ${match} -j ${none(s.clusterNoEndpoints)}`);
  }
  for (const ip of [...s.externalIPs, ...s.loadBalancerIPs].filter(isIPv4)) {
    const match = `-d ${ip}/32 -p ${p} -m ${p} --dport ${s.port}`;
    if (!external.length) {
      out.checks.push(`-A ${EXTERNAL_CHECK} ${comment} ${match} -j ${none(s.externalNoEndpoints)}`);
      continue;
    }
    if (!s.externalPolicyLocal) out.services.push(`-A ${SERVICES} ${comment} ${match} -j ${MARK_MASQ}`);
    out.services.push(`-A ${SERVICES} ${comment} ${match} -j ${spread('SKIFF-EXT-', external)}`);
  }
  if (s.nodePort !== undefined) {
    const match = `-p ${p} -m ${p} --dport ${s.nodePort}`;
    if (!external.length) {
      for (const ip of nodeIPs) {
        out.checks.push(`-A ${EXTERNAL_CHECK} ${comment} -d ${ip}/32 ${match} -j ${none(s.externalNoEndpoints)}`);
      }
    } else {
      if (!s.externalPolicyLocal) out.nodePorts.push(`-A ${NODEPORTS} ${comment} ${match} -j ${MARK_MASQ}`);
      out.nodePorts.push(`-A ${NODEPORTS} ${comment} ${match} -j ${spread('SKIFF-EXT-', external)}`);
    }
  }
  return out;
}
