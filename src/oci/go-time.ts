/**
 * Times the way Go's `time` package reads and prints them, for the JSON blobs
 * umoci writes. A JS Date holds milliseconds only, while Go keeps nanoseconds
 * and the zone offset it parsed, and prints them back with RFC3339Nano. Any
 * loss shows up as a different config digest, so ocikit carries times as
 * (Unix seconds, nanoseconds, offset) and never through a Date.
 *
 * Behaviour follows the Go toolchains umoci 0.6 is built with (Go >= 1.23):
 * `time.Parse(time.RFC3339Nano, s)` for user input and blobs, and
 * `t.Format(time.RFC3339Nano)` for output.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { OcikitError } from '../errors.js';

/**
 * An instant and the offset to show it in. `seconds` are Unix seconds (UTC),
 * `nanos` is 0..999999999, `offsetSeconds` is east of UTC. `utc` marks Go's UTC
 * location: it prints as `Z` whatever `offsetSeconds` says. Go prints `Z` for
 * any zero offset too, so `+00:00` in and `Z` out is expected.
 */
export interface GoTime {
  seconds: bigint;
  nanos: number;
  offsetSeconds: number;
  utc: boolean;
}

/** The layout umoci hands to time.Parse for --created and --history.created. */
export const RFC3339_NANO_LAYOUT = '2006-01-02T15:04:05.999999999Z07:00';

