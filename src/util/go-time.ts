/**
 * Go's round trip of an RFC 3339 timestamp: `time.Time.UnmarshalJSON`
 * followed by `Format(time.RFC3339Nano)` (which is also what
 * `MarshalJSON` writes). umoci parses `created` fields into `time.Time` and
 * prints them back, so what it shows is this canonical form, not the stored
 * text: fraction digits beyond nanoseconds are cut, trailing zeros of the
 * fraction are dropped (and the fraction with them when it is zero), and a
 * zero offset is written `Z`.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The RFC3339Nano text Go prints for the timestamp `s`, or `undefined` when
 * Go's strict RFC 3339 parser would refuse `s` (then umoci could not have
 * read the blob at all; callers fall back to the stored text). Pure.
 */
export function goRfc3339Nano(s: string): string | undefined {
  const m = RFC3339.exec(s);
  if (m === null) return undefined;
  const [, y = '', mo = '', d = '', h = '', mi = '', sec = '', frac, zone = '', zsign, zh = '', zm = ''] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(Number(y), month)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  let out = `${y}-${mo}-${d}T${h}:${mi}:${sec}`;
  const nanos = (frac ?? '').slice(0, 9).replace(/0+$/, '');
  if (nanos !== '') out += '.' + nanos;
  if (zone === 'Z') return out + 'Z';
  if (Number(zh) > 23 || Number(zm) > 59) return undefined;
  if (Number(zh) === 0 && Number(zm) === 0) return out + 'Z';
  return `${out}${zsign}${zh}:${zm}`;
}
