// NodeName filter: a pod naming a node in spec.nodeName fits only that node (upstream plugins/nodename).
import type { FilterPlugin } from '../framework.js';

export const ErrReasonNodeName = "node(s) didn't match the requested node name";

export const nodeName: FilterPlugin<undefined> = {
  name: 'NodeName',
  preFilter: () => ({ state: undefined }),
  filter(ctx, _state, node) {
    const wanted = ctx.pod.nodeName;
    return wanted === undefined || wanted === node.name ? undefined : [ErrReasonNodeName];
  },
};
