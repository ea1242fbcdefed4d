// Maps error responses to StatusError, keeping the server's metav1.Status when it sent one.
import { StatusError, type Status } from '../api/status.js';

const reasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Turns an error response into a StatusError carrying the server's metav1.Status when it sent one. */
export function statusFromResponse(statusCode: number, body: Buffer): StatusError {
  try {
    const s = JSON.parse(body.toString('utf8')) as Partial<Status>;
    if (s && s.kind === 'Status') {
      return new StatusError(
        s.code ?? statusCode,
        s.reason ?? reasons[statusCode] ?? 'Unknown',
        s.message ?? '',
        s.details,
      );
    }
  } catch {
    // not JSON: fall through
  }
  const text = body.toString('utf8').trim().slice(0, 500);
  return new StatusError(
    statusCode,
    reasons[statusCode] ?? 'Unknown',
    text || `the server responded with the status code ${statusCode} but did not return more information`,
  );
}
