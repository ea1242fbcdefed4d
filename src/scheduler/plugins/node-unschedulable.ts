// NodeUnschedulable filter: a cordoned node (spec.unschedulable) takes only pods tolerating its unschedulable taint
// (upstream plugins/nodeunschedulable).
import type { FilterPlugin } from '../framework.js';
import { tolerationsTolerateTaint } from './taint-toleration.js';

export const ErrReasonUnschedulable = 'node(s) were unschedulable';

export const nodeUnschedulable: FilterPlugin<undefined> = {
  name: 'NodeUnschedulable',
  preFilter: () => ({ state: undefined }),
  filter(ctx, _state, node) {
    if (!node.unschedulable) return undefined;
    const taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
    if (tolerationsTolerateTaint(ctx.pod.pod.spec?.tolerations ?? [], taint)) return undefined;
    return [ErrReasonUnschedulable];
  },
};
