import t from 'tap';
import { startTestServer, pod, deployment } from './helpers.js';

const ns = '/api/v1/namespaces/default';

t.test('pod defaults as upstream', async (t) => {
  const s = await startTestServer(t);
  const body = pod('p');
  body.spec.containers = [
    { name: 'a', image: 'nginx' },
    { name: 'b', image: 'nginx:latest' },
    { name: 'c', image: 'registry.local:5000/nginx:1.25', resources: { limits: { cpu: '1', memory: '1Gi' } } },
    {
      name: 'd',
      image: 'nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      ports: [{ containerPort: 80 }],
    },
  ];
  body.spec.tolerations = [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 },
  ];
  const r = await s.req('POST', `${ns}/pods`, body);
  t.equal(r.status, 201, r.text);
  const spec = r.body.spec;
  t.equal(spec.restartPolicy, 'Always');
  t.equal(spec.dnsPolicy, 'ClusterFirst');
  t.equal(spec.terminationGracePeriodSeconds, 30);
  t.equal(spec.schedulerName, 'default-scheduler');
  t.equal(spec.enableServiceLinks, true);
  t.equal(spec.serviceAccountName, 'default');
  t.equal(spec.priority, 0);
  t.same(spec.securityContext, {});
  t.same(
    spec.containers.map((c: { imagePullPolicy: string }) => c.imagePullPolicy),
    ['Always', 'Always', 'IfNotPresent', 'IfNotPresent'],
  );
  t.equal(spec.containers[0].terminationMessagePath, '/dev/termination-log');
  t.equal(spec.containers[0].terminationMessagePolicy, 'File');
  t.same(spec.containers[2].resources.requests, { cpu: '1', memory: '1Gi' }, 'requests default to limits');
  t.equal(spec.containers[3].ports[0].protocol, 'TCP');
  t.same(spec.tolerations, [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  t.equal(r.body.status.qosClass, 'Burstable');
  const be = await s.req('POST', `${ns}/pods`, pod('q'));
  t.equal(be.body.status.qosClass, 'BestEffort');
});

t.test('deployment defaults', async (t) => {
  const s = await startTestServer(t);
  const d = deployment('web');
  delete d.spec.replicas;
  const r = await s.req('POST', '/apis/apps/v1/namespaces/default/deployments', d);
  t.equal(r.status, 201, r.text);
  t.equal(r.body.spec.replicas, 1);
  t.same(r.body.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  t.equal(r.body.spec.revisionHistoryLimit, 10);
  t.equal(r.body.spec.progressDeadlineSeconds, 600);
  t.equal(r.body.spec.template.spec.restartPolicy, 'Always');
  const bad = deployment('bad');
  bad.spec.template.metadata.labels = { app: 'other' };
  const e = await s.req('POST', '/apis/apps/v1/namespaces/default/deployments', bad);
  t.equal(e.status, 422);
  t.match(
    e.body.message,
    /^Deployment\.apps "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/,
  );
});

t.test('validation errors are 422 and store nothing', async (t) => {
  const s = await startTestServer(t);
  const before = await s.req('GET', `${ns}/pods`);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['bad name', pod('Bad_Name'), /metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/],
    [
      'garbled quantity',
      pod('q1', { spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '12xyz' } } }] } }),
      /spec\.containers\[0\]\.resources\.requests\[cpu\]: Invalid value: "12xyz": quantities must match/,
    ],
    [
      'negative quantity',
      pod('q2', { spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { memory: '-1Gi' } } }] } }),
      /must be greater than or equal to 0/,
    ],
    [
      'request over limit',
      pod('q3', {
        spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] },
      }),
      /must be less than or equal to cpu limit of 1/,
    ],
    ['no containers', pod('q4', { spec: { containers: [] } }), /spec\.containers: Required value/],
    ['no image', pod('q5', { spec: { containers: [{ name: 'c' }] } }), /spec\.containers\[0\]\.image: Required value/],
    [
      'bad restartPolicy',
      pod('q6', { spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', image: 'x' }] } }),
      /Unsupported value: "Sometimes"/,
    ],
  ];
  for (const [what, body, msg] of cases) {
    const r = await s.req('POST', `${ns}/pods`, body);
    t.equal(r.status, 422, what);
    t.equal(r.body.reason, 'Invalid', what);
    t.match(r.body.message, msg, what);
    t.ok(r.body.details.causes.length > 0, `${what}: causes`);
  }
  const after = await s.req('GET', `${ns}/pods`);
  t.equal(after.body.items.length, before.body.items.length, 'nothing stored');
});

