// Discovery documents (/api, /apis, /api/v1, /apis/{g}/{v}) and /version, built once from the registry.
import type { Registry } from './registry.js';
import type { Obj, ResourceDef } from './types.js';

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function subresourceEntries(def: ResourceDef): Obj[] {
  const out: Obj[] = [];
  for (const sub of def.subresources) {
    const base = { name: `${def.resource}/${sub}`, singularName: '', namespaced: def.namespaced };
    switch (sub) {
      case 'status':
        out.push({ ...base, kind: def.kind, verbs: ['get', 'patch', 'update'] });
        break;
      case 'scale':
        out.push({ ...base, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
        break;
      case 'binding':
        out.push({ ...base, kind: 'Binding', verbs: ['create'] });
        break;
      case 'eviction':
        out.push({ ...base, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
        break;
      case 'log':
        out.push({ ...base, kind: 'Pod', verbs: ['get'] });
        break;
      case 'finalize':
        out.push({ ...base, kind: def.kind, verbs: ['update'] });
        break;
    }
  }
  return out;
}

export function resourceList(registry: Registry, group: string, version: string): Obj {
  const resources: Obj[] = [];
  for (const def of registry.resourcesIn(group, version)) {
    const r: Obj = {
      name: def.resource,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: def.readOnly ? ['get', 'list'] : allVerbs,
    };
    if (def.shortNames?.length) r.shortNames = def.shortNames;
    if (def.categories?.length) r.categories = def.categories;
    if (!def.readOnly) r.storageVersionHash = Buffer.from(def.storage).toString('base64').slice(0, 11);
    resources.push(r, ...subresourceEntries(def));
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

/** The Accept media types of aggregated discovery; the client tells the format only from the reply's Content-Type. */
export const aggregatedDiscoveryTypes = {
  v2: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  v2beta1: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
} as const;

/** The aggregated discovery version an Accept header asks for first, if any (kubectl 1.30+ lists v2, then v2beta1). */
export function aggregatedDiscoveryVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = part.split(';').map((x) => x.trim());
    if (params[0] !== 'application/json' || !params.includes('g=apidiscovery.k8s.io')) continue;
    if (!params.includes('as=APIGroupDiscoveryList')) continue;
    if (params.includes('v=v2')) return 'v2';
    if (params.includes('v=v2beta1')) return 'v2beta1';
  }
  return undefined;
}

/**
 * Aggregated discovery (apidiscovery.k8s.io APIGroupDiscoveryList): every group-version's resources in one reply, so
 * kubectl makes two discovery requests instead of one per group-version. `core` answers /api (one item named ""),
 * otherwise /apis. Shape from k8s.io/api apidiscovery/v2 types.go.
 */
export function aggregatedDiscovery(registry: Registry, core: boolean, version: 'v2' | 'v2beta1'): Obj {
  const groups = new Map<string, string[]>();
  for (const gv of registry.groupVersions()) {
    if ((gv.group === '') !== core) continue;
    const list = groups.get(gv.group) ?? [];
    list.push(gv.version);
    groups.set(gv.group, list);
  }
  const items = [...groups].map(([group, versions]) => ({
    metadata: { name: group },
    versions: versions.map((v) => ({
      version: v,
      resources: registry.resourcesIn(group, v).map((def) => resourceDiscovery(def)),
      freshness: 'Current',
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

function resourceDiscovery(def: ResourceDef): Obj {
  const r: Obj = {
    resource: def.resource,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: def.readOnly ? ['get', 'list'] : allVerbs,
  };
  if (def.shortNames?.length) r.shortNames = def.shortNames;
  if (def.categories?.length) r.categories = def.categories;
  const subs = subresourceEntries(def);
  if (subs.length)
    r.subresources = subs.map((e) => ({
      subresource: String(e.name).slice(def.resource.length + 1),
      responseKind: { group: e.group ?? def.group, version: e.version ?? def.version, kind: e.kind },
      verbs: e.verbs,
    }));
  return r;
}

export function apiVersions(address: string): Obj {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }],
  };
}

export function apiGroupList(registry: Registry): Obj {
  const groups = new Map<string, string[]>();
  for (const gv of registry.groupVersions()) {
    if (!gv.group) continue;
    const list = groups.get(gv.group) ?? [];
    list.push(gv.version);
    groups.set(gv.group, list);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => apiGroup(name, versions)),
  };
}

export function apiGroup(name: string, versions: string[]): Obj {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: vs, preferredVersion: vs[0] };
}

export function groupVersions(registry: Registry, group: string): string[] {
  return registry
    .groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => gv.version);
}

/** /version: the Kubernetes version skiff implements (kubectl warns beyond ±1 minor of its own). */
export function versionInfo(): Obj {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-skiff',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
