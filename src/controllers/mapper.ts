// RestMapper: what the API server serves (from discovery), to turn an apiVersion + kind into a resource address.
import { StatusError } from '../api/status.js';
import type { Client, ResourceAddress } from '../client/types.js';

export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/** An apiVersion/kind the server does not serve; callers retry (upstream's restMappingError). */
export class RestMappingError extends Error {}

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}
interface ApiGroupList {
  groups?: { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[];
}

export class RestMapper {
  private readonly byGvk = new Map<string, ResourceInfo>();
  /** The preferred version's resources, one entry per group/resource (what the garbage collector watches). */
  readonly preferred: ResourceInfo[] = [];

  private constructor() {}

  /** Reads /api/v1, /apis and every served group version. */
  static async discover(client: Client): Promise<RestMapper> {
    const m = new RestMapper();
    const getJson = async <T>(path: string): Promise<T> => {
      const res = await client.request('GET', path);
      if (res.statusCode !== 200)
        throw new StatusError(res.statusCode, 'InternalError', `discovery ${path}: HTTP ${res.statusCode}`);
      return JSON.parse(res.body.toString('utf8')) as T;
    };
    const add = (group: string, version: string, list: ApiResourceList, preferred: boolean) => {
      for (const r of list.resources ?? []) {
        if (r.name.includes('/')) continue;
        const info: ResourceInfo = {
          group,
          version,
          resource: r.name,
          kind: r.kind,
          namespaced: r.namespaced,
          verbs: r.verbs ?? [],
        };
        m.byGvk.set(gvkKey(group, version, r.kind), info);
        if (preferred) m.preferred.push(info);
      }
    };
    add('', 'v1', await getJson<ApiResourceList>('/api/v1'), true);
    const groups = await getJson<ApiGroupList>('/apis');
    for (const g of groups.groups ?? []) {
      const preferred = g.preferredVersion?.version ?? g.versions[0]?.version;
      for (const v of g.versions)
        add(g.name, v.version, await getJson<ApiResourceList>(`/apis/${g.name}/${v.version}`), v.version === preferred);
    }
    return m;
  }

  /** The resource for an ownerReference-style apiVersion ("v1", "apps/v1") and kind; throws RestMappingError. */
  mapping(apiVersion: string, kind: string): ResourceInfo {
    const { group, version } = splitApiVersion(apiVersion);
    const info = this.byGvk.get(gvkKey(group, version, kind));
    if (!info) throw new RestMappingError(`unable to get REST mapping for ${apiVersion}, Kind=${kind}`);
    return info;
  }

  /** The address of `info` in `namespace` (ignored for cluster-scoped resources). */
  static address(info: ResourceInfo, namespace?: string): ResourceAddress {
    const a: ResourceAddress = { group: info.group, version: info.version, resource: info.resource };
    if (info.namespaced && namespace) a.namespace = namespace;
    return a;
  }
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}
