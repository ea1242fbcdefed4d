// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file loading: profiles with plugin enable/disable,
// weights and plugin args become skiff Profiles; leaderElection settings come along. Unknown plugins are errors.
import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { resolveProfile } from '../profile.js';
import {
  defaultProfile,
  type FilterPluginName,
  type Profile,
  type ScorePluginName,
  type TopologySpreadConstraint,
} from '../types.js';
import { filterPlugins, scorePlugins } from '../plugins/index.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LeaderElectionConfig {
  leaderElect: boolean;
  resourceName: string;
  resourceNamespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface SchedulerConfig {
  profiles: Profile[];
  leaderElection: LeaderElectionConfig;
}

/** Upstream plugins skiff accepts in a configuration but has no work for (volumes, queue sort, binding, gates). */
const acceptedWithoutEffect = new Set([
  'PrioritySort',
  'DefaultBinder',
  'SchedulingGates',
  'DefaultPreemption',
  'VolumeRestrictions',
  'EBSLimits',
  'GCEPDLimits',
  'NodeVolumeLimits',
  'AzureDiskLimits',
  'VolumeBinding',
  'VolumeZone',
  'DynamicResources',
]);

export const defaultLeaderElection: LeaderElectionConfig = {
  leaderElect: true,
  resourceName: 'kube-scheduler',
  resourceNamespace: 'kube-system',
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** metav1.Duration text ("15s", "1m30s", "500ms") in milliseconds. */
export function parseDuration(text: unknown, field: string): number {
  if (typeof text !== 'string') throw new ConfigError(`${field}: expected a duration string like "15s"`);
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0].length;
  }
  if (text.length === 0 || matched !== text.length) throw new ConfigError(`${field}: invalid duration "${text}"`);
  return total;
}

interface PluginRef {
  name: string;
  weight?: number;
}
interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

function checkName(name: string, field: string): void {
  if (name === '*' || name in filterPlugins || name in scorePlugins || acceptedWithoutEffect.has(name)) return;
  throw new ConfigError(`${field}: plugin "${name}" is not supported by skiff`);
}

function disabledSet(sets: (PluginSet | undefined)[], field: string): Set<string> {
  const out = new Set<string>();
  for (const s of sets)
    for (const [i, p] of (s?.disabled ?? []).entries()) {
      checkName(p.name, `${field}.disabled[${i}]`);
      out.add(p.name);
    }
  return out;
}

