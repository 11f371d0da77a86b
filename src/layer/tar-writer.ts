/**
 * Tar writer that produces the same bytes as Go 1.19's archive/tar Writer
 * for a header with no format chosen, which is how umoci writes layers: with
 * the same entries, ocikit's layer has the same diff_id as umoci's.
 *
 * Go picks USTAR when every field fits (a long ASCII name may be split into
 * prefix and name), else PAX (one 'x' header named
 * "<dir>/PaxHeaders.0/<file>" holding the fields that do not fit, records
 * sorted by key), else GNU (long names in '././@LongLink' entries, base-256
 * numbers). Xattrs always mean PAX. Without a chosen format, Go rounds the
 * mtime to whole seconds and drops atime and ctime; so does this writer.
 */
import { once } from 'node:events';
import { OcikitError } from '../errors.js';
import { encodePax } from './pax.js';
import { cleanPath } from '../util/go-path.js';
import {
  BLOCK,
  F,
  finishBlock,
  fitsBase256,
  fitsOctal,
  formatNumeric,
  formatOctal,
  formatString,
  isHeaderOnly,
  padding,
  TYPEFLAG,
  type TarHeader,
} from './tar-header.js';

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;
const MAX_SPECIAL = 1 << 20;
/** time.Time{}.Unix(): Go treats this instant as "no time" and writes 0. */
const GO_ZERO_TIME = -62135596800;
const ZEROS = Buffer.alloc(2 * BLOCK);

function cannot(h: TarHeader, why: string): never {
  throw new OcikitError('UNSAFE_ENTRY', `layer tar: cannot encode ${JSON.stringify(h.name)}: ${why}`);
}

function isAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80 || c === 0) return false;
  }
  return true;
}

/** Go's toASCII: drops every non-ASCII character and NUL. */
function toAscii(s: string): Buffer {
  return Buffer.from(s.replace(/[^\x01-\x7f]/g, ''), 'latin1');
}

/** Go's splitUSTARPath: [prefix, suffix] when a long ASCII name fits the two fields. */
function splitUstar(name: Buffer): [Buffer, Buffer] | null {
  let length = name.length;
  if (length <= NAME_SIZE || !isAscii(name)) return null;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === 0x2f) length--;
  const i = name.subarray(0, length).lastIndexOf(0x2f);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > NAME_SIZE || nlen === 0 || i > PREFIX_SIZE) return null;
  return [name.subarray(0, i), name.subarray(i + 1)];
}

/** path.Join(path.Split(name) with "PaxHeaders.0" between). */
function paxHeaderName(name: string): string {
  const slash = name.lastIndexOf('/');
  const dir = name.slice(0, slash + 1);
  const file = name.slice(slash + 1);
  return cleanPath(dir === '' ? `PaxHeaders.0/${file}` : `${dir}/PaxHeaders.0/${file}`);
}

/** A minimal header for an extension entry (Go's writeRawFile): zero numbers, no names. */
function rawFileBlock(name: string, size: number, flag: number, format: 'ustar' | 'gnu'): Buffer {
  const b = Buffer.alloc(BLOCK);
  let n = toAscii(name);
  if (n.length > NAME_SIZE) n = n.subarray(0, NAME_SIZE);
  let end = n.length;
  while (end > 0 && n[end - 1] === 0x2f) end--;
  b[F.typeflag[0]] = flag;
  formatString(b, F.name, n.subarray(0, end));
  formatOctal(b, F.mode, 0);
  formatOctal(b, F.uid, 0);
  formatOctal(b, F.gid, 0);
  formatOctal(b, F.size, size);
  formatOctal(b, F.mtime, 0);
  finishBlock(b, format);
  return b;
}

/** The extension entry's header, data and padding. */
function rawFile(name: string, data: Buffer, flag: number, format: 'ustar' | 'gnu'): Buffer[] {
  return [rawFileBlock(name, data.length, flag, format), data, ZEROS.subarray(0, padding(data.length))];
}

interface Fields {
  name: Buffer;
  linkname: Buffer;
  uname: Buffer;
  gname: Buffer;
  mtime: number;
}

/** The V7 and shared fields (Go's templateV7Plus) with the given string and number encodings. */
function template(h: TarHeader, f: Fields, str: (s: Buffer) => Buffer, num: typeof formatOctal): Buffer {
  const b = Buffer.alloc(BLOCK);
  b[F.typeflag[0]] = TYPEFLAG[h.type];
  formatString(b, F.name, str(f.name));
  formatString(b, F.linkname, str(f.linkname));
  num(b, F.mode, h.mode);
  num(b, F.uid, h.uid);
  num(b, F.gid, h.gid);
  num(b, F.size, h.size);
  num(b, F.mtime, f.mtime);
  formatString(b, F.uname, str(f.uname));
  formatString(b, F.gname, str(f.gname));
  num(b, F.devmajor, h.devmajor);
  num(b, F.devminor, h.devminor);
  return b;
}

