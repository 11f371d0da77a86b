/**
 * Tar entry headers: the type the engine passes around, and the 512-byte
 * header block's field layout with its decode and encode helpers.
 *
 * One block holds the V7 fields (name, mode, ids, size, mtime, checksum,
 * type, link name), then, depending on the magic, USTAR (user and group
 * names, device numbers, a 155-byte name prefix) or old-GNU (access and
 * change times) fields. Numbers are octal text, or GNU base-256 (two's
 * complement, big-endian, first bit set) when they do not fit. The rules
 * follow Go's archive/tar (format.go, strconv.go), because umoci reads and
 * writes layers with it and ocikit must agree byte for byte.
 */
import { OcikitError } from '../errors.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** A point in time as seconds since the epoch (may be negative) and 0..999999999 nanoseconds. */
export interface TarTime {
  sec: number;
  nsec: number;
}

export interface TarHeader {
  /** Full name after GNU long name / PAX path / USTAR prefix; not cleaned; decoded as UTF-8. */
  name: string;
  type: TarEntryType;
  /** Permission bits plus setuid, setgid and sticky (& 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Body bytes (0 for header-only types when read). */
  size: number;
  mtime: TarTime;
  /** Only when the archive has them (PAX atime/ctime, GNU header times). The writer ignores them, as Go does without a chosen format. */
  atime?: TarTime;
  ctime?: TarTime;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** `SCHILY.xattr.<name>` records: exact bytes, in archive order. */
  xattrs: Map<string, Buffer>;
}

/** A regular file named "" with mode 0o644, everything else zero or empty. */
export function emptyHeader(): TarHeader {
  return {
    name: '',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size: 0,
    mtime: { sec: 0, nsec: 0 },
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
  };
}

export const BLOCK = 512;

/** Field offsets and lengths within a header block. */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
  gnuAtime: [345, 12],
  gnuCtime: [357, 12],
  starPrefix: [345, 131],
  starAtime: [476, 12],
  starCtime: [488, 12],
  starTrailer: [508, 4],
} as const satisfies Record<string, readonly [number, number]>;
export type Field = keyof typeof F;

/** Typeflag byte for each entry type, as Go's writer emits them. */
export const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
};

