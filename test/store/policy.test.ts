// The compaction policy: keep at least N revisions and T minutes.
import t from 'tap';
import { compactionPolicy, compactionTarget } from '../../src/store/policy.js';

t.test('the target keeps both the last N revisions and the last T minutes', (t) => {
  const now = 1_000_000_000;
  // Revision r was written at now - (1000 - r) seconds.
  const newestBefore = (ms: number) => Math.max(0, Math.min(1000, Math.ceil(1000 - (now - ms) / 1000) - 1));
  t.equal(compactionTarget({ keepRevisions: 100, keepMinutes: 0 }, 1000, newestBefore, now), 900, 'count bound only');
  t.equal(
    compactionTarget({ keepRevisions: 100, keepMinutes: 5 }, 1000, newestBefore, now),
    newestBefore(now - 300_000),
    'the time bound wins when it keeps more',
  );
  t.ok(newestBefore(now - 300_000) < 900, 'and it does keep more here');
  t.equal(
    compactionTarget({ keepRevisions: 100, keepMinutes: 1 }, 1000, () => 990, now),
    900,
    'the count bound wins',
  );
  t.equal(compactionTarget({ keepRevisions: 2000, keepMinutes: 0 }, 1000, newestBefore, now), 0, 'nothing to drop');
  t.equal(
    compactionTarget({ keepRevisions: 10, keepMinutes: 5 }, 1000, () => 0, now),
    0,
    'nothing old enough',
  );
  t.end();
});

t.test('policies are validated', (t) => {
  t.same(compactionPolicy(), { keepRevisions: 1000, keepMinutes: 5 }, 'defaults');
  t.same(compactionPolicy({ keepMinutes: 0 }), { keepRevisions: 1000, keepMinutes: 0 }, 'partial override');
  t.throws(() => compactionPolicy({ keepRevisions: -1 }), /keepRevisions must be a non-negative number/);
  t.throws(() => compactionPolicy({ keepMinutes: Number.NaN }), /keepMinutes/);
  t.end();
});