/**
 * All header blocks for one entry (extension entries included), as Go's
 * WriteHeader writes them; no body. Refuses what Go refuses (a NUL in a
 * name, '=' in an xattr name, a trailing slash on a file, numbers that no
 * format can hold).
 */
export function encodeHeader(h: TarHeader): Buffer {
  if (!Number.isSafeInteger(h.size) || h.size < 0) cannot(h, `invalid size ${h.size}`);
  if (TYPEFLAG[h.type] === undefined) cannot(h, `unknown type ${String(h.type)}`);
  for (const [k, v] of [['mode', h.mode], ['uid', h.uid], ['gid', h.gid], ['devmajor', h.devmajor], ['devminor', h.devminor]] as const) {
    if (!Number.isSafeInteger(v)) cannot(h, `invalid ${k} ${v}`);
  }
  let mtime = h.mtime.sec + (h.mtime.nsec >= 5e8 ? 1 : 0); // Go: ModTime.Round(time.Second)
  const zeroTime = mtime === GO_ZERO_TIME;
  if (zeroTime) mtime = 0;
  const f: Fields = {
    name: Buffer.from(h.name, 'utf8'),
    linkname: Buffer.from(h.linkname, 'utf8'),
    uname: Buffer.from(h.uname, 'utf8'),
    gname: Buffer.from(h.gname, 'utf8'),
    mtime,
  };

  // Go's allowedFormats.
  let ustar = true;
  let pax = true;
  let gnu = true;
  const paxHdrs = new Map<string, Buffer>();
  const str = (s: Buffer, size: number, key: string): void => {
    const tooLong = s.length > size;
    if (s.includes(0) || (tooLong && key !== 'path' && key !== 'linkpath')) gnu = false;
    if (!isAscii(s) || tooLong) {
      if (key !== 'path' || splitUstar(s) === null) ustar = false;
      paxHdrs.set(key, s);
    }
  };
  const num = (n: number, size: number, key: string | null): void => {
    if (!fitsBase256(size, n)) gnu = false;
    if (!fitsOctal(size, n)) {
      ustar = false;
      if (key === null) pax = false;
      else paxHdrs.set(key, Buffer.from(String(n), 'latin1'));
    }
  };
  str(f.name, NAME_SIZE, 'path');
  str(f.linkname, NAME_SIZE, 'linkpath');
  str(f.uname, 32, 'uname');
  str(f.gname, 32, 'gname');
  num(h.mode, 8, null);
  num(h.uid, 8, 'uid');
  num(h.gid, 8, 'gid');
  num(h.size, 12, 'size');
  num(h.devmajor, 8, null);
  num(h.devminor, 8, null);
  if (!zeroTime) num(mtime, 12, 'mtime'); // whole seconds after rounding, so only range matters

  if ((h.type === 'file' || h.type === 'char' || h.type === 'block' || h.type === 'fifo') && h.name.endsWith('/')) {
    cannot(h, 'a trailing slash on a non-directory');
  }
  if (h.xattrs.size > 0) {
    for (const [k, v] of h.xattrs) {
      const key = `SCHILY.xattr.${k}`;
      if (k === '' || k.includes('=') || k.includes('\0')) cannot(h, `invalid xattr name ${JSON.stringify(k)}`);
      if (!paxHdrs.has(key)) paxHdrs.set(key, v);
    }
    ustar = gnu = false;
  }
  for (const k of ['path', 'linkpath', 'uname', 'gname']) {
    if (paxHdrs.get(k)?.includes(0)) cannot(h, `a NUL in ${k}`);
  }

  if (ustar) return ustarBlock(h, f);
  if (pax) return paxBlocks(h, f, paxHdrs);
  if (gnu) return gnuBlocks(h, f);
  return cannot(h, 'no tar format can hold these fields');
}

function ustarBlock(h: TarHeader, f: Fields): Buffer {
  const split = splitUstar(f.name);
  const b = template(h, split === null ? f : { ...f, name: split[1] }, (s) => s, formatOctal);
  if (split !== null) formatString(b, F.prefix, split[0]);
  finishBlock(b, 'ustar');
  return b;
}

