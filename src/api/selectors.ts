// Label and field selectors: parsing the query-string syntax, LabelSelector objects, and matching.
// One implementation for the API server, controllers, scheduler and proxy (semantics of apimachinery/pkg/labels).

export type Labels = Record<string, string> | undefined | null;

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals' | 'Gt' | 'Lt';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** A parsed selector: every requirement must hold. An empty list matches everything. */
export type Selector = Requirement[];

/** Selector that matches nothing (LabelSelector nil in some contexts). */
export const nothing: Selector = [{ key: '', operator: 'In', values: [] }];

export class SelectorError extends Error {
  override name = 'SelectorError';
}

const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Why a label key is invalid, or undefined when it is valid (validation.IsQualifiedName). */
export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must be non-empty';
    if (prefix.length > 253 || !dns1123Subdomain.test(prefix))
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!qualifiedNamePart.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  return undefined;
}

/** Why a label value is invalid, or undefined when it is valid (validation.IsValidLabelValue). */
export function labelValueError(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!labelValuePattern.test(value))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  return undefined;
}

// --- string syntax: "a=b,c!=d,e in (f,g),!h,i" ---------------------------------------------------------------

type Token = { kind: 'word' | 'op' | 'comma' | 'open' | 'close' | 'not' | 'end'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === ',') {
      tokens.push({ kind: 'comma', text: c });
      i++;
    } else if (c === '(') {
      tokens.push({ kind: 'open', text: c });
      i++;
    } else if (c === ')') {
      tokens.push({ kind: 'close', text: c });
      i++;
    } else if (c === '!' && input[i + 1] === '=') {
      tokens.push({ kind: 'op', text: '!=' });
      i += 2;
    } else if (c === '!') {
      tokens.push({ kind: 'not', text: c });
      i++;
    } else if (c === '=' && input[i + 1] === '=') {
      tokens.push({ kind: 'op', text: '==' });
      i += 2;
    } else if (c === '=' || c === '<' || c === '>') {
      tokens.push({ kind: 'op', text: c });
      i++;
    } else {
      let j = i;
      while (j < input.length && !' \t,()=!<>'.includes(input[j]!)) j++;
      const word = input.slice(i, j);
      tokens.push({ kind: 'word', text: word });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

/** Parses a label selector string as kubectl sends it in `labelSelector=`. Throws SelectorError. */
export function parseLabelSelector(input: string | undefined | null, validate = true): Selector {
  if (!input || input.trim() === '') return [];
  const tokens = tokenize(input);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const next = () => tokens[pos++]!;
  const fail = (msg: string): never => {
    throw new SelectorError(`unable to parse requirement: ${msg}`);
  };
  const out: Requirement[] = [];
  for (;;) {
    let negate = false;
    if (peek().kind === 'not') {
      next();
      negate = true;
    }
    const keyTok = next();
    if (keyTok.kind !== 'word') fail(`found '${keyTok.text}', expected: identifier`);
    const key = keyTok.text;
    if (validate) {
      const err = labelKeyError(key);
      if (err) fail(`invalid label key "${key}": ${err}`);
    }
    const t = peek();
    if (negate) {
      out.push({ key, operator: 'DoesNotExist', values: [] });
    } else if (t.kind === 'comma' || t.kind === 'end') {
      out.push({ key, operator: 'Exists', values: [] });
    } else if (t.kind === 'op') {
      next();
      const v = peek().kind === 'word' ? next().text : '';
      if (validate && (t.text === '=' || t.text === '==' || t.text === '!=')) {
        const err = labelValueError(v);
        if (err) fail(`invalid label value: "${v}": at key: "${key}": ${err}`);
      }
      if (t.text === '=' || t.text === '==') out.push({ key, operator: 'Equals', values: [v] });
      else if (t.text === '!=') out.push({ key, operator: 'NotEquals', values: [v] });
      else {
        if (!/^-?\d+$/.test(v)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
        out.push({ key, operator: t.text === '>' ? 'Gt' : 'Lt', values: [v] });
      }
    } else if (t.kind === 'word' && (t.text === 'in' || t.text === 'notin')) {
      next();
      if (next().kind !== 'open') fail(`found '${peek().text}', expected: '('`);
      const values: string[] = [];
      for (;;) {
        const v = peek();
        if (v.kind === 'word') {
          next();
          if (validate) {
            const err = labelValueError(v.text);
            if (err) fail(`invalid label value: "${v.text}": at key: "${key}": ${err}`);
          }
          values.push(v.text);
        } else if (v.kind === 'comma' || v.kind === 'close') {
          // an empty element between commas is the empty string
          if (v.kind === 'comma' && (values.length === 0 || tokens[pos - 1]!.kind === 'comma')) values.push('');
        }
        const sep = next();
        if (sep.kind === 'close') break;
        if (sep.kind !== 'comma' && !(sep.kind === 'word')) fail(`found '${sep.text}', expected: ',' or ')'`);
        if (sep.kind === 'word') pos--;
      }
      out.push({ key, operator: t.text === 'in' ? 'In' : 'NotIn', values: [...new Set(values)].sort() });
    } else {
      fail(`found '${t.text}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    const sep = next();
    if (sep.kind === 'end') break;
    if (sep.kind !== 'comma') fail(`found '${sep.text}', expected: ','`);
  }
  return out;
}

/** metav1.LabelSelector as stored in objects. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

/**
 * Converts a metav1.LabelSelector into a Selector (LabelSelectorAsSelector): undefined/null matches nothing,
 * an empty selector matches everything.
 */
export function selectorFromObject(sel: LabelSelectorObject | undefined | null): Selector {
  if (sel === undefined || sel === null) return nothing;
  const out: Requirement[] = [];
  for (const [key, v] of Object.entries(sel.matchLabels ?? {})) out.push({ key, operator: 'Equals', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator;
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')
      throw new SelectorError(`"${op}" is not a valid label selector operator`);
    out.push({ key: e.key, operator: op, values: [...(e.values ?? [])] });
  }
  return out;
}

function requirementMatches(r: Requirement, labels: Labels): boolean {
  const has = labels != null && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels![r.key]! : undefined;
  switch (r.operator) {
    case 'Equals':
    case 'In':
      return has && r.values.includes(v!);
    case 'NotEquals':
    case 'NotIn':
      return !has || !r.values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const a = BigInt(v!);
      const b = BigInt(r.values[0]!);
      return r.operator === 'Gt' ? a > b : a < b;
    }
  }
}

export function matches(selector: Selector, labels: Labels): boolean {
  for (const r of selector) if (!requirementMatches(r, labels)) return false;
  return true;
}

/** True for the selector that matches everything. */
export function isEverything(selector: Selector): boolean {
  return selector.length === 0;
}

export function formatSelector(selector: Selector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0]}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0]}`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'Gt':
          return `${r.key}>${r.values[0]}`;
        case 'Lt':
          return `${r.key}<${r.values[0]}`;
        default:
          return `${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${r.values.join(',')})`;
      }
    })
    .join(',');
}

// --- field selectors: "metadata.name=x,status.phase!=Running" ---------------------------------------------------

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** Parses `fieldSelector=` (only =, ==, != as upstream; backslash escapes for , = !). */
export function parseFieldSelector(input: string | undefined | null): FieldRequirement[] {
  if (!input || input.trim() === '') return [];
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === '\\' && i + 1 < input.length) {
      cur += c + input[++i];
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.map((p) => {
    const m = /^([^=!]+?)(==|=|!=)(.*)$/.exec(p);
    if (!m) throw new SelectorError(`invalid selector: '${input}'; can't understand '${p}'`);
    return {
      field: m[1]!.trim(),
      operator: m[2] === '!=' ? '!=' : '=',
      value: m[3]!.replace(/\\(.)/g, '$1'),
    };
  });
}

/** Matches field requirements against an object's selectable fields (a flat map built by the resource's strategy). */
export function fieldsMatch(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  for (const r of reqs) {
    const v = fields[r.field] ?? '';
    if (r.operator === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
