// The HTTP code of the metav1.Status error a call throws (0 when it returns), for tests of decoders and patchers.
import { StatusError } from '../../src/api/status.js';

export function statusCodeOf(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (e) {
    if (e instanceof StatusError) return e.code;
    throw e;
  }
}
