// Reusable validators (apimachinery/pkg/util/validation and api/validation): names, metadata, labels, quantities.
import type { FieldError } from '../api/status.js';
import { labelKeyError, labelValueError } from '../api/selectors.js';
import { isQuantity, parseQuantity, isNegative } from '../api/quantity.js';
import type { Obj } from './types.js';

const dns1123LabelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123SubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035LabelRe = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const cIdentifierRe = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envVarNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path';

/** Why a name is invalid, or undefined. `path` names (e.g. nodes? no — RBAC) only forbid '/', '%' and '.'/'..'. */
export function nameError(name: string, rule: NameRule): string | undefined {
  switch (rule) {
    case 'label':
      if (name.length > 63) return 'must be no more than 63 characters';
      return dns1123LabelRe.test(name) ? undefined : DNS1123_LABEL_MSG;
    case 'dns1035':
      if (name.length > 63) return 'must be no more than 63 characters';
      return dns1035LabelRe.test(name) ? undefined : DNS1035_LABEL_MSG;
    case 'path':
      if (name === '.' || name === '..') return `may not be '${name}'`;
      if (name.includes('/') || name.includes('%')) return `may not contain '/' or '%'`;
      return undefined;
    default:
      if (name.length > 253) return 'must be no more than 253 characters';
      return dns1123SubdomainRe.test(name) ? undefined : DNS1123_SUBDOMAIN_MSG;
  }
}

export function isDns1123Label(s: unknown): boolean {
  return typeof s === 'string' && s.length <= 63 && dns1123LabelRe.test(s);
}

export function isCIdentifier(s: string): boolean {
  return cIdentifierRe.test(s);
}