function paxBlocks(h: TarHeader, f: Fields, paxHdrs: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  if (paxHdrs.size > 0) {
    // Go sorts the keys as byte strings.
    const records = [...paxHdrs].map(([key, value]) => ({ key, value, bytes: Buffer.from(key, 'utf8') })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    const data = encodePax(records);
    if (data.length > MAX_SPECIAL) cannot(h, `PAX records of ${data.length} bytes (limit ${MAX_SPECIAL})`);
    parts.push(...rawFile(paxHeaderName(h.name), data, 0x78, 'ustar'));
  }
  const b = template(h, f, (s) => (isAscii(s) ? s : toAscii(s.toString('utf8'))), formatOctal);
  finishBlock(b, 'ustar');
  parts.push(b);
  return Buffer.concat(parts);
}

function gnuBlocks(h: TarHeader, f: Fields): Buffer {
  const parts: Buffer[] = [];
  const nul = Buffer.alloc(1);
  if (f.name.length > NAME_SIZE) parts.push(...rawFile('././@LongLink', Buffer.concat([f.name, nul]), 0x4c, 'gnu'));
  if (f.linkname.length > NAME_SIZE) parts.push(...rawFile('././@LongLink', Buffer.concat([f.linkname, nul]), 0x4b, 'gnu'));
  const b = template(h, f, (s) => s, formatNumeric);
  finishBlock(b, 'gnu');
  parts.push(b);
  return Buffer.concat(parts);
}

/** Bodies up to this size go out in one write with their header and padding. */
const COALESCE = 64 * 1024;

/** Writes entries one at a time to a stream; `finish()` ends the archive and the stream. */
export class TarWriter {
  readonly #out: NodeJS.WritableStream;
  #bytes = 0;
  #err: unknown = undefined;
  #finished = false;

  /** Writes to `out`, waiting for 'drain' when it asks to. */
  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  /** Bytes handed to `out` so far. */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /**
   * Writes one entry: its header blocks, the body (exactly `header.size`
   * bytes; none for types other than 'file') and the padding to 512. A body
   * of the wrong length is an error, and the writer refuses further use.
   */
  async add(header: TarHeader, body?: Buffer | AsyncIterable<Buffer>): Promise<void> {
    if (this.#err !== undefined) throw this.#err;
    if (this.#finished) throw new OcikitError('INTERNAL', '[internal error] tar writer used after finish');
    try {
      const hdr = encodeHeader(header);
      const want = isHeaderOnly(header.type) ? 0 : header.size;
      if (body === undefined || Buffer.isBuffer(body)) {
        const len = body?.length ?? 0;
        if (len !== want) throw this.#mismatch(header, len, want);
        const pad = ZEROS.subarray(0, padding(len));
        if (len <= COALESCE) await this.#write(len === 0 ? hdr : Buffer.concat([hdr, body!, pad]));
        else {
          await this.#write(hdr);
          await this.#write(body!);
          if (pad.length > 0) await this.#write(pad);
        }
        return;
      }
      await this.#write(hdr);
      let got = 0;
      for await (const chunk of body) {
        if (chunk.length === 0) continue;
        got += chunk.length;
        if (got > want) throw this.#mismatch(header, got, want);
        await this.#write(chunk);
      }
      if (got !== want) throw this.#mismatch(header, got, want);
      if (padding(got) > 0) await this.#write(ZEROS.subarray(0, padding(got)));
    } catch (err) {
      // A refused header wrote nothing: the writer stays usable.
      if (!(err instanceof OcikitError && err.code === 'UNSAFE_ENTRY')) this.#err = err;
      throw err;
    }
  }

  /** Writes the two zero blocks Go's Close writes (no record padding) and ends `out`, waiting for it to finish. */
  async finish(): Promise<void> {
    if (this.#err !== undefined) throw this.#err;
    if (this.#finished) return;
    this.#finished = true;
    await this.#write(ZEROS);
    await new Promise<void>((resolve, reject) => {
      const out = this.#out;
      const onError = (err: unknown): void => reject(err);
      out.once('error', onError);
      out.end(() => {
        out.removeListener('error', onError);
        resolve();
      });
    });
  }

  #mismatch(h: TarHeader, got: number, want: number): OcikitError {
    return new OcikitError('IO', `layer tar: body of ${JSON.stringify(h.name)} is ${got > want ? 'more than ' : ''}${got} bytes, its header says ${want}`);
  }

  async #write(buf: Buffer): Promise<void> {
    this.#bytes += buf.length;
    if (!this.#out.write(buf)) await once(this.#out as unknown as NodeJS.EventEmitter, 'drain');
  }
}
