/**
 * Human-readable sizes exactly as docker/go-units' `HumanSize` prints them
 * (`238B`, `1.107kB`, `38.82MB`): decimal (SI) units, four significant digits,
 * formatted the way Go's `fmt` verb `%.4g` does. umoci's `stat` prints every
 * blob size through it, so scripts that scrape that output see these strings.
 *
 * The subtle part is Go's `%g`: rounding is done on the exact binary value
 * with ties going to the even digit (JavaScript's `toPrecision` rounds ties
 * up), trailing zeros are dropped, and the exponent form (`1.5e+07`) is used
 * only when the decimal exponent is below -4 or at least the precision.
 */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const;

/**
 * Formats `size` (bytes) like go-units' `HumanSize(float64(size))`: divide by
 * 1000 while the value is at least 1000 (up to `YB`), then `%.4g` + unit.
 * Pure; never throws (NaN and infinities print as Go would: `NaN`, `+Inf`).
 */
export function humanSize(size: number): string {
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return formatGoG(value, 4) + DECIMAL_UNITS[unit];
}

/** Exact decimal digits of a finite, positive double: `0.d1d2d3… × 10^point`. */
interface Decimal {
  /** significant digits without leading zeros; trailing zeros trimmed */
  digits: string;
  /** position of the decimal point relative to the first digit (Go's `dp`) */
  point: number;
}

/** The value's decimal expansion (exact for every double we meet: ≤ 100 significant digits). */
function exactDecimal(x: number): Decimal {
  const text = x.toPrecision(100);
  const [mantissa = '', expPart] = text.split('e');
  const exp10 = expPart === undefined ? 0 : Number(expPart);
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const fracPart = dot < 0 ? '' : mantissa.slice(dot + 1);
  let digits = intPart + fracPart;
  let point = intPart.length + exp10;
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  point -= lead;
  return { digits: digits.replace(/0+$/, ''), point };
}

/** Rounds to `n` significant digits, ties to even (Go's `decimal.Round`). */
function roundDecimal(d: Decimal, n: number): Decimal {
  if (d.digits.length <= n) return d;
  const next = d.digits.charCodeAt(n) - 48;
  const rest = d.digits.slice(n + 1);
  const lastKept = n > 0 ? d.digits.charCodeAt(n - 1) - 48 : 0;
  const tie = next === 5 && /^0*$/.test(rest);
  const up = next > 5 || (next === 5 && !tie) || (tie && n > 0 && lastKept % 2 === 1);
  let kept = d.digits.slice(0, n);
  let point = d.point;
  if (up) {
    const chars = kept.split('');
    let i = chars.length - 1;
    while (i >= 0 && chars[i] === '9') {
      chars[i] = '0';
      i--;
    }
    if (i < 0) {
      chars.unshift('1');
      chars.pop();
      point++;
    } else {
      chars[i] = String.fromCharCode((chars[i] ?? '0').charCodeAt(0) + 1);
    }
    kept = chars.join('');
  }
  return { digits: kept.replace(/0+$/, ''), point };
}

/**
 * Go's `fmt.Sprintf("%.*g", prec, x)` for a float64. Exposed for tests and
 * for other Go-compatible printers; `prec` must be at least 1.
 */
export function formatGoG(x: number, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? '-' : '';
  if (x === 0) return sign + '0';
  const d = roundDecimal(exactDecimal(Math.abs(x)), prec);
  const nd = d.digits.length;
  let eprec = prec;
  if (eprec > nd && nd >= d.point) eprec = nd;
  const exp = d.point - 1;
  if (exp < -4 || exp >= eprec) {
    // %e with min(prec, nd) significant digits
    const p = Math.min(prec, nd);
    let out = d.digits[0] ?? '0';
    if (p > 1) out += '.' + d.digits.slice(1, p).padEnd(p - 1, '0');
    const e = Math.abs(exp);
    return `${sign}${out}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  const p = prec > d.point ? nd : prec;
  const decimals = Math.max(p - d.point, 0);
  const digitAt = (i: number): string => (i >= 0 && i < nd ? (d.digits[i] ?? '0') : '0');
  let out = '';
  if (d.point > 0) {
    for (let i = 0; i < d.point; i++) out += digitAt(i);
  } else {
    out = '0';
  }
  if (decimals > 0) {
    out += '.';
    for (let i = 0; i < decimals; i++) out += digitAt(d.point + i);
  }
  return sign + out;
}
