// Request bodies: picks the decoder from Content-Type (JSON, YAML, protobuf, the four patch types) with upstream errors.
import * as yaml from 'js-yaml';
import { badRequest, unsupportedMediaType } from '../api/status.js';
import { decodeProtobuf } from './protobuf/index.js';

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

const writeTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const patchTypes: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
  'application/apply-patch+yaml': 'apply',
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

function parseYaml(text: string): unknown {
  try {
    return yaml.load(text);
  } catch (e) {
    throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

function asBuffer(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.alloc(0);
}

/** Decodes a create/update body into an object (never an array or scalar). */
export function decodeObject(contentType: string | undefined, body: unknown): Record<string, unknown> {
  const type = mediaType(contentType) || 'application/json';
  const buf = asBuffer(body);
  let out: unknown;
  if (type === 'application/json') out = parseJson(buf.toString('utf8'));
  else if (type === 'application/yaml') out = parseYaml(buf.toString('utf8'));
  else if (type === 'application/vnd.kubernetes.protobuf') out = decodeProtobuf(buf);
  else throw unsupportedMediaType(type, writeTypes);
  if (out === null || typeof out !== 'object' || Array.isArray(out)) {
    if (buf.length === 0) throw badRequest('the body of the request was empty');
    throw badRequest(`couldn't get version/kind; json parse error: the body must be a JSON object`);
  }
  return out as Record<string, unknown>;
}

/** Decodes a PATCH body; the patch type comes from Content-Type only (as upstream). */
export function decodePatch(contentType: string | undefined, body: unknown): { type: PatchType; patch: unknown } {
  const media = mediaType(contentType);
  const type = patchTypes[media];
  if (!type) throw unsupportedMediaType(media || '<none>', Object.keys(patchTypes));
  const text = asBuffer(body).toString('utf8');
  if (text.trim() === '') throw badRequest('the body of the request was empty');
  let patch: unknown;
  if (type === 'apply') {
    patch = text.trimStart().startsWith('{') ? (tryJson(text) ?? parseYaml(text)) : parseYaml(text);
  } else {
    try {
      patch = JSON.parse(text);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
  }
  if (type === 'json') {
    if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  } else if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw badRequest(
      type === 'apply' ? 'error decoding YAML: the body must be an object' : 'the patch must be a JSON object',
    );
  }
  return { type, patch };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** DeleteOptions from a DELETE body (JSON or YAML) — an empty body means defaults. */
export function decodeDeleteOptions(contentType: string | undefined, body: unknown): Record<string, unknown> {
  const buf = asBuffer(body);
  if (buf.length === 0) return {};
  const type = mediaType(contentType) || 'application/json';
  const out =
    type === 'application/yaml'
      ? parseYaml(buf.toString('utf8'))
      : type === 'application/vnd.kubernetes.protobuf'
        ? decodeProtobuf(buf)
        : parseJson(buf.toString('utf8'));
  if (out === null || out === undefined) return {};
  if (typeof out !== 'object' || Array.isArray(out)) throw badRequest('DeleteOptions must be an object');
  return out as Record<string, unknown>;
}
