// KubeSchedulerConfiguration loading: plugin sets, weights, plugin args, leader election and clear errors.
import t from 'tap';
import { ConfigError, parseDuration, parseSchedulerConfig } from '../../../src/scheduler/daemon/config.js';
import { defaultProfile } from '../../../src/scheduler/types.js';

const head = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';

t.test('an empty configuration is the default profile with leader election on', async (t) => {
  const c = parseSchedulerConfig(head);
  t.same(c.profiles, [defaultProfile]);
  t.same(c.leaderElection, {
    leaderElect: true,
    resourceName: 'kube-scheduler',
    resourceNamespace: 'kube-system',
    leaseDurationMs: 15000,
    renewDeadlineMs: 10000,
    retryPeriodMs: 2000,
  });
});

t.test('plugins, weights and args', async (t) => {
  const c = parseSchedulerConfig(`${head}
leaderElection:
  leaderElect: false
  leaseDuration: 30s
  renewDeadline: 20s
  retryPeriod: 500ms
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  plugins:
    score:
      disabled:
      - name: '*'
      enabled:
      - name: NodeResourcesFit
        weight: 5
      - name: ImageLocality
    filter:
      disabled:
      - name: NodePorts
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - name: cpu
          weight: 3
        - name: memory
          weight: 1
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
`);
  t.equal(c.profiles.length, 2);
  const bp = c.profiles[1]!;
  t.equal(bp.schedulerName, 'bin-packing');
  t.same(bp.scores, [
    { name: 'NodeResourcesFit', weight: 5 },
    { name: 'ImageLocality', weight: 1 },
  ]);
  t.notOk(bp.filters.includes('NodePorts'));
  t.equal(bp.filters.length, defaultProfile.filters.length - 1);
  t.same(bp.nodeResourcesFit.scoringStrategy, {
    type: 'MostAllocated',
    resources: [
      { name: 'cpu', weight: 3 },
      { name: 'memory', weight: 1 },
    ],
  });
  t.equal(bp.podTopologySpread.defaultingType, 'List');
  t.equal(bp.podTopologySpread.defaultConstraints.length, 1);
  t.match(c.leaderElection, { leaderElect: false, leaseDurationMs: 30000, renewDeadlineMs: 20000, retryPeriodMs: 500 });
});

t.test('errors name the field', async (t) => {
  t.throws(() => parseSchedulerConfig('kind: Pod'), ConfigError);
  t.throws(
    () => parseSchedulerConfig(`${head}profiles:\n- plugins:\n    score:\n      enabled:\n      - name: Magic\n`),
    /profiles\[0\]\.plugins\.score\.enabled\[0\]: plugin "Magic" is not supported/,
  );
  t.throws(
    () =>
      parseSchedulerConfig(
        `${head}profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Fancy\n`,
      ),
    /profiles\[0\]: profile\.nodeResourcesFit\.scoringStrategy\.type: unsupported "Fancy"/,
  );
  t.throws(() => parseSchedulerConfig(`${head}profiles:\n- {}\n- {}\n`), /duplicate "default-scheduler"/);
  t.throws(() => parseSchedulerConfig(`${head}leaderElection:\n  leaseDuration: 5s\n`), /renewDeadline/);
  t.throws(() => parseSchedulerConfig(`${head}profiles: [`), /cannot parse/);
});

t.test('durations', async (t) => {
  t.equal(parseDuration('1m30s', 'd'), 90000);
  t.equal(parseDuration('250ms', 'd'), 250);
  t.throws(() => parseDuration('15', 'd'), /invalid duration/);
  t.throws(() => parseDuration(15, 'd'), /duration string/);
});
