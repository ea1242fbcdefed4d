// The resource registry: every served resource, looked up by group/version/resource; the routes derive from it.
import { pods } from './resources/pods.js';
import { deployments, replicasets } from './resources/workloads.js';
import { services } from './resources/services.js';
import { namespaces, nodes, configmaps, secrets, serviceaccounts, endpoints, events } from './resources/core.js';
import { endpointslices, leases, hpaV1, hpaV2, eventsV1, podMetrics, nodeMetrics } from './resources/others.js';
import { priorityclasses } from './resources/priorityclasses.js';
import type { ResourceDef } from './types.js';

export interface GroupVersion {
  group: string;
  version: string;
}

export class Registry {
  private readonly byPath = new Map<string, ResourceDef>();
  readonly all: ResourceDef[];

  constructor(defs: ResourceDef[]) {
    this.all = defs;
    for (const d of defs) this.byPath.set(`${d.group}/${d.version}/${d.resource}`, d);
  }

  lookup(group: string, version: string, resource: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${resource}`);
  }

  /** Group-versions in discovery order (core first, then groups by first appearance; preferred version first). */
  groupVersions(): GroupVersion[] {
    const seen = new Set<string>();
    const out: GroupVersion[] = [];
    for (const d of this.all) {
      const k = `${d.group}/${d.version}`;
      if (!seen.has(k)) {
        seen.add(k);
        out.push({ group: d.group, version: d.version });
      }
    }
    return out;
  }

  resourcesIn(group: string, version: string): ResourceDef[] {
    return this.all.filter((d) => d.group === group && d.version === version);
  }

  /** Every stored resource, one definition per storage key (the first registered version). */
  storages(): ResourceDef[] {
    const seen = new Set<string>();
    return this.all.filter((d) => !d.readOnly && !seen.has(d.storage) && seen.add(d.storage));
  }

  /** The definition that owns a storage key (for the namespace cleaner and the watch cache). */
  forStorage(storage: string): ResourceDef | undefined {
    return this.all.find((d) => d.storage === storage);
  }
}

/** Everything skiff serves. Order matters for discovery: preferred versions come first within a group. */
export const builtinResources: ResourceDef[] = [
  namespaces,
  pods,
  nodes,
  services,
  endpoints,
  events,
  configmaps,
  secrets,
  serviceaccounts,
  deployments,
  replicasets,
  endpointslices,
  leases,
  priorityclasses,
  hpaV2,
  hpaV1,
  eventsV1,
  podMetrics,
  nodeMetrics,
];

export function defaultRegistry(): Registry {
  return new Registry(builtinResources);
}

/** The core/v1 (or first) definition of a resource by plural name; throws when unknown (programming error). */
export function registryDef(registry: Registry, resource: string): ResourceDef {
  const def = registry.all.find((d) => d.resource === resource && !d.readOnly);
  if (!def) throw new Error(`no resource ${resource}`);
  return def;
}