function asRecord(v: unknown, field: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${field}: expected an object`);
  return v as Record<string, unknown>;
}

/** One KubeSchedulerProfile → Profile (defaults first, then plugin sets, then pluginConfig args). */
export function profileFromConfig(raw: unknown, index: number): Profile {
  const field = `profiles[${index}]`;
  const p = asRecord(raw, field);
  const plugins = asRecord(p.plugins, `${field}.plugins`) as Record<string, PluginSet | undefined>;
  const multi = plugins.multiPoint;

  // Filters: defaults minus disabled ("*" removes every default), then enabled ones that filter.
  const offFilters = disabledSet([multi, plugins.filter], `${field}.plugins.filter`);
  let filters: FilterPluginName[] = offFilters.has('*') ? [] : defaultProfile.filters.filter((f) => !offFilters.has(f));
  for (const [i, ref] of [...(multi?.enabled ?? []), ...(plugins.filter?.enabled ?? [])].entries()) {
    checkName(ref.name, `${field}.plugins.filter.enabled[${i}]`);
    if (ref.name in filterPlugins && !filters.includes(ref.name as FilterPluginName))
      filters = [...filters, ref.name as FilterPluginName];
  }

  // Scores: the same, with weights (0 or unset means the default weight, or 1 for plugins not in the defaults).
  const offScores = disabledSet([multi, plugins.score], `${field}.plugins.score`);
  let scores = offScores.has('*') ? [] : defaultProfile.scores.filter((s) => !offScores.has(s.name));
  for (const [i, ref] of [...(multi?.enabled ?? []), ...(plugins.score?.enabled ?? [])].entries()) {
    checkName(ref.name, `${field}.plugins.score.enabled[${i}]`);
    if (!(ref.name in scorePlugins)) continue;
    const name = ref.name as ScorePluginName;
    const weight = ref.weight || defaultProfile.scores.find((s) => s.name === name)?.weight || 1;
    scores = scores.some((s) => s.name === name)
      ? scores.map((s) => (s.name === name ? { name, weight } : s))
      : [...scores, { name, weight }];
  }

  const profile: Partial<Profile> = {
    schedulerName: typeof p.schedulerName === 'string' ? p.schedulerName : 'default-scheduler',
    filters,
    scores,
  };
  const pluginConfig = Array.isArray(p.pluginConfig) ? p.pluginConfig : [];
  for (const [i, entry] of pluginConfig.entries()) {
    const e = asRecord(entry, `${field}.pluginConfig[${i}]`);
    const args = asRecord(e.args, `${field}.pluginConfig[${i}].args`);
    switch (e.name) {
      case 'NodeResourcesFit': {
        const s = asRecord(args.scoringStrategy, `${field}.pluginConfig[${i}].args.scoringStrategy`);
        const base = defaultProfile.nodeResourcesFit;
        profile.nodeResourcesFit = {
          scoringStrategy: {
            type: (s.type as Profile['nodeResourcesFit']['scoringStrategy']['type']) ?? base.scoringStrategy.type,
            resources: (s.resources as { name: string; weight: number }[]) ?? base.scoringStrategy.resources,
            ...(s.requestedToCapacityRatio
              ? {
                  requestedToCapacityRatio: s.requestedToCapacityRatio as {
                    shape: { utilization: number; score: number }[];
                  },
                }
              : {}),
          },
          ignoredResources: (args.ignoredResources as string[]) ?? [],
          ignoredResourceGroups: (args.ignoredResourceGroups as string[]) ?? [],
        };
        break;
      }
      case 'NodeResourcesBalancedAllocation':
        profile.nodeResourcesBalancedAllocation = {
          resources:
            (args.resources as { name: string; weight: number }[]) ??
            defaultProfile.nodeResourcesBalancedAllocation.resources,
        };
        break;
      case 'PodTopologySpread':
        profile.podTopologySpread = {
          defaultingType: (args.defaultingType as 'System' | 'List') ?? 'System',
          defaultConstraints: (args.defaultConstraints as TopologySpreadConstraint[]) ?? [],
        };
        break;
      case 'InterPodAffinity':
        profile.interPodAffinity = {
          hardPodAffinityWeight: (args.hardPodAffinityWeight as number) ?? 1,
          ignorePreferredTermsOfExistingPods: (args.ignorePreferredTermsOfExistingPods as boolean) ?? false,
        };
        break;
      case 'NodeAffinity':
        profile.nodeAffinity = args.addedAffinity
          ? { addedAffinity: args.addedAffinity as Profile['nodeAffinity']['addedAffinity'] }
          : {};
        break;
      default:
        checkName(String(e.name), `${field}.pluginConfig[${i}].name`);
    }
  }
  try {
    return resolveProfile(profile);
  } catch (err) {
    throw new ConfigError(`${field}: ${(err as Error).message}`);
  }
}

/** Parses a KubeSchedulerConfiguration document (YAML or JSON text). */
export function parseSchedulerConfig(text: string): SchedulerConfig {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new ConfigError(`cannot parse scheduler configuration: ${(err as Error).message}`);
  }
  const c = asRecord(doc, 'configuration');
  if (c.kind !== 'KubeSchedulerConfiguration')
    throw new ConfigError(`kind: expected KubeSchedulerConfiguration, got ${JSON.stringify(c.kind)}`);
  if (c.apiVersion !== 'kubescheduler.config.k8s.io/v1')
    throw new ConfigError(`apiVersion: expected kubescheduler.config.k8s.io/v1, got ${JSON.stringify(c.apiVersion)}`);
  const rawProfiles = Array.isArray(c.profiles) && c.profiles.length > 0 ? c.profiles : [{}];
  const profiles = rawProfiles.map(profileFromConfig);
  const names = new Set<string>();
  for (const [i, p] of profiles.entries()) {
    if (names.has(p.schedulerName))
      throw new ConfigError(`profiles[${i}].schedulerName: duplicate "${p.schedulerName}"`);
    names.add(p.schedulerName);
  }
  const le = asRecord(c.leaderElection, 'leaderElection');
  const leaderElection: LeaderElectionConfig = {
    leaderElect: le.leaderElect === undefined ? defaultLeaderElection.leaderElect : le.leaderElect === true,
    resourceName: typeof le.resourceName === 'string' ? le.resourceName : defaultLeaderElection.resourceName,
    resourceNamespace:
      typeof le.resourceNamespace === 'string' ? le.resourceNamespace : defaultLeaderElection.resourceNamespace,
    leaseDurationMs:
      le.leaseDuration === undefined
        ? defaultLeaderElection.leaseDurationMs
        : parseDuration(le.leaseDuration, 'leaderElection.leaseDuration'),
    renewDeadlineMs:
      le.renewDeadline === undefined
        ? defaultLeaderElection.renewDeadlineMs
        : parseDuration(le.renewDeadline, 'leaderElection.renewDeadline'),
    retryPeriodMs:
      le.retryPeriod === undefined
        ? defaultLeaderElection.retryPeriodMs
        : parseDuration(le.retryPeriod, 'leaderElection.retryPeriod'),
  };
  if (leaderElection.renewDeadlineMs >= leaderElection.leaseDurationMs)
    throw new ConfigError('leaderElection.renewDeadline: must be less than leaseDuration');
  return { profiles, leaderElection };
}

export function loadSchedulerConfig(path: string): SchedulerConfig {
  return parseSchedulerConfig(readFileSync(path, 'utf8'));
}
