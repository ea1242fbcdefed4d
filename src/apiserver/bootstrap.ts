// What every cluster has from the start: the system namespaces, the system PriorityClasses and the `kubernetes`
// service with its endpoints.
import { StatusError } from '../api/status.js';
import { decodeStored, encodeForStore, storeKey } from './codec.js';
import { registryDef } from './registry.js';
import type { ApiContext, RestHandlers } from './rest.js';
import { systemPriorityClasses } from './resources/priorityclasses.js';
import type { Obj } from './types.js';

const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(
  rest: RestHandlers,
  ctx: ApiContext,
  resource: string,
  namespace: string,
  obj: Obj,
): Promise<void> {
  const def = registryDef(ctx.registry, resource);
  const key = storeKey(def.storage, def.namespaced ? namespace : undefined, obj.metadata.name);
  if (await ctx.store.get(key)) return;
  try {
    await rest.createObject(def, namespace, obj, { manager: 'kube-apiserver' });
  } catch (e) {
    if (!(e instanceof StatusError && e.code === 409)) throw e;
  }
}

export async function bootstrap(
  ctx: ApiContext,
  rest: RestHandlers,
  o: { port: number; firstIp: string },
): Promise<void> {
  for (const name of systemNamespaces)
    await ensure(rest, ctx, 'namespaces', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  // The Priority admission plugin's PostStartHook creates the system classes.
  for (const pc of systemPriorityClasses) await ensure(rest, ctx, 'priorityclasses', '', structuredClone(pc));
  await ensure(rest, ctx, 'services', 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP: o.firstIp,
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.port }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
  });
  // The endpoints follow the port we serve on (upstream's endpoint reconciler).
  const epDef = registryDef(ctx.registry, 'endpoints');
  const key = storeKey(epDef.storage, 'default', 'kubernetes');
  const subsets = [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: o.port, protocol: 'TCP' }] }];
  const kv = await ctx.store.get(key);
  if (!kv) {
    await ensure(rest, ctx, 'endpoints', 'default', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets,
    });
  } else {
    const ep = decodeStored(kv.value, kv.modRevision);
    if (JSON.stringify(ep.subsets) !== JSON.stringify(subsets)) {
      ep.subsets = subsets;
      await ctx.store.update(key, encodeForStore(ep), kv.modRevision).catch(() => undefined);
    }
    const svcKey = storeKey('services', 'default', 'kubernetes');
    const skv = await ctx.store.get(svcKey);
    if (skv) {
      const svc = decodeStored(skv.value, skv.modRevision);
      if (svc.spec?.ports?.[0] && svc.spec.ports[0].targetPort !== o.port) {
        svc.spec.ports[0].targetPort = o.port;
        await ctx.store.update(svcKey, encodeForStore(svc), skv.modRevision).catch(() => undefined);
      }
    }
  }
}