/** Zero bytes after a body of `n` bytes, up to the next block boundary. */
export function padding(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

/** Types that never carry a body, whatever their size field says (Go's isHeaderOnlyType). */
export function isHeaderOnly(type: TarEntryType): boolean {
  return type !== 'file';
}

export type BlockFormat = 'v7' | 'ustar' | 'gnu' | 'star';

/** The fields of one header block, before PAX / GNU long-name overrides. */
export interface RawHeader {
  typeflag: number;
  format: BlockFormat;
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  atime?: number;
  ctime?: number;
}

/** Sum of the block's bytes with the checksum field counted as spaces (hot: once per header block). */
export function checksum(b: Buffer): number {
  let u0 = 0;
  let u1 = 0;
  let u2 = 0;
  let u3 = 0;
  for (let i = 0; i < BLOCK; i += 4) {
    u0 += b[i]!;
    u1 += b[i + 1]!;
    u2 += b[i + 2]!;
    u3 += b[i + 3]!;
  }
  let u = u0 + u1 + u2 + u3;
  for (let i = 148; i < 156; i++) u -= b[i]!;
  return u + 8 * 0x20;
}

/** The same sum with bytes taken as int8, as some old tars (Sun) computed it. */
export function signedChecksum(b: Buffer): number {
  let high = 0;
  for (let i = 0; i < BLOCK; i++) if (b[i]! >= 0x80 && (i < 148 || i >= 156)) high++;
  return checksum(b) - 256 * high;
}

/** C string in a field: up to the first NUL, as UTF-8. */
export function parseString(b: Buffer, [at, len]: readonly [number, number]): string {
  const end = at + len;
  let e = b.indexOf(0, at);
  if (e < 0 || e > end) e = end;
  return b.toString('utf8', at, e);
}

/**
 * Octal with leading/trailing spaces and NULs trimmed, cut at the first NUL
 * (Go's parseOctal); empty is 0. NaN when not octal.
 */
function parseOctal(b: Buffer, at: number, end: number): number {
  while (at < end && (b[at] === 0x20 || b[at] === 0)) at++;
  while (end > at && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  let x = 0;
  for (let i = at; i < end; i++) {
    const c = b[i]!;
    if (c === 0) break;
    if (c < 0x30 || c > 0x37) return NaN;
    x = x * 8 + (c - 0x30);
  }
  return Number.isSafeInteger(x) ? x : NaN;
}

/** Base-256 when the first bit is set (GNU), else octal. NaN when malformed or beyond 2^53. */
export function parseNumeric(b: Buffer, [at, len]: readonly [number, number]): number {
  const first = b[at]!;
  if ((first & 0x80) === 0) return parseOctal(b, at, at + len);
  const inv = first & 0x40 ? 0xff : 0;
  let x = 0;
  for (let i = 0; i < len; i++) {
    let c = b[at + i]! ^ inv;
    if (i === 0) c &= 0x7f;
    if (x > (Number.MAX_SAFE_INTEGER - c) / 256) return NaN;
    x = x * 256 + c;
  }
  return inv ? -x - 1 : x;
}

function eqAscii(b: Buffer, [at, len]: readonly [number, number], s: string): boolean {
  for (let i = 0; i < len; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Which header flavour a block is, by its magic (Go's getFormat, checksum checked by the caller). */
export function blockFormat(b: Buffer): BlockFormat {
  if (eqAscii(b, F.magic, 'ustar\0')) return eqAscii(b, F.starTrailer, 'tar\0') ? 'star' : 'ustar';
  if (eqAscii(b, F.magic, 'ustar ') && eqAscii(b, F.version, ' \0')) return 'gnu';
  return 'v7';
}

function fail(message: string): never {
  throw new OcikitError('UNSAFE_ENTRY', `layer tar: ${message}`);
}

/**
 * Decodes one header block; `offset` is its position in the stream, for
 * messages. Refuses a bad checksum or a malformed number field.
 */
export function decodeBlock(b: Buffer, offset: number): RawHeader {
  const stored = parseOctal(b, F.chksum[0], F.chksum[0] + F.chksum[1]);
  if (stored !== checksum(b) && stored !== signedChecksum(b)) fail(`invalid header checksum at offset ${offset}`);
  const format = blockFormat(b);
  let name = parseString(b, F.name);
  const num = (field: Field): number => {
    const v = parseNumeric(b, F[field]);
    if (Number.isNaN(v)) fail(`invalid ${field} field for ${JSON.stringify(name)} at offset ${offset}`);
    return v;
  };
  const h: RawHeader = {
    typeflag: b[F.typeflag[0]]!,
    format,
    name,
    linkname: parseString(b, F.linkname),
    mode: 0,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
  };
  if (format !== 'v7') {
    let prefix = '';
    if (format === 'ustar') prefix = parseString(b, F.prefix);
    else if (format === 'star') {
      prefix = parseString(b, F.starPrefix);
      h.atime = num('starAtime');
      h.ctime = num('starCtime');
    } else {
      // Old GNU: times only when set; unparsable times mean a buggy writer that put a prefix there.
      const at = b[F.gnuAtime[0]] !== 0 ? parseNumeric(b, F.gnuAtime) : undefined;
      const ct = b[F.gnuCtime[0]] !== 0 ? parseNumeric(b, F.gnuCtime) : undefined;
      if (Number.isNaN(at) || Number.isNaN(ct)) {
        const p = parseString(b, F.prefix);
        if (/^[\x01-\x7f]*$/.test(p)) prefix = p;
      } else {
        if (at !== undefined) h.atime = at;
        if (ct !== undefined) h.ctime = ct;
      }
    }
    if (prefix !== '') h.name = name = `${prefix}/${name}`;
    h.uname = parseString(b, F.uname);
    h.gname = parseString(b, F.gname);
    h.devmajor = num('devmajor');
    h.devminor = num('devminor');
  }
  h.size = num('size');
  h.mode = num('mode');
  h.uid = num('uid');
  h.gid = num('gid');
  h.mtime = num('mtime');
  return h;
}

// ---- encoding (Go's formatter) ----

/** Copies `s` into the field, NUL-terminated when room; a cut that ends in '/' loses its trailing slashes. */
export function formatString(b: Buffer, [at, len]: readonly [number, number], s: Buffer): void {
  const n = Math.min(s.length, len);
  s.copy(b, at, 0, n);
  if (s.length < len) b[at + s.length] = 0;
  if (s.length > len && b[at + len - 1] === 0x2f) {
    let k = len;
    while (k > 0 && s[k - 1] === 0x2f) k--;
    b[at + k] = 0;
  }
}

/** Whether x fits a field of n bytes as octal with a NUL terminator. */
export function fitsOctal(n: number, x: number): boolean {
  return x >= 0 && (n >= 22 || x < 8 ** (n - 1));
}

/** Whether x fits a field of n bytes as GNU base-256. */
export function fitsBase256(n: number, x: number): boolean {
  const bits = (n - 1) * 8;
  return n >= 9 || (x >= -(2 ** bits) && x < 2 ** bits);
}

/** Zero-padded octal leaving room for a NUL; 0 when it does not fit (Go's last resort). */
export function formatOctal(b: Buffer, field: readonly [number, number], x: number): void {
  if (!fitsOctal(field[1], x)) x = 0;
  const s = x.toString(8).padStart(field[1] - 1, '0');
  formatString(b, field, Buffer.from(s, 'latin1'));
}

/** Octal when it fits, else base-256, else 0. */
export function formatNumeric(b: Buffer, field: readonly [number, number], x: number): void {
  const [at, len] = field;
  if (fitsOctal(len, x)) return formatOctal(b, field, x);
  if (!fitsBase256(len, x)) return formatOctal(b, field, 0);
  let v = BigInt(x);
  for (let i = len - 1; i >= 0; i--) {
    b[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[at] = b[at]! | 0x80;
}

/** Writes the magic for the format and the checksum field (six octal digits, NUL, space). */
export function finishBlock(b: Buffer, format: 'ustar' | 'gnu'): void {
  b.write(format === 'gnu' ? 'ustar  \0' : 'ustar\x0000', F.magic[0], 'latin1');
  formatOctal(b, [F.chksum[0], 7], checksum(b));
  b[F.chksum[0] + 7] = 0x20;
}