t.test('bad requests: JSON, YAML, content types, size, kind, strict fields', async (t) => {
  const s = await startTestServer(t);
  const rv0 = (await s.req('GET', `${ns}/configmaps`)).body.metadata.resourceVersion;
  const malformed = await s.req('POST', `${ns}/configmaps`, '{"metadata": {', { 'content-type': 'application/json' });
  t.equal(malformed.status, 400);
  t.equal(malformed.body.kind, 'Status');
  t.match(malformed.body.message, /json parse error/);
  const yamlOk = await s.req(
    'POST',
    `${ns}/configmaps`,
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n',
    { 'content-type': 'application/yaml' },
  );
  t.equal(yamlOk.status, 201);
  t.equal(yamlOk.body.data.k, 'v');
  const badYaml = await s.req('POST', `${ns}/configmaps`, 'metadata: [unclosed\n  - x: {', {
    'content-type': 'application/yaml',
  });
  t.equal(badYaml.status, 400);
  const unknownType = await s.req('POST', `${ns}/configmaps`, 'x', { 'content-type': 'text/html' });
  t.equal(unknownType.status, 415);
  t.equal(unknownType.body.reason, 'UnsupportedMediaType');
  const big = await s.req('POST', `${ns}/configmaps`, {
    metadata: { name: 'big' },
    data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) },
  });
  t.equal(big.status, 413);
  t.equal(big.body.reason, 'RequestEntityTooLarge');
  const wrongKind = await s.req('POST', `${ns}/configmaps`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'w' },
  });
  t.equal(wrongKind.status, 400);
  const wrongVersion = await s.req('POST', `${ns}/configmaps`, {
    apiVersion: 'apps/v1',
    kind: 'ConfigMap',
    metadata: { name: 'w' },
  });
  t.equal(wrongVersion.status, 400);
  const strict = await s.req('POST', `${ns}/configmaps?fieldValidation=Strict`, {
    metadata: { name: 's' },
    dataa: { x: '1' },
  });
  t.equal(strict.status, 400);
  t.equal(strict.body.message, 'strict decoding error: unknown field "dataa"');
  const strictDeep = await s.req('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', {
    ...deployment('d'),
    spec: {
      ...deployment('d').spec,
      template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'x', imagee: 'y' }] } },
    },
  });
  t.equal(strictDeep.status, 400);
  t.match(strictDeep.body.message, /unknown field "spec\.template\.spec\.containers\[0\]\.imagee"/);
  const warn = await s.req('POST', `${ns}/configmaps?fieldValidation=Warn`, {
    metadata: { name: 'warn' },
    dataa: { x: '1' },
  });
  t.equal(warn.status, 201);
  t.match(warn.headers.warning, /299 - "unknown field \\"dataa\\""/);
  t.notOk(warn.body.dataa, 'unknown field dropped');
  const ignore = await s.req('POST', `${ns}/configmaps?fieldValidation=Ignore`, {
    metadata: { name: 'ign' },
    dataa: { x: '1' },
  });
  t.equal(ignore.status, 201);
  t.notOk(ignore.headers.warning);
  const mismatch = await s.req('PUT', `${ns}/configmaps/y`, { metadata: { name: 'other' } });
  t.equal(mismatch.status, 400);
  t.match(mismatch.body.message, /does not match the name on the URL/);
  const unknownPath = await s.req('GET', '/api/v1/namespaces/default/widgets');
  t.equal(unknownPath.status, 404);
  t.equal(unknownPath.body.message, 'the server could not find the requested resource');
  const names = (await s.req('GET', `${ns}/configmaps`)).body.items.map(
    (i: { metadata: { name: string } }) => i.metadata.name,
  );
  t.same(names.sort(), ['ign', 'warn', 'y'], 'only the accepted requests stored anything');
  t.ok(Number(rv0) > 0);
});

