// The unschedulable message, worded and ordered as upstream's FitError.Error (pkg/scheduler/framework/types.go):
// "0/N nodes are available: <count> <reason>, …." with "<count> <reason>" strings sorted byte-wise.

/** NoNodeAvailableMsg when the cluster has no nodes at all (ErrNoNodesAvailable). */
export const ErrNoNodesAvailable = 'no nodes available to schedule pods';

/**
 * nodeReasons: each evaluated node's reasons; absent: nodes a PreFilter excluded, with their single reason;
 * preFilterMsg: set when a PreFilter rejected the pod outright (then node reasons are not listed).
 */
export function fitErrorMessage(
  numAllNodes: number,
  nodeReasons: Iterable<string[]>,
  absent?: { count: number; reason: string },
  preFilterMsg?: string,
): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMsg) return `${msg} ${preFilterMsg}.`;
  const histogram = new Map<string, number>();
  for (const reasons of nodeReasons) for (const r of reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
  if (absent && absent.count > 0) histogram.set(absent.reason, (histogram.get(absent.reason) ?? 0) + absent.count);
  const parts = [...histogram].map(([reason, count]) => `${count} ${reason}`);
  // Go's sort.Strings compares bytes; node reasons are ASCII so UTF-16 order is the same.
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  return msg;
}
