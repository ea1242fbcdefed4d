import t from 'tap';
import protobuf from 'protobufjs/minimal.js';
import { decodeProtobuf } from '../../../src/apiserver/protobuf/index.js';
import { StatusError } from '../../../src/api/status.js';
import { statusCodeOf as codeOf } from '../../lib/status-code.js';

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function envelope(apiVersion: string, kind: string, raw: Uint8Array, extra?: (w: protobuf.Writer) => void): Buffer {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(apiVersion);
  w.uint32((2 << 3) | 2).string(kind);
  w.ldelim();
  w.uint32((2 << 3) | 2).bytes(raw);
  extra?.(w);
  return Buffer.concat([magic, w.finish()]);
}

t.test('a ConfigMap with unknown fields, labels, times and binary data', (t) => {
  const w = protobuf.Writer.create();
  // metadata
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('cfg');
  w.uint32((3 << 3) | 2).string('prod');
  w.uint32((8 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 0)
    .int64(1700000000)
    .ldelim();
  w.uint32((11 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string('app')
    .uint32((2 << 3) | 2)
    .string('web')
    .ldelim();
  w.uint32((99 << 3) | 0).uint32(7); // unknown varint field
  w.uint32((98 << 3) | 2).string('ignored'); // unknown length-delimited field
  w.ldelim();
  w.uint32((2 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string('k')
    .uint32((2 << 3) | 2)
    .string('v')
    .ldelim();
  w.uint32((3 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string('bin')
    .uint32((2 << 3) | 2)
    .bytes(Buffer.from([0, 1, 2]))
    .ldelim();
  w.uint32((4 << 3) | 0).bool(true);
  t.same(decodeProtobuf(envelope('v1', 'ConfigMap', w.finish())), {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'cfg', namespace: 'prod', creationTimestamp: '2023-11-14T22:13:20Z', labels: { app: 'web' } },
    data: { k: 'v' },
    binaryData: { bin: 'AAEC' },
    immutable: true,
  });
  t.end();
});

t.test('deployment with rolling update percentages and resources', (t) => {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string('d')
    .ldelim();
  w.uint32((2 << 3) | 2).fork();
  w.uint32((1 << 3) | 0).int32(0); // replicas pointer set to 0: must survive
  w.uint32((4 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('RollingUpdate');
  w.uint32((2 << 3) | 2).fork();
  w.uint32((1 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 0)
    .int64(1)
    .uint32((3 << 3) | 2)
    .string('25%')
    .ldelim();
  w.uint32((2 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 0)
    .int64(0)
    .uint32((2 << 3) | 0)
    .int32(2)
    .ldelim();
  w.ldelim();
  w.ldelim();
  w.uint32((3 << 3) | 2).fork();
  w.uint32((2 << 3) | 2).fork();
  w.uint32((2 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('c');
  w.uint32((8 << 3) | 2).fork();
  w.uint32((1 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string('cpu')
    .uint32((2 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string('500m')
    .ldelim()
    .ldelim();
  w.ldelim();
  w.ldelim();
  w.ldelim();
  w.ldelim();
  w.ldelim();
  const obj = decodeProtobuf(envelope('apps/v1', 'Deployment', w.finish())) as any;
  t.equal(obj.spec.replicas, 0);
  t.same(obj.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } });
  t.same(obj.spec.template.spec.containers, [{ name: 'c', resources: { limits: { cpu: '500m' } } }]);
  t.end();
});

t.test('garbage is a 400, an unsupported kind a 415', (t) => {
  t.equal(
    codeOf(() => decodeProtobuf(Buffer.from('{"kind":"Pod"}'))),
    400,
    'JSON is not protobuf',
  );
  t.equal(
    codeOf(() => decodeProtobuf(Buffer.alloc(0))),
    400,
    'empty',
  );
  t.equal(
    codeOf(() => decodeProtobuf(Buffer.concat([magic, Buffer.from([0x0a, 0xff])]))),
    400,
    'truncated',
  );
  t.equal(
    codeOf(() => decodeProtobuf(Buffer.concat([magic, Buffer.from([0x0a, 0x05, 0x0a])]))),
    400,
    'overrun',
  );
  t.equal(
    codeOf(() => decodeProtobuf(envelope('v1', 'Pod', new Uint8Array()))),
    415,
    'pods are not decoded',
  );
  t.equal(
    codeOf(() => decodeProtobuf(envelope('v1', '', new Uint8Array()))),
    400,
    'missing kind',
  );
  t.equal(
    codeOf(() =>
      decodeProtobuf(envelope('v1', 'ConfigMap', new Uint8Array(), (w) => w.uint32((3 << 3) | 2).string('gzip'))),
    ),
    400,
    'content encoding',
  );
  // Random bytes after the magic never crash with anything but a StatusError.
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  for (let i = 0; i < 2000; i++) {
    const body = Buffer.concat([magic, Buffer.from(Array.from({ length: 1 + (i % 64) }, rand))]);
    try {
      decodeProtobuf(body);
    } catch (e) {
      if (!(e instanceof StatusError)) t.fail(`non-Status error: ${(e as Error).message}`);
    }
    const raw = Buffer.from(Array.from({ length: 1 + (i % 96) }, rand));
    try {
      decodeProtobuf(envelope(i % 2 ? 'apps/v1' : 'v1', i % 2 ? 'Deployment' : 'Service', raw));
    } catch (e) {
      if (!(e instanceof StatusError)) t.fail(`non-Status error in message: ${(e as Error).message}`);
    }
  }
  t.pass('fuzzed 4000 bodies');
  t.end();
});
