// The plugin registry: profile plugin names → the readable reference implementations.
import type { FilterPlugin, ScorePlugin } from '../framework.js';
import type { FilterPluginName, ScorePluginName } from '../types.js';
import { balancedAllocation } from './balanced-allocation.js';
import { imageLocality } from './image-locality.js';
import { interPodAffinityFilter, interPodAffinityScore } from './inter-pod-affinity.js';
import { nodeAffinityFilter, nodeAffinityScore } from './node-affinity.js';
import { nodeName } from './node-name.js';
import { nodePorts } from './node-ports.js';
import { nodeResourcesFitFilter, nodeResourcesFitScore } from './node-resources-fit.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { podTopologySpreadFilter, podTopologySpreadScore } from './pod-topology-spread.js';
import { taintTolerationFilter, taintTolerationScore } from './taint-toleration.js';

export const filterPlugins: Record<FilterPluginName, FilterPlugin<any>> = {
  NodeUnschedulable: nodeUnschedulable,
  NodeName: nodeName,
  TaintToleration: taintTolerationFilter,
  NodeAffinity: nodeAffinityFilter,
  NodePorts: nodePorts,
  NodeResourcesFit: nodeResourcesFitFilter,
  PodTopologySpread: podTopologySpreadFilter,
  InterPodAffinity: interPodAffinityFilter,
};

export const scorePlugins: Record<ScorePluginName, ScorePlugin<any>> = {
  TaintToleration: taintTolerationScore,
  NodeAffinity: nodeAffinityScore,
  NodeResourcesFit: nodeResourcesFitScore,
  PodTopologySpread: podTopologySpreadScore,
  InterPodAffinity: interPodAffinityScore,
  NodeResourcesBalancedAllocation: balancedAllocation,
  ImageLocality: imageLocality,
};