t.test('services: cluster IPs and node ports without collisions', async (t) => {
  const s = await startTestServer(t);
  const svc = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec },
  });
  const a = await s.req('POST', `${ns}/services`, svc('a', { type: 'NodePort' }));
  t.equal(a.status, 201, a.text);
  t.match(a.body.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/, 'inside 10.96.0.0/12');
  t.same(a.body.spec.clusterIPs, [a.body.spec.clusterIP]);
  const np = a.body.spec.ports[0].nodePort;
  t.ok(np >= 30000 && np <= 32767);
  t.equal(a.body.spec.ports[0].targetPort, 80);
  t.equal(a.body.spec.ports[0].protocol, 'TCP');
  t.equal(a.body.spec.sessionAffinity, 'None');
  t.equal(a.body.spec.externalTrafficPolicy, 'Cluster');
  const dupIp = await s.req('POST', `${ns}/services`, svc('b', { clusterIP: a.body.spec.clusterIP }));
  t.equal(dupIp.status, 422);
  t.match(dupIp.body.message, /provided IP is already allocated/);
  const dupPort = await s.req(
    'POST',
    `${ns}/services`,
    svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: np }] }),
  );
  t.equal(dupPort.status, 422);
  t.match(dupPort.body.message, /provided port is already allocated/);
  const outOfRange = await s.req(
    'POST',
    `${ns}/services`,
    svc('d', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }),
  );
  t.equal(outOfRange.status, 422);
  t.match(outOfRange.body.message, /provided port is not in the valid range. The range of valid ports is 30000-32767/);
  const headless = await s.req('POST', `${ns}/services`, svc('h', { clusterIP: 'None' }));
  t.same(headless.body.spec.clusterIPs, ['None']);
  // Deleting frees the IP for reuse.
  await s.req('DELETE', `${ns}/services/a`);
  const reuse = await s.req(
    'POST',
    `${ns}/services`,
    svc('e', { clusterIP: a.body.spec.clusterIP, type: 'NodePort', ports: [{ port: 80, nodePort: np }] }),
  );
  t.equal(reuse.status, 201, reuse.text);
  // PUT without clusterIP keeps the allocated one.
  const cur = reuse.body;
  delete cur.spec.clusterIP;
  delete cur.spec.clusterIPs;
  const put = await s.req('PUT', `${ns}/services/e`, cur);
  t.equal(put.status, 200, put.text);
  t.equal(put.body.spec.clusterIP, a.body.spec.clusterIP);
});

t.test('Table output: upstream columns for each resource', async (t) => {
  const s = await startTestServer(t);
  const table = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
  const cols = async (path: string) => {
    const r = await s.req('GET', path, undefined, table);
    t.equal(r.body.kind, 'Table', path);
    return r.body.columnDefinitions
      .filter((c: { priority: number }) => c.priority === 0)
      .map((c: { name: string }) => c.name);
  };
  await s.req('POST', '/api/v1/namespaces/default/events', {
    metadata: { name: 'e1' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
    reason: 'Started',
    message: 'hi',
    type: 'Normal',
  });
  t.same(await cols('/api/v1/namespaces/default/pods'), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
  t.same(await cols('/apis/apps/v1/namespaces/default/deployments'), [
    'Name',
    'Ready',
    'Up-to-date',
    'Available',
    'Age',
  ]);
  t.same(await cols('/apis/apps/v1/namespaces/default/replicasets'), ['Name', 'Desired', 'Current', 'Ready', 'Age']);
  t.same(await cols('/api/v1/namespaces/default/services'), [
    'Name',
    'Type',
    'Cluster-IP',
    'External-IP',
    'Port(s)',
    'Age',
  ]);
  t.same(await cols('/api/v1/nodes'), ['Name', 'Status', 'Roles', 'Age', 'Version']);
  t.same(await cols('/api/v1/namespaces'), ['Name', 'Status', 'Age']);
  t.same(await cols('/api/v1/namespaces/default/endpoints'), ['Name', 'Endpoints', 'Age']);
  t.same(await cols('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'), [
    'Name',
    'AddressType',
    'Ports',
    'Endpoints',
    'Age',
  ]);
  t.same(await cols('/apis/coordination.k8s.io/v1/namespaces/default/leases'), ['Name', 'Holder', 'Age']);
  t.same(await cols('/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers'), [
    'Name',
    'Reference',
    'Targets',
    'MinPods',
    'MaxPods',
    'Replicas',
    'Age',
  ]);
  t.same(await cols('/api/v1/namespaces/default/events'), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  const ev = await s.req('GET', '/api/v1/namespaces/default/events', undefined, table);
  t.same(ev.body.rows[0].cells.slice(1, 5), ['Normal', 'Started', 'pod/p', '']);
  const svc = await s.req('GET', '/api/v1/namespaces/default/services', undefined, table);
  t.same(svc.body.rows[0].cells.slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
});
