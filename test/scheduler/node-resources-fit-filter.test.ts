// Golden rows of upstream pkg/scheduler/framework/plugins/noderesources/fit_test.go (TestEnoughRequests): the
// NodeResourcesFit filter with init containers (max, not sum), extended resources and their reasons, plus
// sidecar and overhead accounting as resourcehelper.PodRequests.
import t from 'tap';
import { insufficientResources } from '../../src/scheduler/plugins/node-resources-fit.js';
import { resolveProfile } from '../../src/scheduler/profile.js';
import { podRequests } from '../../src/scheduler/resources.js';
import { PodInfo } from '../../src/scheduler/snapshot.js';
import type { Container, Node, Pod } from '../../src/scheduler/types.js';
import { snapshotOf } from './helpers.js';

const extA = 'example.com/aaa';
const extB = 'example.com/bbb';

interface R {
  cpu?: number;
  mem?: number;
  scalar?: Record<string, number>;
}

/** newResourcePod: one container per usage, cpu in millicores, memory in bytes, explicit zeros as upstream. */
function containers(usage: R[]): Container[] {
  return usage.map((u, i) => ({
    name: `c${i}`,
    resources: {
      requests: {
        cpu: `${u.cpu ?? 0}m`,
        memory: String(u.mem ?? 0),
        pods: '0',
        'ephemeral-storage': '0',
        ...Object.fromEntries(Object.entries(u.scalar ?? {}).map(([k, v]) => [k, String(v)])),
      },
    },
  }));
}
let n = 0;
function pod(usage: R[], init: R[] = [], nodeName?: string): Pod {
  return {
    metadata: { name: `p${++n}`, namespace: 'default' },
    spec: { containers: containers(usage), initContainers: containers(init), nodeName },
  };
}

/** makeAllocatableResources(10, 20, 32, 5, 20, 5): 10m cpu, 20 B memory, 32 pods, 5 extA, 20 B storage. */
const node: Node = {
  metadata: { name: 'n' },
  status: {
    allocatable: { cpu: '10m', memory: '20', pods: '32', [extA]: '5', 'ephemeral-storage': '20', 'hugepages-2Mi': '5' },
  },
};

function check(p: Pod, existing: R): string[] {
  const snapshot = snapshotOf([node], [pod([existing], [], 'n')]);
  return insufficientResources(new PodInfo(p), snapshot.node('n')!, resolveProfile());
}

const rows: [string, Pod, R, string[]][] = [
  [
    'no resources requested always fits',
    { metadata: { name: 'empty' }, spec: { containers: [] } },
    { cpu: 10, mem: 20 },
    [],
  ],
  [
    'too many resources fails',
    pod([{ cpu: 1, mem: 1 }]),
    { cpu: 10, mem: 20 },
    ['Insufficient cpu', 'Insufficient memory'],
  ],
  [
    'too many resources fails due to init container cpu',
    pod([{ cpu: 1, mem: 1 }], [{ cpu: 3, mem: 1 }]),
    { cpu: 8, mem: 19 },
    ['Insufficient cpu'],
  ],
  [
    'too many resources fails due to highest init container cpu',
    pod(
      [{ cpu: 1, mem: 1 }],
      [
        { cpu: 3, mem: 1 },
        { cpu: 2, mem: 1 },
      ],
    ),
    { cpu: 8, mem: 19 },
    ['Insufficient cpu'],
  ],
  [
    'too many resources fails due to init container memory',
    pod([{ cpu: 1, mem: 1 }], [{ cpu: 1, mem: 3 }]),
    { cpu: 9, mem: 19 },
    ['Insufficient memory'],
  ],
  [
    "init container fits because it's the max, not sum, of containers and init containers",
    pod([{ cpu: 1, mem: 1 }], [{ cpu: 1, mem: 1 }]),
    { cpu: 9, mem: 19 },
    [],
  ],
  [
    "multiple init containers fit because it's the max, not sum, of containers and init containers",
    pod(
      [{ cpu: 1, mem: 1 }],
      [
        { cpu: 1, mem: 1 },
        { cpu: 1, mem: 1 },
      ],
    ),
    { cpu: 9, mem: 19 },
    [],
  ],
  ['both resources fit', pod([{ cpu: 1, mem: 1 }]), { cpu: 5, mem: 5 }, []],
  ['one resource memory fits', pod([{ cpu: 2, mem: 1 }]), { cpu: 9, mem: 5 }, ['Insufficient cpu']],
  ['one resource cpu fits', pod([{ cpu: 1, mem: 2 }]), { cpu: 5, mem: 19 }, ['Insufficient memory']],
  ['equal edge case', pod([{ cpu: 5, mem: 1 }]), { cpu: 5, mem: 19 }, []],
  ['equal edge case for init container', pod([{ cpu: 4, mem: 1 }], [{ cpu: 5, mem: 1 }]), { cpu: 5, mem: 19 }, []],
  ['extended resource fits', pod([{ scalar: { [extA]: 1 } }]), {}, []],
  ['extended resource fits for init container', pod([{}], [{ scalar: { [extA]: 1 } }]), {}, []],
  [
    'extended resource capacity enforced',
    pod([{ cpu: 1, mem: 1, scalar: { [extA]: 10 } }]),
    { scalar: { [extA]: 0 } },
    [`Insufficient ${extA}`],
  ],
  [
    'extended resource capacity enforced for init container',
    pod([{}], [{ cpu: 1, mem: 1, scalar: { [extA]: 10 } }]),
    { scalar: { [extA]: 0 } },
    [`Insufficient ${extA}`],
  ],
  [
    'extended resource allocatable enforced',
    pod([{ cpu: 1, mem: 1, scalar: { [extA]: 1 } }]),
    { scalar: { [extA]: 5 } },
    [`Insufficient ${extA}`],
  ],
  [
    'extended resource allocatable enforced for multiple containers',
    pod([
      { cpu: 1, mem: 1, scalar: { [extA]: 3 } },
      { cpu: 1, mem: 1, scalar: { [extA]: 3 } },
    ]),
    { scalar: { [extA]: 2 } },
    [`Insufficient ${extA}`],
  ],
  [
    'extended resource allocatable admits multiple init containers',
    pod(
      [{}],
      [
        { cpu: 1, mem: 1, scalar: { [extA]: 3 } },
        { cpu: 1, mem: 1, scalar: { [extA]: 3 } },
      ],
    ),
    { scalar: { [extA]: 2 } },
    [],
  ],
  [
    'extended resource allocatable enforced for multiple init containers',
    pod(
      [{}],
      [
        { cpu: 1, mem: 1, scalar: { [extA]: 6 } },
        { cpu: 1, mem: 1, scalar: { [extA]: 3 } },
      ],
    ),
    { scalar: { [extA]: 2 } },
    [`Insufficient ${extA}`],
  ],
  [
    'extended resource allocatable enforced for unknown resource',
    pod([{ cpu: 1, mem: 1, scalar: { [extB]: 1 } }]),
    {},
    [`Insufficient ${extB}`],
  ],
];