const SECONDS_PER_DAY = 86400n;

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of daysFromCivil. */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysIn(month: number, year: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Go's time-package quote(): ASCII printable kept, other bytes as \xNN. */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of new TextEncoder().encode(ch)) out += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** Go's getnum: one or two digits (exactly two when fixed). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : [s.charCodeAt(0) - 48, s.slice(1)];
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

/**
 * Parses like Go's `time.Parse(time.RFC3339Nano, s)`, which is what umoci
 * uses for `--created` and `--history.created`, and (since Go 1.20) what
 * `Time.UnmarshalJSON` accepts. Go's leniencies are kept: a one-digit hour,
 * a comma before the fraction, more than nine fraction digits (truncated),
 * zone offsets up to +24:60. Throws OcikitError('USAGE') with umoci's text,
 * `parse <what>: parsing time "…" as "…": …`.
 */
export function parseRfc3339(s: string, what = 'time'): GoTime {
  const fail = (message: string): never => {
    throw new OcikitError('USAGE', `parse ${what}: parsing time ${timeQuote(s)}${message}`);
  };
  const cannot = (valueElem: string, layoutElem: string): never =>
    fail(` as ${timeQuote(RFC3339_NANO_LAYOUT)}: cannot parse ${timeQuote(valueElem)} as ${timeQuote(layoutElem)}`);
  const skip = (v: string, prefix: string): string =>
    v.startsWith(prefix) ? v.slice(prefix.length) : cannot(v, prefix);

  let v = s;
  // 2006
  if (v.length < 4 || !/^[0-9]{4}/.test(v)) cannot(v, '2006');
  const year = Number(v.slice(0, 4));
  v = skip(v.slice(4), '-');
  // 01
  const mo = getnum(v, true) ?? cannot(v, '01');
  if (mo[0] < 1 || mo[0] > 12) fail(': month out of range');
  v = skip(mo[1], '-');
  // 02 (validated against the month at the end)
  const dd = getnum(v, true) ?? cannot(v, '02');
  v = skip(dd[1], 'T');
  // 15 (one digit allowed)
  const hh = getnum(v, false) ?? cannot(v, '15');
  if (hh[0] >= 24) fail(': hour out of range');
  v = skip(hh[1], ':');
  // 04
  const mi = getnum(v, true) ?? cannot(v, '04');
  if (mi[0] >= 60) fail(': minute out of range');
  v = skip(mi[1], ':');
  // 05
  const ss = getnum(v, true) ?? cannot(v, '05');
  if (ss[0] >= 60) fail(': second out of range');
  v = ss[1];
  // .999999999: optional, '.' or ',', any number of digits, truncated to nanoseconds
  let nanos = 0;
  if (v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigit(v, 1)) {
    let n = 1;
    while (n < v.length && isDigit(v, n)) n++;
    nanos = Number(v.slice(1, Math.min(n, 10)).padEnd(9, '0'));
    v = v.slice(n);
  }
  // Z07:00
  let offset = 0;
  let utc = false;
  if (v.startsWith('Z')) {
    utc = true;
    v = v.slice(1);
  } else {
    const hold = v;
    if (v.length < 6 || v[3] !== ':') cannot(hold, 'Z07:00');
    const oh = getnum(v.slice(1, 3), true);
    const om = oh === undefined ? undefined : getnum(v.slice(4, 6), true);
    const ohv = oh?.[0] ?? 0;
    const omv = om?.[0] ?? 0;
    const sign = v[0];
    v = v.slice(6);
    // Go checks the ranges before the syntax, and the minute message wins.
    if (omv > 60) fail(': time zone offset minute out of range');
    if (ohv > 24) fail(': time zone offset hour out of range');
    if (oh === undefined || om === undefined || (sign !== '+' && sign !== '-')) cannot(hold, 'Z07:00');
    offset = (ohv * 60 + omv) * 60 * (sign === '-' ? -1 : 1);
  }
  if (v !== '') fail(`: extra text: ${timeQuote(v)}`);
  if (dd[0] < 1 || dd[0] > daysIn(mo[0], year)) fail(': day out of range');

  const days = daysFromCivil(year, mo[0], dd[0]);
  const local = BigInt(days) * SECONDS_PER_DAY + BigInt(hh[0] * 3600 + mi[0] * 60 + ss[0]);
  return { seconds: local - BigInt(offset), nanos, offsetSeconds: offset, utc };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Go's `t.Format(time.RFC3339Nano)`: fraction without trailing zeros (and no
 * '.' when zero), `Z` for a zero offset or UTC, else `±hh:mm` (seconds of an
 * offset are dropped, as Go does). Years outside 0..9999 print as Go prints
 * them (`-0001`, `10000`); Time.MarshalJSON refuses those, see go-json.ts.
 */
export function formatRfc3339Nano(t: GoTime): string {
  const offset = t.utc ? 0 : t.offsetSeconds;
  const local = t.seconds + BigInt(offset);
  let days = local / SECONDS_PER_DAY;
  let secs = local - days * SECONDS_PER_DAY;
  if (secs < 0n) {
    days -= 1n;
    secs += SECONDS_PER_DAY;
  }
  const [year, month, day] = civilFromDays(Number(days));
  const sod = Number(secs);
  let out = (year < 0 ? '-' + pad(-year, 4) : pad(year, 4)) + '-' + pad(month, 2) + '-' + pad(day, 2);
  out += 'T' + pad(Math.floor(sod / 3600), 2) + ':' + pad(Math.floor(sod / 60) % 60, 2) + ':' + pad(sod % 60, 2);
  if (t.nanos !== 0) out += '.' + pad(t.nanos, 9).replace(/0+$/, '');
  if (offset === 0) return out + 'Z';
  const zone = Math.trunc(offset / 60);
  const abs = Math.abs(zone);
  return out + (zone < 0 ? '-' : '+') + pad(Math.floor(abs / 60), 2) + ':' + pad(abs % 60, 2);
}

/** Where Go looks for a zone named by $TZ (time/zoneinfo_unix.go). */
const ZONE_SOURCES = ['/usr/share/zoneinfo/', '/usr/share/lib/zoneinfo/', '/usr/lib/locale/TZ/', '/etc/zoneinfo/'];
let zoneCache: { tz: string | undefined; goUsesUtc: boolean } | undefined;

/**
 * Whether Go would fall back to UTC for this $TZ where Node (ICU) would not:
 * Go only loads zoneinfo files, so a POSIX rule such as `UTC+3` that names no
 * file gives UTC in Go but an offset in Node.
 */
function goFallsBackToUtc(tz: string | undefined): boolean {
  if (zoneCache !== undefined && zoneCache.tz === tz) return zoneCache.goUsesUtc;
  let utc = false;
  if (tz !== undefined) {
    const name = tz.startsWith(':') ? tz.slice(1) : tz;
    if (name === '' || name === 'UTC') utc = true;
    else if (name.startsWith('/')) utc = !existsSync(name);
    else utc = !ZONE_SOURCES.some((dir) => existsSync(dir + name));
  }
  zoneCache = { tz, goUsesUtc: utc };
  return utc;
}

let anchor: { wallNs: bigint; hr: bigint } | undefined;

/**
 * Wall-clock nanoseconds. The first reading comes from perf_hooks (the wall
 * clock at process start plus a monotonic delta, good to a fraction of a
 * microsecond), later ones add process.hrtime deltas to it; whenever that
 * strays more than a millisecond from Date.now() (the clock was set), it
 * starts again from Date.now().
 */
function nowNanos(): bigint {
  const hr = process.hrtime.bigint();
  const wallMs = BigInt(Date.now());
  const agrees = (ns: bigint): boolean => {
    const drift = ns / 1_000_000n - wallMs;
    return drift >= -1n && drift <= 1n;
  };
  if (anchor !== undefined) {
    const ns = anchor.wallNs + (hr - anchor.hr);
    if (agrees(ns)) return ns;
  }
  let wallNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  if (!agrees(wallNs)) wallNs = wallMs * 1_000_000n;
  anchor = { wallNs, hr };
  return wallNs;
}

/**
 * Now in the process's local zone, like Go's `time.Now()`: the offset comes
 * from $TZ or the system zone (a zero offset prints `Z`), nanoseconds are
 * real below the millisecond where process.hrtime allows.
 */
export function nowLocal(): GoTime {
  const ns = nowNanos();
  const seconds = ns / 1_000_000_000n;
  const nanos = Number(ns - seconds * 1_000_000_000n);
  const utc = goFallsBackToUtc(process.env.TZ);
  // getTimezoneOffset is in minutes west of UTC; "0 -" avoids returning -0.
  const offsetSeconds = utc ? 0 : 0 - new Date(Number(seconds) * 1000).getTimezoneOffset() * 60;
  return { seconds, nanos, offsetSeconds, utc: offsetSeconds === 0 };
}

/** `time.Unix(n, 0).UTC()`. */
export function fromUnixSeconds(n: bigint | number): GoTime {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) {
    throw new OcikitError('INTERNAL', `[internal error] fromUnixSeconds: ${n} is not an integer`);
  }
  return { seconds: BigInt(n), nanos: 0, offsetSeconds: 0, utc: true };
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/**
 * Reads SOURCE_DATE_EPOCH (from `env`, default process.env): undefined when
 * unset or empty; a base-10 integer (Go's strconv.ParseInt(s, 10, 64): an
 * optional sign, digits only, int64 range) gives that second in UTC; anything
 * else throws OcikitError('USAGE', 'invalid SOURCE_DATE_EPOCH: …').
 */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): GoTime | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  const bad = (why: string): never => {
    throw new OcikitError('USAGE', `invalid SOURCE_DATE_EPOCH: strconv.ParseInt: parsing ${timeQuote(raw)}: ${why}`, {
      hint: 'SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 UTC',
    });
  };
  if (!/^[+-]?[0-9]+$/.test(raw)) bad('invalid syntax');
  const n = BigInt(raw);
  if (n > INT64_MAX || n < INT64_MIN) bad('value out of range');
  return fromUnixSeconds(n);
}

/** Unix seconds of a GoTime (for comparisons and clamping); nanoseconds are ignored. */
export function unixSeconds(t: GoTime): bigint {
  return t.seconds;
}

/** Orders two times by instant (-1, 0, 1), ignoring the offsets they are shown in. */
export function compareGoTime(a: GoTime, b: GoTime): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  return a.nanos === b.nanos ? 0 : a.nanos < b.nanos ? -1 : 1;
}

/** True when `x` has the shape of a GoTime. */
export function isGoTime(x: unknown): x is GoTime {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Record<string, unknown>;
  return (
    typeof t.seconds === 'bigint' &&
    typeof t.nanos === 'number' &&
    Number.isInteger(t.nanos) &&
    t.nanos >= 0 &&
    t.nanos < 1e9 &&
    typeof t.offsetSeconds === 'number' &&
    Number.isInteger(t.offsetSeconds) &&
    typeof t.utc === 'boolean'
  );
}
