// The iptables data plane (hosts without nftables): iptables-restore --noflush, rewriting only the chains whose
// rules changed plus the top-level dispatch chains (kube-proxy's KEP-3453 approach), deleting stale ones.
import { runCommand, type CommandOptions } from '../nftables/backend.js';
import type { DataPlane, SyncReport } from '../dataplane.js';
import type { ServicePortState } from '../types.js';
import {
  EXTERNAL_CHECK,
  MARK,
  MARK_MASQ,
  NODEPORTS,
  POSTROUTING,
  SERVICES,
  portRules,
  type PortRules,
} from './rules.js';

export interface IptablesDataPlaneOptions {
  nodeIPs: string[];
  /** Run the iptables commands in this namespace (default: the process's own). */
  netns?: string;
  /** Replaces command execution (tests): receives argv and stdin. */
  exec?: (argv: string[], input: string) => Promise<string>;
}

/** Jumps from the built-in chains into skiff's, checked (-C) and inserted (-I) when missing on a full sync. */
const JUMPS: [table: string, chain: string, args: string][] = [
  ['nat', 'PREROUTING', `-j ${SERVICES}`],
  ['nat', 'OUTPUT', `-j ${SERVICES}`],
  ['nat', 'POSTROUTING', `-j ${POSTROUTING}`],
  ['filter', 'INPUT', `-m conntrack --ctstate NEW -j ${EXTERNAL_CHECK}`],
  ['filter', 'FORWARD', `-m conntrack --ctstate NEW -j ${EXTERNAL_CHECK}`],
  ['filter', 'OUTPUT', `-m conntrack --ctstate NEW -j ${EXTERNAL_CHECK}`],
];

export class IptablesDataPlane implements DataPlane {
  readonly kind = 'iptables';
  readonly #exec: (argv: string[], input: string) => Promise<string>;
  readonly #nodeIPs: string[];
  readonly #ports = new Map<string, { state: ServicePortState; rules: PortRules }>();
  /** nat chains of service ports as last written: name → rules. */
  #written = new Map<string, string[]>();
  #ready = false;
  /** The last iptables-restore input (tests and debugging). */
  lastRestore = '';

  constructor(options: IptablesDataPlaneOptions) {
    const cmd: CommandOptions = options.netns ? { netns: options.netns } : {};
    this.#exec = options.exec ?? ((argv, input) => runCommand(argv, input, cmd));
    this.#nodeIPs = options.nodeIPs.filter((ip) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip));
  }

  async sync(changes: ReadonlyMap<string, ServicePortState | null>): Promise<SyncReport> {
    const started = performance.now();
    const full = !this.#ready;
    const previous = new Map(this.#ports);
    for (const [key, state] of changes) {
      if (state) this.#ports.set(key, { state, rules: portRules(state, this.#nodeIPs) });
      else this.#ports.delete(key);
    }
    const wanted = new Map<string, string[]>();
    const services: string[] = [];
    const nodePorts: string[] = [];
    const checks: string[] = [];
    for (const { rules } of this.#ports.values()) {
      services.push(...rules.services);
      nodePorts.push(...rules.nodePorts);
      checks.push(...rules.checks);
      for (const [name, r] of rules.chains) wanted.set(name, r);
    }
    for (const ip of this.#nodeIPs) services.push(`-A ${SERVICES} -d ${ip}/32 -j ${NODEPORTS}`);

    let existing = this.#written;
    if (full) {
      existing = await this.#kernelChains();
      for (const [table, chain, args] of JUMPS) {
        await this.#exec(['iptables-restore', '--noflush'], `*${table}\n:${chainOf(args)} - [0:0]\nCOMMIT\n`);
        try {
          await this.#exec(['iptables', '-t', table, '-C', chain, ...splitArgs(args)], '');
        } catch {
          await this.#exec(['iptables', '-t', table, '-I', chain, '1', ...splitArgs(args)], '');
        }
      }
    }
    const nat: string[] = ['*nat'];
    const natRules: string[] = [];
    const declare = (name: string) => nat.push(`:${name} - [0:0]`);
    // The top-level chains are always rewritten whole; they are what refers to the per-service chains.
    for (const [name, rules] of [
      [SERVICES, services],
      [NODEPORTS, nodePorts],
      [MARK_MASQ, [`-A ${MARK_MASQ} -j MARK --or-mark ${MARK}`]],
      [
        POSTROUTING,
        [
          `-A ${POSTROUTING} -m mark ! --mark ${MARK}/${MARK} -j RETURN`,
          `-A ${POSTROUTING} -j MARK --xor-mark ${MARK}`,
          `-A ${POSTROUTING} -j MASQUERADE --random-fully`,
        ],
      ],
    ] as [string, string[]][]) {
      declare(name);
      natRules.push(...rules);
    }
    let operations = 0;
    for (const [name, rules] of wanted) {
      const before = existing.get(name);
      if (!full && before && before.length === rules.length && before.every((r, i) => r === rules[i])) continue;
      declare(name);
      natRules.push(...rules);
      operations += rules.length;
    }
    const stale = [...existing.keys()].filter((name) => !wanted.has(name));
    for (const name of stale) declare(name);
    const input = [
      ...nat,
      ...natRules,
      ...stale.map((name) => `-X ${name}`),
      'COMMIT',
      '*filter',
      `:${EXTERNAL_CHECK} - [0:0]`,
      ...checks,
      'COMMIT',
      '',
    ].join('\n');
    this.lastRestore = input;
    try {
      await this.#exec(['iptables-restore', '--noflush'], input);
    } catch (err) {
      this.#ports.clear();
      for (const [k, v] of previous) this.#ports.set(k, v);
      for (const [key, state] of changes) {
        if (state) this.#ports.set(key, { state, rules: portRules(state, this.#nodeIPs) });
        else this.#ports.delete(key);
      }
      this.#ready = false;
      throw err;
    }
    this.#written = wanted;
    this.#ready = true;
    return {
      full,
      operations: operations + services.length + nodePorts.length + checks.length,
      ms: performance.now() - started,
    };
  }

  /** skiff's per-service nat chains as the kernel has them (so a restart cleans up a previous run's leftovers). */
  async #kernelChains(): Promise<Map<string, string[]>> {
    const chains = new Map<string, string[]>();
    let dump = '';
    try {
      dump = await this.#exec(['iptables-save', '-t', 'nat'], '');
    } catch {
      return chains;
    }
    for (const line of dump.split('\n')) {
      const m = /^:(SKIFF-(?:SVC|EXT|SEP)-[A-Z2-7]{16}) /.exec(line);
      if (m) chains.set(m[1]!, []);
    }
    return chains;
  }

  async close(): Promise<void> {}
}

function chainOf(args: string): string {
  return args.split(' ').at(-1)!;
}

function splitArgs(args: string): string[] {
  return args.split(' ');
}
