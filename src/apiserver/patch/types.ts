// Types shared by the patch engines and their callers in the API server.

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** One metadata.managedFields entry (metav1.ManagedFieldsEntry). */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ApplyOptions {
  /** fieldManager query parameter (required for apply). */
  manager: string;
  /** force=true: take ownership of conflicting fields instead of failing with 409. */
  force: boolean;
  gvk: GroupVersionKind;
  /** RFC 3339 timestamp for managedFields[].time; defaults to now. */
  now?: string;
  /** Subresource the apply targets (e.g. "status"), recorded in managedFields. */
  subresource?: string;
}

export interface ApplyResult {
  /** The object to store (live merged with the applied configuration), metadata.managedFields set. */
  object: unknown;
  managedFields: ManagedFieldsEntry[];
}

export interface UpdateOptions {
  /** fieldManager query parameter; defaults like upstream from the user agent, e.g. "kubectl-edit". */
  manager: string;
  gvk: GroupVersionKind;
  now?: string;
  subresource?: string;
}
