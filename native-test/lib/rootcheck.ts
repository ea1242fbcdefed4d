// Proves a native test left the root network namespace alone: snapshots its nft ruleset, iptables rules,
// routes, rules and links before the test and compares after.
import { run } from './netns.js';

export interface RootSnapshot {
  nft: string;
  iptables: string;
  routes: string;
  rules: string;
  links: string;
  addresses: string;
}

async function text(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 30_000 });
  // A missing tool reads as its error text; the comparison still holds because it is the same both times.
  return r.code === 0 ? r.stdout : `(${cmd} failed: ${r.stderr.trim()})`;
}

/** Drops what changes by itself (counters, link statistics, route cache expiry) and sorts lines. */
function stable(s: string): string {
  return s
    .split('\n')
    .map((l) =>
      l
        .replace(/packets \d+ bytes \d+/g, 'packets _ bytes _')
        .replace(/\[\d+:\d+\]/g, '[_:_]')
        .replace(/expires \d+sec/g, 'expires _')
        .replace(/ (state|qlen) \S+/g, ''),
    )
    .filter((l) => l.trim() !== '')
    .sort()
    .join('\n');
}

export async function snapshotRoot(): Promise<RootSnapshot> {
  const [nft, iptables, routes4, routes6, rules, links, addresses] = await Promise.all([
    text('nft', ['list', 'ruleset']),
    text('iptables-save', []),
    text('ip', ['-4', 'route', 'show', 'table', 'all']),
    text('ip', ['-6', 'route', 'show', 'table', 'all']),
    text('ip', ['rule', 'show']),
    text('ip', ['-o', 'link', 'show']),
    text('ip', ['-o', 'addr', 'show']),
  ]);
  // iptables-save prints a timestamp comment; drop comment lines.
  const ipt = iptables
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  return {
    nft: stable(nft),
    iptables: stable(ipt),
    routes: stable(routes4 + '\n' + routes6),
    rules: stable(rules),
    links: stable(links.replace(/\\\s+link\/.*$/gm, '')),
    addresses: stable(addresses.replace(/valid_lft \S+ preferred_lft \S+/g, '')),
  };
}

/** Names of the parts that differ between two snapshots. */
export function rootDiff(before: RootSnapshot, after: RootSnapshot): string[] {
  return (Object.keys(before) as (keyof RootSnapshot)[]).filter((k) => before[k] !== after[k]);
}

/** The interface names in the root namespace whose name carries `marker` (e.g. a harness id). */
export function linksMentioning(snapshot: RootSnapshot, marker: string): string[] {
  return snapshot.links.split('\n').filter((l) => l.includes(marker));
}
