// metav1.Status errors: the one place that builds the error bodies every API failure returns.
// Reasons and codes as in k8s.io/apimachinery/pkg/api/errors.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** An error that carries a metav1.Status; handlers throw it and the server serialises `status`. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string {
    return this.status.reason;
  }
}

/** Identifies the resource in messages: `pods "web"`, `deployments.apps "web"`. */
export interface ResourceRef {
  group?: string;
  resource: string;
  name?: string;
  kind?: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

function details(ref: ResourceRef, extra?: Partial<StatusDetails>): StatusDetails {
  const d: StatusDetails = { ...extra };
  if (ref.name !== undefined) d.name = ref.name;
  if (ref.group) d.group = ref.group;
  d.kind = ref.resource;
  return d;
}

export function success(): Omit<Status, 'reason' | 'message'> & { reason?: string; message?: string } {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
}

export function notFound(ref: ResourceRef): StatusError {
  return new StatusError(404, 'NotFound', `${qualified(ref)} "${ref.name ?? ''}" not found`, details(ref));
}

export function alreadyExists(ref: ResourceRef): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualified(ref)} "${ref.name ?? ''}" already exists`, details(ref));
}

/** The optimistic-concurrency failure, with upstream's exact wording. */
export function conflict(
  ref: ResourceRef,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name ?? ''}": ${why}`,
    details(ref),
  );
}

export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueTypeInvalid';
  field: string;
  message: string;
}

/** 422 Invalid with one cause per field error, message formatted like upstream's NewInvalid. */
export function invalid(ref: ResourceRef & { kind: string }, errors: FieldError[]): StatusError {
  const parts = errors.map((e) => `${e.field}: ${e.message}`);
  const joined = parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
  const qualifiedKind = ref.group ? `${ref.kind}.${ref.group}` : ref.kind;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${ref.name ?? ''}" is invalid: ${joined}`, {
    name: ref.name,
    group: ref.group || undefined,
    kind: ref.kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError(401, 'Unauthorized', message);
}

export function forbidden(ref: ResourceRef, message: string): StatusError {
  return new StatusError(
    403,
    'Forbidden',
    `${qualified(ref)} "${ref.name ?? ''}" is forbidden: ${message}`,
    details(ref),
  );
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', message);
}

/** 410 Gone: the requested resourceVersion has been compacted. */
export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Gone', message);
}

export function tooLarge(message = 'Request entity too large: limit is 3145728'): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', message);
}

export function unsupportedMediaType(
  contentType: string,
  accepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'],
): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')} (got ${contentType})`,
  );
}

/** 404 for a URL that names no resource (upstream's generic "could not find the requested resource"). */
export function pathNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {
    causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }],
  });
}

/** 504 when a request waits for a resourceVersion the cache has not reached (NewTooLargeResourceVersionError). */
export function tooLargeResourceVersion(requested: number, current: number, retryAfterSeconds = 1): StatusError {
  return new StatusError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds,
  });
}

export function tooManyRequests(message: string, retryAfterSeconds = 1): StatusError {
  return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function internal(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}
