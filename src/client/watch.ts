// Turns a chunked watch response (one JSON event per line) into an async iterator of events.
import { StringDecoder } from 'node:string_decoder';
import { StatusError } from '../api/status.js';
import { statusFromResponse } from './errors.js';
import { WatchEventBatch, type StreamResponse } from './transport.js';
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
          for await (const c of res.body) if (!(c instanceof WatchEventBatch)) chunks.push(Buffer.from(c));
          throw statusFromResponse(res.statusCode, Buffer.concat(chunks));
        }
        // Each chunk is decoded once (a character split between chunks is completed by the next one); lines are
        // cut out of it by position, with no re-slicing of what is left.
        const decoder = new StringDecoder('utf8');
        let pending = '';
        for await (const chunk of res.body) {
          if (chunk instanceof WatchEventBatch) {
            // Decoded in process (direct transport): the server's own objects, in order with any bytes around them.
            for (const ev of chunk.events) yield ev as WatchEvent<T>;
            continue;
          }
          const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
          const data = pending ? pending + text : text;
          let start = 0;
          let nl: number;
          while ((nl = data.indexOf('\n', start)) >= 0) {
            if (nl > start) {
              const ev = parseLine<T>(data, start, nl);
              if (ev) yield ev;
            }
            start = nl + 1;
          }
          pending = start < data.length ? data.slice(start) : '';
          if (pending.length > maxLine) throw new StatusError(500, 'InternalError', 'watch event line too long');
        }
        pending += decoder.end();
        if (pending) {
          const ev = parseLine<T>(pending, 0, pending.length);
          if (ev) yield ev;
        }
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

/** The event in data[start, end), or undefined for a blank line. */
function parseLine<T>(data: string, start: number, end: number): WatchEvent<T> | undefined {
  let line = data.slice(start, end);
  // Our server writes no padding; other servers may end lines with CR or add spaces.
  if (line.charCodeAt(0) <= 32 || line.charCodeAt(line.length - 1) <= 32) {
    line = line.trim();
    if (!line) return undefined;
  }
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
