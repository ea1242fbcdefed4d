// Compaction policy defaults and the rule that turns a policy into a compaction revision.
import type { CompactionPolicy } from './types.js';

/** Defaults: keep the last 1,000 revisions and 5 minutes (kine keeps 1,000; Kubernetes compacts every 5 min). */
export const DEFAULT_COMPACTION: CompactionPolicy = { keepRevisions: 1000, keepMinutes: 5 };

/** How often a store compacts by itself unless told otherwise. */
export const DEFAULT_COMPACT_INTERVAL_MS = 5 * 60_000;

export function compactionPolicy(partial?: Partial<CompactionPolicy>): CompactionPolicy {
  const policy = { ...DEFAULT_COMPACTION, ...partial };
  for (const [name, v] of Object.entries(policy)) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`compaction ${name} must be a non-negative number, got ${v}`);
  }
  return policy;
}

/**
 * The highest revision that may be compacted: at least `keepRevisions` revisions stay, and nothing written within
 * `keepMinutes` is dropped. `newestBefore(ms)` returns the newest revision written before that time (0 if none).
 */
export function compactionTarget(
  policy: CompactionPolicy,
  currentRevision: number,
  newestBefore: (epochMs: number) => number,
  now = Date.now(),
): number {
  const byCount = currentRevision - policy.keepRevisions;
  if (byCount <= 0) return 0;
  const byTime = policy.keepMinutes > 0 ? newestBefore(now - policy.keepMinutes * 60_000) : currentRevision;
  return Math.max(0, Math.min(byCount, byTime));
}
