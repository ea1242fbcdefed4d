// Builds REST paths and query strings for a resource address (the URL layout of the Kubernetes API).
import type { ResourceAddress } from './types.js';

/** `/api/v1/namespaces/ns/pods/name/status` style path for an address, optional name and subresource. */
export function resourcePath(res: ResourceAddress, name?: string, subresource?: string): string {
  let p = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  if (res.namespace) p += `/namespaces/${encodeURIComponent(res.namespace)}`;
  p += `/${res.resource}`;
  if (name !== undefined) {
    if (name === '') throw new Error('resource name may not be empty');
    p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
  }
  return p;
}

/** Query string ("?a=b&c=d") from defined values, or "" when none. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