/** Collects field errors with the upstream shapes (field.Required, field.Invalid, …). */
export class Errors {
  readonly list: FieldError[] = [];
  required(field: string, message = 'Required value'): void {
    this.list.push({ type: 'FieldValueRequired', field, message });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${fmt(value)}: ${detail}` });
  }
  notSupported(field: string, value: unknown, allowed: string[]): void {
    const quoted = allowed.map((a) => `"${a}"`).join(', ');
    this.list.push({
      type: 'FieldValueNotSupported',
      field,
      message: `Unsupported value: ${fmt(value)}: supported values: ${quoted}`,
    });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ type: 'FieldValueDuplicate', field, message: `Duplicate value: ${fmt(value)}` });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });
  }
  typeInvalid(field: string, value: unknown, detail: string): void {
    this.list.push({ type: 'FieldValueTypeInvalid', field, message: `Invalid value: ${fmt(value)}: ${detail}` });
  }
}

function fmt(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const totalAnnotationSizeLimit = 256 * 1024;

/** ObjectMeta validation: name rule, labels, annotations, owner references, finalizers. */
export function validateMeta(meta: Obj, errs: Errors, opts: { namespaced: boolean; nameRule: NameRule }): void {
  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    if (!meta.generateName) errs.required('metadata.name', 'name or generateName is required');
  } else {
    const e = nameError(name, opts.nameRule);
    if (e) errs.invalid('metadata.name', name, e);
  }
  if (opts.namespaced) {
    if (!meta.namespace) errs.required('metadata.namespace');
    else {
      const e = nameError(meta.namespace, 'label');
      if (e) errs.invalid('metadata.namespace', meta.namespace, e);
    }
  } else if (meta.namespace) {
    errs.forbidden('metadata.namespace', 'not allowed on this type');
  }
  validateLabels(meta.labels, 'metadata.labels', errs);
  if (meta.annotations !== undefined && meta.annotations !== null) {
    if (!isObject(meta.annotations)) errs.typeInvalid('metadata.annotations', meta.annotations, 'must be a map');
    else {
      let size = 0;
      for (const [k, v] of Object.entries(meta.annotations)) {
        const ke = labelKeyError(k);
        if (ke) errs.invalid('metadata.annotations', k, ke);
        if (typeof v !== 'string') errs.typeInvalid(`metadata.annotations.${k}`, v, 'must be a string');
        else size += k.length + v.length;
      }
      if (size > totalAnnotationSizeLimit)
        errs.list.push({
          type: 'FieldValueTooLong',
          field: 'metadata.annotations',
          message: `Too long: must have at most ${totalAnnotationSizeLimit} bytes`,
        });
    }
  }
  if (meta.finalizers !== undefined && meta.finalizers !== null) {
    if (!Array.isArray(meta.finalizers)) errs.typeInvalid('metadata.finalizers', meta.finalizers, 'must be a list');
    else
      meta.finalizers.forEach((f: unknown, i: number) => {
        if (typeof f !== 'string' || labelKeyError(f))
          errs.invalid(`metadata.finalizers[${i}]`, f, 'name must be a qualified name');
      });
  }
  if (Array.isArray(meta.ownerReferences)) {
    meta.ownerReferences.forEach((r: Obj, i: number) => {
      const p = `metadata.ownerReferences[${i}]`;
      if (!isObject(r)) return errs.typeInvalid(p, r, 'must be an object');
      if (!r.apiVersion) errs.invalid(`${p}.apiVersion`, r.apiVersion, 'version must not be empty');
      if (!r.kind) errs.invalid(`${p}.kind`, r.kind, 'kind must not be empty');
      if (!r.name) errs.invalid(`${p}.name`, r.name, 'name must not be empty');
      if (!r.uid) errs.invalid(`${p}.uid`, r.uid, 'uid must not be empty');
    });
  }
}

export function validateLabels(labels: unknown, field: string, errs: Errors): void {
  if (labels === undefined || labels === null) return;
  if (!isObject(labels)) return errs.typeInvalid(field, labels, 'must be a map');
  for (const [k, v] of Object.entries(labels)) {
    const ke = labelKeyError(k);
    if (ke) errs.invalid(field, k, ke);
    if (typeof v !== 'string') errs.typeInvalid(`${field}.${k}`, v, 'must be a string');
    else {
      const ve = labelValueError(v);
      if (ve) errs.invalid(field, v, ve);
    }
  }
}

/** Immutable-field check on update: `field is immutable` like upstream ValidateImmutableField. */
export function immutable(newV: unknown, oldV: unknown, field: string, errs: Errors): void {
  if (JSON.stringify(newV ?? null) !== JSON.stringify(oldV ?? null)) errs.invalid(field, newV, 'field is immutable');
}

/** Verdicts on quantity texts already seen: every pod repeats the same few ("100m", "64Mi"), parsing is BigInt work. */
const quantityVerdicts = new Map<string, 'ok' | 'garbled' | 'negative'>();
const QUANTITY_CACHE_LIMIT = 4096;

function quantityVerdict(v: unknown): 'ok' | 'garbled' | 'negative' {
  if (!isQuantity(v)) return 'garbled';
  return isNegative(parseQuantity(v as string)) ? 'negative' : 'ok';
}

/** A non-negative quantity (resources.requests/limits, capacity): garbled → invalid, negative → invalid. */
export function validateQuantity(v: unknown, field: string, errs: Errors): void {
  let verdict = typeof v === 'string' ? quantityVerdicts.get(v) : undefined;
  if (verdict === undefined) {
    verdict = quantityVerdict(v);
    if (typeof v === 'string' && v.length <= 64) {
      if (quantityVerdicts.size >= QUANTITY_CACHE_LIMIT) quantityVerdicts.clear();
      quantityVerdicts.set(v, verdict);
    }
  }
  if (verdict === 'ok') return;
  if (verdict === 'garbled') {
    errs.invalid(
      field,
      v,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    return;
  }
  errs.invalid(field, v, 'must be greater than or equal to 0');
}

export function validateResourceList(list: unknown, field: string, errs: Errors): void {
  if (list === undefined || list === null) return;
  if (!isObject(list)) return errs.typeInvalid(field, list, 'must be a map');
  for (const [k, v] of Object.entries(list)) validateQuantity(v, `${field}[${k}]`, errs);
}

export function validatePort(v: unknown, field: string, errs: Errors, allowZero = false): void {
  if (!Number.isInteger(v) || (v as number) < (allowZero ? 0 : 1) || (v as number) > 65535)
    errs.invalid(field, v, 'must be between 1 and 65535, inclusive');
}

export function validateEnvName(name: unknown, field: string, errs: Errors): void {
  if (typeof name !== 'string' || name === '') return errs.required(field);
  if (!envVarNameRe.test(name))
    errs.invalid(
      field,
      name,
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
    );
}

export function validateNonNegativeInt(v: unknown, field: string, errs: Errors): void {
  if (v === undefined || v === null) return;
  if (!Number.isInteger(v)) errs.typeInvalid(field, v, 'must be an integer');
  else if ((v as number) < 0) errs.invalid(field, v, 'must be greater than or equal to 0');
}

/** intOrString percent/int for maxSurge etc. */
export function validateIntOrPercent(v: unknown, field: string, errs: Errors): void {
  if (v === undefined || v === null) return;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) errs.invalid(field, v, 'must be greater than or equal to 0');
  } else if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (!m)
      errs.invalid(
        field,
        v,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      );
    else if (Number(m[1]) > 100) errs.invalid(field, v, 'must not be greater than 100%');
  } else errs.typeInvalid(field, v, 'must be an integer or percentage');
}
