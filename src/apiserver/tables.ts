// Table output (meta.k8s.io/v1 Table) for `kubectl get`: the generic Name column, ages, and row assembly.
import type { Obj, ResourceDef, TableColumn } from './types.js';

/** apimachinery duration.HumanDuration: "5s", "3m20s", "5h3m", "2d4h", "3y". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of a timestamp for a table cell; `<unknown>` when absent, like kubectl's translateTimestampSince. */
export function age(ts: string | undefined | null, now: number): string {
  if (!ts) return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

export const col = (
  name: string,
  type: TableColumn['type'],
  description: string,
  priority: 0 | 1 = 0,
): TableColumn => ({
  name,
  type,
  format: '',
  description,
  priority,
});

export const ageColumn = col(
  'Age',
  'string',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.',
);

const nameColumn: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

const createdAtColumn = col(
  'Created At',
  'date',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);

export function tableColumns(def: ResourceDef): TableColumn[] {
  if (def.table?.omitName) return def.table.columns;
  return [nameColumn, ...(def.table ? def.table.columns : [createdAtColumn])];
}

/** Table columns are identical for every row: cache them per resource. */
const columnCache = new WeakMap<ResourceDef, TableColumn[]>();
export function columnsFor(def: ResourceDef): TableColumn[] {
  let c = columnCache.get(def);
  if (!c) columnCache.set(def, (c = tableColumns(def)));
  return c;
}

export function tableRow(def: ResourceDef, obj: Obj, now: number): Obj {
  const meta = obj.metadata ?? {};
  const cells = def.table ? def.table.cells(obj, now) : [meta.creationTimestamp ?? null];
  return {
    cells: def.table?.omitName ? cells : [meta.name ?? '', ...cells],
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta },
  };
}

export function buildTable(
  def: ResourceDef,
  objs: Obj[],
  resourceVersion: string,
  withHeaders: boolean,
  cont?: string,
  remaining?: number,
): Obj {
  const now = Date.now();
  const metadata: Obj = { resourceVersion };
  if (cont) metadata.continue = cont;
  if (remaining !== undefined) metadata.remainingItemCount = remaining;
  const table: Obj = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata };
  if (withHeaders) table.columnDefinitions = columnsFor(def);
  table.rows = objs.map((o) => tableRow(def, o, now));
  return table;
}

export function joinOr(list: string[], none = '<none>'): string {
  return list.length ? list.join(',') : none;
}

/** Label selector object rendered like metav1.FormatLabelSelector. */
export function formatLabelSelector(sel: Obj | undefined | null): string {
  if (!sel) return '<none>';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.length ? parts.join(',') : '<none>';
}
