/**
 * PAX extended header records (POSIX.1-2001 pax format): "<len> <key>=<value>\n",
 * where <len> counts the whole record, its own digits included.
 *
 * Values are bytes, not text. tar-stream decodes every record as UTF-8 and so
 * destroys binary xattr values (a `security.capability` holding 0x80 reads
 * back as EF BF BD; see node-platform.md): the engine reads and writes PAX
 * records through this module instead. Keys are UTF-8 text; values are kept as
 * Buffers, and the caller decides which are text (`path`, `linkpath`, `uid`)
 * and which are bytes (`SCHILY.xattr.*`).
 */
import { OcikitError } from '../errors.js';

export interface PaxRecord {
  key: string;
  value: Buffer;
}

/** Parsing a header: a malformed record is hostile input, refused with UNSAFE_ENTRY. */
export function parsePax(buf: Buffer): PaxRecord[] {
  const out: PaxRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    // Trailing NUL padding after the last record is allowed.
    if (buf[at] === 0) {
      if (buf.subarray(at).every((b) => b === 0)) break;
      throw bad(at, 'NUL byte inside the records');
    }
    const space = buf.indexOf(0x20, at);
    if (space < 0 || space - at > 20) throw bad(at, 'no length field');
    const digits = buf.toString('latin1', at, space);
    if (!/^[1-9][0-9]*$/.test(digits)) throw bad(at, `invalid length ${JSON.stringify(digits)}`);
    const len = Number(digits);
    const end = at + len;
    if (!Number.isSafeInteger(len) || end > buf.length || end <= space + 1) throw bad(at, `length ${len} runs past the header`);
    if (buf[end - 1] !== 0x0a) throw bad(at, 'record does not end with a newline');
    const eq = buf.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end - 1) throw bad(at, 'record has no "="');
    const key = buf.toString('utf8', space + 1, eq);
    if (key === '') throw bad(at, 'empty key');
    out.push({ key, value: Buffer.from(buf.subarray(eq + 1, end - 1)) });
    at = end;
  }
  return out;
}

function bad(offset: number, what: string): OcikitError {
  return new OcikitError('UNSAFE_ENTRY', `malformed pax header at byte ${offset}: ${what}`);
}

/** One record, with the self-counting length field. */
export function encodePaxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), Buffer.from(value), Buffer.from('\n')]);
  // The length counts its own digits: grow it until it is stable (at most twice).
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

/** A whole header body, records in the order given. */
export function encodePax(records: PaxRecord[]): Buffer {
  return Buffer.concat(records.map((r) => encodePaxRecord(r.key, r.value)));
}

/**
 * Reduces parsed records to a map, the last record of a key winning (as
 * POSIX says); a key with an empty value deletes it. Records are applied
 * over `map` (a new one by default), which is returned.
 */
export function paxMap(records: readonly PaxRecord[], map = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const r of records) {
    if (r.value.length === 0) map.delete(r.key);
    else map.set(r.key, r.value);
  }
  return map;
}