for (const [name, p, existing, want] of rows) t.test(name, async (t) => t.same(check(p, existing), want));

t.test('ignoredResources and ignoredResourceGroups skip extended resources', async (t) => {
  const snapshot = snapshotOf([node]);
  const p = new PodInfo(pod([{ scalar: { [extB]: 1 } }]));
  const base = resolveProfile();
  const ignored = { ...base, nodeResourcesFit: { ...base.nodeResourcesFit, ignoredResources: [extB] } };
  const group = { ...base, nodeResourcesFit: { ...base.nodeResourcesFit, ignoredResourceGroups: ['example.com'] } };
  t.same(insufficientResources(p, snapshot.node('n')!, ignored), []);
  t.same(insufficientResources(p, snapshot.node('n')!, group), []);
});

t.test('Too many pods', async (t) => {
  const small: Node = { metadata: { name: 'n' }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '1' } } };
  const snapshot = snapshotOf([small], [pod([{}], [], 'n')]);
  t.same(insufficientResources(new PodInfo(pod([])), snapshot.node('n')!, resolveProfile()), ['Too many pods']);
});

t.test('sidecars and overhead (resourcehelper.PodRequests)', async (t) => {
  const c = (name: string, cpu: string, restartPolicy?: string): Container => ({
    name,
    resources: { requests: { cpu } },
    ...(restartPolicy ? { restartPolicy } : {}),
  });
  // Sidecar 100m runs through the later init step (200m + 100m) and beside the app (500m + 100m).
  const p: Pod = {
    metadata: { name: 'x' },
    spec: {
      initContainers: [c('sidecar', '100m', 'Always'), c('init', '200m'), c('big-init', '1')],
      containers: [c('app', '500m')],
      overhead: { cpu: '50m', memory: '10Mi' },
    },
  };
  const reqs = podRequests(p, false);
  // max(app 500 + sidecar 100 = 600, big-init 1000 + sidecar 100 = 1100) + overhead 50.
  t.equal(reqs.get('cpu'), 1150);
  t.equal(reqs.get('memory'), 10 * 1024 * 1024, 'overhead memory is added; no defaults without the non-zero option');
  // Non-zero defaults apply per container without a memory request (4 containers × 200Mi, max over steps).
  const nz = podRequests(p, true);
  t.equal(nz.get('memory'), 2 * 200 * 1024 * 1024 + 10 * 1024 * 1024, 'app+sidecar defaults beat every init step');
  const explicitZero: Pod = {
    metadata: { name: 'z' },
    spec: { containers: [{ name: 'a', resources: { requests: { cpu: '0' } } }] },
  };
  t.equal(podRequests(explicitZero, true).get('cpu'), 0, 'an explicit 0 is not defaulted');
  t.equal(podRequests(explicitZero, true).get('memory'), 200 * 1024 * 1024);
});
