// NodePorts filter: a pod's host ports must not collide with those of pods on the node (upstream plugins/nodeports,
// HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every address of the same protocol and port).
import type { FilterPlugin } from '../framework.js';

export const ErrReasonPorts = "node(s) didn't have free ports for the requested pod ports";

export const nodePorts: FilterPlugin<undefined> = {
  name: 'NodePorts',
  preFilter: () => ({ state: undefined }),
  filter(ctx, _state, node) {
    for (const want of ctx.pod.hostPorts) if (node.portConflicts(want)) return [ErrReasonPorts];
    return undefined;
  },
};
