// Reads the node's /etc/resolv.conf and writes a pod's, following kubelet's dnsPolicy rules
// (pkg/kubelet/network/dns/dns.go: ClusterFirst, ClusterFirstWithHostNet, Default, None, dnsConfig merge).
import { readFileSync } from 'node:fs';

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[]; // "ndots:5", "edns0", …
}

/** kubelet limits (validation.MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars). */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_CHARS = 2048;

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [word, ...rest] = line.split(/\s+/);
    if (word === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    // The last search/domain line wins, as in resolv.conf(5).
    else if (word === 'search' || word === 'domain') out.searches = rest.map((s) => s.replace(/\.$/, ''));
    else if (word === 'options') out.options.push(...rest);
  }
  return out;
}

/** The node's upstream resolvers (what cluster DNS forwards to); empty when the file is missing. */
export function hostResolvConf(path = '/etc/resolv.conf'): ResolvConf {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { nameservers: [], searches: [], options: [] };
  }
}

export interface PodDnsInput {
  namespace: string;
  dnsPolicy?: 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None' | string;
  hostNetwork?: boolean;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  /** kubelet --cluster-dns: the DNS Service IP(s). */
  clusterDNS: string[];
  /** kubelet --cluster-domain. */
  clusterDomain?: string;
  /** The node's resolv.conf, used for policy Default and appended search domains. */
  host?: ResolvConf;
}

function uniq(list: string[]): string[] {
  return [...new Set(list)];
}

function mergeOptions(base: string[], extra: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0]!, o);
  for (const o of extra) byName.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/** The resolver configuration kubelet gives a pod. */
export function podResolvConf(input: PodDnsInput): ResolvConf {
  const domain = (input.clusterDomain ?? 'cluster.local').replace(/\.$/, '');
  const host = input.host ?? { nameservers: [], searches: [], options: [] };
  let policy = input.dnsPolicy ?? 'ClusterFirst';
  // ClusterFirst on the host network behaves as Default; so does any cluster policy without cluster DNS.
  if (policy === 'ClusterFirst' && input.hostNetwork) policy = 'Default';
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && input.clusterDNS.length === 0) {
    policy = 'Default';
  }
  let conf: ResolvConf;
  if (policy === 'None') conf = { nameservers: [], searches: [], options: [] };
  else if (policy === 'Default') conf = { ...host, options: [...host.options] };
  else {
    conf = {
      nameservers: [...input.clusterDNS],
      searches: [`${input.namespace}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches],
      options: ['ndots:5'],
    };
  }
  const dc = input.dnsConfig;
  if (dc) {
    conf.nameservers = [...conf.nameservers, ...(dc.nameservers ?? [])];
    conf.searches = [...conf.searches, ...(dc.searches ?? [])];
    conf.options = mergeOptions(conf.options, dc.options ?? []);
  }
  conf.nameservers = uniq(conf.nameservers).slice(0, MAX_NAMESERVERS);
  conf.searches = uniq(conf.searches).slice(0, MAX_SEARCH_PATHS);
  while (conf.searches.join(' ').length > MAX_SEARCH_CHARS) conf.searches.pop();
  return conf;
}

export function renderResolvConf(conf: ResolvConf): string {
  const lines = conf.nameservers.map((ns) => `nameserver ${ns}`);
  if (conf.searches.length) lines.push(`search ${conf.searches.join(' ')}`);
  if (conf.options.length) lines.push(`options ${conf.options.join(' ')}`);
  return lines.join('\n') + '\n';
}
