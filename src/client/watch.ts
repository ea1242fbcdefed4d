// Turns a chunked watch response (one JSON event per line) into an async iterator of events.
import { StatusError } from '../api/status.js';
import { statusFromResponse } from './errors.js';
import type { StreamResponse } from './transport.js';
import type { WatchEvent } from './types.js';

/** Largest single event line we accept (the API server limits objects to ~3 MiB; a little headroom). */
const maxLine = 16 * 1024 * 1024;

export function watchEvents<T>(
  open: () => Promise<StreamResponse>,
  signal?: AbortSignal,
): AsyncIterable<WatchEvent<T>> {
  return {
    async *[Symbol.asyncIterator]() {
      if (signal?.aborted) return;
      let res: StreamResponse;
      try {
        res = await open();
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      const onAbort = () => res.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          for await (const c of res.body) chunks.push(c as Buffer);
          throw statusFromResponse(res.statusCode, Buffer.concat(chunks));
        }
        let pending = '';
        for await (const chunk of res.body) {
          pending += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line) yield parse<T>(line);
          }
          if (pending.length > maxLine) throw new StatusError(500, 'InternalError', 'watch event line too long');
        }
        if (pending.trim()) yield parse<T>(pending.trim());
      } catch (e) {
        // An abort from our side ends the iteration quietly; anything else is the caller's to handle.
        if (signal?.aborted) return;
        throw e;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        res.close();
      }
    },
  };
}

function parse<T>(line: string): WatchEvent<T> {
  let ev: WatchEvent<T>;
  try {
    ev = JSON.parse(line) as WatchEvent<T>;
  } catch {
    throw new StatusError(500, 'InternalError', `malformed watch event: ${line.slice(0, 200)}`);
  }
  if (!ev || typeof ev.type !== 'string' || typeof ev.object !== 'object') {
    throw new StatusError(500, 'InternalError', `malformed watch event: ${line.slice(0, 200)}`);
  }
  return ev;
}
