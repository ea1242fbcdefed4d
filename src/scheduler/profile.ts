// Profile resolution: a partial profile laid over defaultProfile, validated so bad configuration fails loudly
// with the field at fault (ranges as upstream's KubeSchedulerConfiguration validation).
import { filterPlugins, scorePlugins } from './plugins/index.js';
import { defaultProfile, type Profile } from './types.js';

export class ProfileError extends Error {
  override name = 'ProfileError';
}

function fail(field: string, message: string): never {
  throw new ProfileError(`profile.${field}: ${message}`);
}

/** Returns a complete, validated profile; unset top-level fields come from defaultProfile. */
export function resolveProfile(partial: Partial<Profile> = {}): Profile {
  const p: Profile = structuredClone({ ...defaultProfile, ...partial });
  p.filters.forEach((name, i) => {
    if (!(name in filterPlugins)) fail(`filters[${i}]`, `unknown filter plugin "${name}"`);
  });
  p.scores.forEach((s, i) => {
    if (!(s.name in scorePlugins)) fail(`scores[${i}].name`, `unknown score plugin "${s.name}"`);
    if (!Number.isInteger(s.weight) || s.weight < 1 || s.weight > 100)
      fail(`scores[${i}].weight`, 'must be an integer in 1..100');
  });
  const strategy = p.nodeResourcesFit.scoringStrategy;
  if (!['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'].includes(strategy.type))
    fail('nodeResourcesFit.scoringStrategy.type', `unsupported "${strategy.type}"`);
  const checkResources = (field: string, list: { name: string; weight: number }[]) =>
    list.forEach((r, i) => {
      if (!r.name) fail(`${field}[${i}].name`, 'required');
      if (!Number.isInteger(r.weight) || r.weight < 1 || r.weight > 100)
        fail(`${field}[${i}].weight`, 'must be an integer in 1..100');
    });
  checkResources('nodeResourcesFit.scoringStrategy.resources', strategy.resources);
  checkResources('nodeResourcesBalancedAllocation.resources', p.nodeResourcesBalancedAllocation.resources);
  if (strategy.type === 'RequestedToCapacityRatio') {
    const shape = strategy.requestedToCapacityRatio?.shape ?? [];
    const field = 'nodeResourcesFit.scoringStrategy.requestedToCapacityRatio.shape';
    if (shape.length === 0) fail(field, 'at least one point is required');
    shape.forEach((pt, i) => {
      if (!Number.isInteger(pt.utilization) || pt.utilization < 0 || pt.utilization > 100)
        fail(`${field}[${i}].utilization`, 'must be an integer in 0..100');
      if (!Number.isInteger(pt.score) || pt.score < 0 || pt.score > 10)
        fail(`${field}[${i}].score`, 'must be an integer in 0..10');
      if (i > 0 && pt.utilization <= shape[i - 1]!.utilization)
        fail(`${field}[${i}].utilization`, 'values must be sorted in increasing order');
    });
  }
  const ipa = p.interPodAffinity;
  if (!Number.isInteger(ipa.hardPodAffinityWeight) || ipa.hardPodAffinityWeight < 0 || ipa.hardPodAffinityWeight > 100)
    fail('interPodAffinity.hardPodAffinityWeight', 'must be an integer in 0..100');
  if (p.podTopologySpread.defaultingType === 'System' && p.podTopologySpread.defaultConstraints.length > 0)
    fail('podTopologySpread.defaultConstraints', 'must be empty when defaultingType is System');
  return p;
}
