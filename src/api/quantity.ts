// Kubernetes resource quantities ("100m", "500Mi", "1e3"): one parser used by the API server, scheduler and kubelet.
// Grammar and rounding follow k8s.io/apimachinery/pkg/api/resource (quantity.go): values round up to the unit asked for.

const binarySuffixes: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const quantityPattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** An exact quantity: numerator / 10^scale (scale may be negative). */
export interface Quantity {
  readonly numerator: bigint;
  readonly scale: number;
  readonly format: 'BinarySI' | 'DecimalSI' | 'DecimalExponent';
}

export class QuantityError extends Error {
  constructor(input: unknown) {
    super(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    this.name = 'QuantityError';
    this.input = input;
  }
  readonly input: unknown;
}

/** Parses a quantity string or number; throws QuantityError on anything upstream would reject. */
export function parseQuantity(input: string | number): Quantity {
  const text = typeof input === 'number' ? numberToText(input) : input;
  if (typeof text !== 'string' || text.length === 0 || text.length > 128) throw new QuantityError(input);
  const m = quantityPattern.exec(text.trim() === text ? text : '');
  if (!m) throw new QuantityError(input);
  const [, sign, digits, suffix, exponent] = m;
  const [whole, frac = ''] = digits!.split('.');
  let numerator = BigInt((whole || '0') + frac);
  let scale = frac.length;
  let format: Quantity['format'] = 'DecimalSI';
  if (exponent !== undefined) {
    const e = Number(exponent);
    if (!Number.isSafeInteger(e) || Math.abs(e) > 1000) throw new QuantityError(input);
    scale -= e;
    format = 'DecimalExponent';
  } else if (suffix !== undefined && suffix in binarySuffixes) {
    numerator *= binarySuffixes[suffix]!;
    format = 'BinarySI';
  } else if (suffix !== undefined) {
    scale -= decimalSuffixes[suffix]!;
  }
  if (sign === '-') numerator = -numerator;
  return { numerator, scale, format };
}

function numberToText(n: number): string {
  if (!Number.isFinite(n)) return '';
  return String(n).replace('e+', 'e');
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n === b > 0n ? q + 1n : q;
}

/** The quantity in units of 10^exp10, rounded up to an integer (as upstream's ScaledValue). */
function scaledCeil(q: Quantity, exp10: number): bigint {
  const shift = q.scale + exp10;
  if (shift <= 0) return q.numerator * 10n ** BigInt(-shift);
  return ceilDiv(q.numerator, 10n ** BigInt(shift));
}

function toSafeNumber(v: bigint): number {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (v > max) return Number.MAX_SAFE_INTEGER;
  if (v < -max) return -Number.MAX_SAFE_INTEGER;
  return Number(v);
}

/** Value in thousandths, rounded up: cpu "100m" → 100, "1" → 1000. */
export function milliValue(input: string | number | Quantity): number {
  const q = typeof input === 'object' ? input : parseQuantity(input);
  return toSafeNumber(scaledCeil(q, -3));
}

/** Whole value, rounded up: memory "500Mi" → 524288000. */
export function value(input: string | number | Quantity): number {
  const q = typeof input === 'object' ? input : parseQuantity(input);
  return toSafeNumber(scaledCeil(q, 0));
}

export function isNegative(q: Quantity): boolean {
  return q.numerator < 0n;
}

/** Canonical text as the API server writes it back ("0.5" → "500m", "1024Ki" → "1Mi", "1e3" → "1e3"). */
export function formatQuantity(input: string | number | Quantity): string {
  const q = typeof input === 'object' ? input : parseQuantity(input);
  const negative = q.numerator < 0n;
  const abs = negative ? -q.numerator : q.numerator;
  const sign = negative ? '-' : '';
  if (abs === 0n) return '0';
  if (q.format === 'BinarySI') {
    // Binary only when the value is a whole number of bytes; otherwise upstream falls back to decimal.
    if (q.scale <= 0 || abs % 10n ** BigInt(q.scale) === 0n) {
      let whole = q.scale <= 0 ? abs * 10n ** BigInt(-q.scale) : abs / 10n ** BigInt(q.scale);
      const names = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
      let i = 0;
      while (i < names.length - 1 && whole % 1024n === 0n && whole >= 1024n) {
        whole /= 1024n;
        i++;
      }
      return sign + whole.toString() + names[i];
    }
  }
  // Decimal: smallest exponent multiple of 3 that keeps an integer mantissa (rounding up below nano).
  let mantissa = abs;
  let exp = -q.scale;
  while (exp % 3 !== 0) {
    mantissa *= 10n;
    exp -= 1;
  }
  while (exp < -9) {
    mantissa = ceilDiv(mantissa, 1000n);
    exp += 3;
  }
  while (mantissa % 1000n === 0n && mantissa !== 0n && exp < 18) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (q.format === 'DecimalExponent') return sign + mantissa.toString() + (exp === 0 ? '' : `e${exp}`);
  const suffix: Record<number, string> = {
    [-9]: 'n',
    [-6]: 'u',
    [-3]: 'm',
    0: '',
    3: 'k',
    6: 'M',
    9: 'G',
    12: 'T',
    15: 'P',
    18: 'E',
  };
  return sign + mantissa.toString() + suffix[exp]!;
}

/** True when the input parses; used by validation to report bad quantities as field errors. */
export function isQuantity(input: unknown): boolean {
  if (typeof input !== 'string' && typeof input !== 'number') return false;
  try {
    parseQuantity(input);
    return true;
  } catch {
    return false;
  }
}
