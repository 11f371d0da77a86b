/**
 * Streaming tar reader for layers: ustar, pax (local 'x' and global 'g'
 * records), GNU (long names 'L'/'K', base-256 numbers, old-GNU times) and
 * star headers, with Go's archive/tar semantics where formats disagree,
 * because umoci reads layers with it.
 *
 * It works on the source's chunks directly: a body that lies within one
 * chunk is handed out as a subarray of it, and only a body that spans chunks
 * is copied. Anything hostile or malformed (bad checksum, truncation, bad
 * numbers, sparse files, unknown types, oversized extension headers) is an
 * UNSAFE_ENTRY error naming the entry and its byte offset. After the end of
 * the archive the source is read to EOF, so a caller hashing the whole
 * stream (diff_id) sees every byte.
 */
import { constants as bufferConstants } from 'node:buffer';
import { OcikitError } from '../errors.js';
import { paxMap, parsePax, type PaxRecord } from './pax.js';
import { BLOCK, decodeBlock, padding, parseString, type RawHeader, type TarEntryType, type TarHeader, type TarTime } from './tar-header.js';

const EMPTY = Buffer.alloc(0);
const ZERO_BLOCK = Buffer.alloc(BLOCK);
/** Largest PAX header or GNU long name accepted (Go's and libarchive's limit). */
const MAX_SPECIAL = 1 << 20;

const TYPES: Record<number, TarEntryType> = {
  0x00: 'file',
  0x30: 'file',
  0x37: 'file', // contiguous file: a regular file everywhere
  0x31: 'hardlink',
  0x32: 'symlink',
  0x33: 'char',
  0x34: 'block',
  0x35: 'dir',
  0x36: 'fifo',
};

function fail(message: string): never {
  throw new OcikitError('UNSAFE_ENTRY', `layer tar: ${message}`);
}

function showType(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, '0')}`;
}

function decimal(v: Buffer, what: string, name: string): number {
  const s = v.toString('latin1');
  const n = /^[0-9]{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) fail(`invalid PAX ${what} ${JSON.stringify(s)} for ${JSON.stringify(name)}`);
  return n;
}

/** "%d[.%d]" seconds, possibly negative (Go's parsePAXTime: extra digits truncated). */
function paxTime(v: Buffer, what: string, name: string): TarTime {
  const s = v.toString('latin1');
  const m = /^([+-]?)([0-9]{1,16})(?:\.([0-9]*))?$/.exec(s);
  if (m === null) fail(`invalid PAX ${what} ${JSON.stringify(s)} for ${JSON.stringify(name)}`);
  const secs = Number(m[2]);
  const nsec = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (m[1] !== '-') return { sec: secs, nsec };
  return nsec === 0 ? { sec: -secs, nsec: 0 } : { sec: -secs - 1, nsec: 1e9 - nsec };
}

/**
 * Reads one tar stream entry by entry: `next()` for the header, then
 * optionally `readBody()` or `body()` for its bytes. Not for concurrent use:
 * finish with one entry's body before asking for the next header.
 */
export class TarReader {
  readonly #src: AsyncIterator<Buffer>;
  #chunk: Buffer = EMPTY;
  #pos = 0;
  #eof = false;
  /** Stream bytes consumed before #chunk[#pos]. */
  #consumed = 0;
  /** Body bytes of the current entry not yet read, and the padding after them. */
  #remaining = 0;
  #pad = 0;
  #offset = 0;
  #current: TarHeader | null = null;
  #done = false;
  #err: unknown = undefined;
  /** Records of 'g' headers, for every later entry. */
  readonly #globals = new Map<string, Buffer>();

  constructor(source: AsyncIterable<Buffer>) {
    this.#src = source[Symbol.asyncIterator]();
  }

  /** Byte offset in the stream of the current entry's header block. */
  get offset(): number {
    return this.#offset;
  }

  /** Stream bytes consumed so far. */
  get position(): number {
    return this.#consumed;
  }

  /**
   * Advances to the next entry, skipping any unread rest of the previous
   * body. Returns null at the end of the archive, after reading the source
   * to EOF. An error is sticky: later calls throw it again.
   */
  async next(): Promise<TarHeader | null> {
    if (this.#err !== undefined) throw this.#err;
    if (this.#done) return null;
    try {
      const h = await this.#next();
      this.#current = h;
      return h;
    } catch (err) {
      this.#err = err;
      throw err;
    }
  }

  /** The whole body of the current entry (a subarray of the input when it lies in one chunk). */
  async readBody(): Promise<Buffer> {
    const n = this.#remaining;
    if (n === 0) return EMPTY;
    if (this.#chunk.length - this.#pos >= n) return this.#take(n);
    if (n > bufferConstants.MAX_LENGTH) fail(`entry ${this.#what()} is too large to read into memory (${n} bytes)`);
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    for await (const part of this.body()) {
      part.copy(out, got);
      got += part.length;
    }
    return out;
  }

  /** The body of the current entry as chunks; they stay valid after later reads. */
  async *body(): AsyncIterable<Buffer> {
    while (this.#remaining > 0) {
      if (this.#pos === this.#chunk.length && !(await this.#pull())) {
        this.#err = truncatedBody(this.#what(), this.#offset);
        throw this.#err;
      }
      yield this.#take(Math.min(this.#chunk.length - this.#pos, this.#remaining));
    }
  }

  /** Reads the rest of the source without parsing it (for a caller that stops early but still hashes the stream). */
  async drain(): Promise<void> {
    this.#remaining = 0;
    this.#pad = 0;
    this.#done = true;
    this.#consumed += this.#chunk.length - this.#pos;
    this.#chunk = EMPTY;
    this.#pos = 0;
    while (await this.#pull()) {
      this.#consumed += this.#chunk.length;
      this.#pos = this.#chunk.length;
    }
  }

  #what(): string {
    return JSON.stringify(this.#current?.name ?? '');
  }

  /** Takes n body bytes that are known to be in the current chunk. */
  #take(n: number): Buffer {
    this.#remaining -= n;
    return this.#takeRaw(n);
  }

  /** Replaces the exhausted chunk with the next non-empty one; false at EOF. */
  async #pull(): Promise<boolean> {
    while (!this.#eof) {
      const r = await this.#src.next();
      if (r.done === true) {
        this.#eof = true;
        break;
      }
      const v: unknown = r.value;
      const chunk = Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array);
      if (chunk.length === 0) continue;
      this.#chunk = chunk;
      this.#pos = 0;
      return true;
    }
    this.#chunk = EMPTY;
    this.#pos = 0;
    return false;
  }

  /** Up to n bytes, fewer only at EOF; copies only when they span chunks. */
  async #read(n: number): Promise<Buffer> {
    const avail = this.#chunk.length - this.#pos;
    if (avail >= n) return this.#takeRaw(n);
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      if (this.#pos === this.#chunk.length && !(await this.#pull())) return out.subarray(0, got);
      const k = Math.min(this.#chunk.length - this.#pos, n - got);
      this.#chunk.copy(out, got, this.#pos, this.#pos + k);
      this.#pos += k;
      this.#consumed += k;
      got += k;
    }
    return out;
  }

  #takeRaw(n: number): Buffer {
    const b = this.#chunk.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.#consumed += n;
    return b;
  }

  /** Skips n bytes; returns how many were there. */
  async #skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.#pos === this.#chunk.length && !(await this.#pull())) break;
      const k = Math.min(this.#chunk.length - this.#pos, left);
      this.#pos += k;
      this.#consumed += k;
      left -= k;
    }
    return n - left;
  }

  async #end(): Promise<null> {
    await this.drain();
    return null;
  }

  async #next(): Promise<TarHeader | null> {
    if (this.#remaining > 0) {
      const want = this.#remaining;
      this.#remaining = 0;
      if ((await this.#skip(want)) < want) throw truncatedBody(this.#what(), this.#offset);
    }
    // Missing padding at EOF is accepted, as Go does: the next read finds the end.
    if (this.#pad > 0) await this.#skip(this.#pad);
    this.#pad = 0;

    let pax: PaxRecord[] | null = null;
    let longName: string | null = null;
    let longLink: string | null = null;
    for (;;) {
      const at = this.#consumed;
      this.#offset = at;
      const blk = await this.#read(BLOCK);
      if (blk.length === 0) {
        if (pax !== null || longName !== null || longLink !== null) fail(`archive ends after an extension header at offset ${this.#consumed}`);
        return this.#end();
      }
      if (blk.length < BLOCK) fail(`truncated header at offset ${at}`);
      if (blk[0] === 0 && blk.equals(ZERO_BLOCK)) {
        const second = await this.#read(BLOCK);
        if (second.length === 0) return this.#end();
        if (second.length < BLOCK) fail(`truncated end-of-archive block at offset ${at + BLOCK}`);
        if (!second.equals(ZERO_BLOCK)) fail(`a zero block followed by a header at offset ${at + BLOCK}`);
        return this.#end();
      }
      const raw = decodeBlock(blk, at);
      const tf = raw.typeflag;
      if (tf === 0x78 /* x */ || tf === 0x67 /* g */ || tf === 0x4c /* L */ || tf === 0x4b /* K */) {
        const data = await this.#special(raw, at);
        if (tf === 0x4c || tf === 0x4b) {
          const s = parseString(data, [0, data.length]);
          if (tf === 0x4c) longName = s;
          else longLink = s;
          continue;
        }
        let records: PaxRecord[];
        try {
          records = parsePax(data);
        } catch (err) {
          throw new OcikitError('UNSAFE_ENTRY', `layer tar: ${(err as Error).message} in the PAX header at offset ${at}`);
        }
        if (tf === 0x67) paxMap(records, this.#globals);
        else pax = records; // a second 'x' replaces the first, as in Go
        continue;
      }
      if (tf === 0x56 /* V: volume label */) {
        await this.#skipSpecial(raw, at);
        pax = longName = longLink = null;
        continue;
      }
      if (tf === 0x53 /* S */) fail(`GNU sparse files are not supported (${JSON.stringify(longName ?? raw.name)})`);
      return this.#entry(raw, pax, longName, longLink, at);
    }
  }

  /** The body of an extension header ('x', 'g', 'L', 'K'), with its padding consumed. */
  async #special(raw: RawHeader, at: number): Promise<Buffer> {
    if (raw.size < 0 || raw.size > MAX_SPECIAL) fail(`extension header of ${raw.size} bytes at offset ${at} (limit ${MAX_SPECIAL})`);
    const data = await this.#read(raw.size);
    if (data.length < raw.size) fail(`truncated extension header at offset ${at}`);
    await this.#skip(padding(raw.size));
    return data;
  }

  async #skipSpecial(raw: RawHeader, at: number): Promise<void> {
    if (raw.size < 0) fail(`negative size in header at offset ${at}`);
    const total = raw.size + padding(raw.size);
    if ((await this.#skip(total)) < raw.size) fail(`truncated volume header at offset ${at}`);
  }

  #entry(raw: RawHeader, pax: PaxRecord[] | null, longName: string | null, longLink: string | null, at: number): TarHeader {
    const h: TarHeader = {
      name: raw.name,
      type: 'file',
      mode: raw.mode & 0o7777,
      uid: raw.uid,
      gid: raw.gid,
      uname: raw.uname,
      gname: raw.gname,
      size: raw.size,
      mtime: { sec: raw.mtime, nsec: 0 },
      linkname: raw.linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs: new Map(),
    };
    if (raw.atime !== undefined) h.atime = { sec: raw.atime, nsec: 0 };
    if (raw.ctime !== undefined) h.ctime = { sec: raw.ctime, nsec: 0 };
    if (pax !== null || this.#globals.size > 0) this.#applyPax(h, pax);
    if (longName !== null && longName !== '') h.name = longName;
    if (longLink !== null && longLink !== '') h.linkname = longLink;

    const type = TYPES[raw.typeflag];
    if (type === undefined) fail(`unknown entry type ${showType(raw.typeflag)} for ${JSON.stringify(h.name)} at offset ${at}`);
    // Legacy archives mark directories by a trailing slash on a '\0' entry (Go does the same).
    h.type = raw.typeflag === 0 && h.name.endsWith('/') ? 'dir' : type;
    if (h.size < 0) fail(`negative size for ${JSON.stringify(h.name)} at offset ${at}`);
    if (h.uid < 0 || h.gid < 0) fail(`negative uid or gid for ${JSON.stringify(h.name)} at offset ${at}`);
    if (h.type !== 'file') h.size = 0; // header-only types never carry a body
    this.#remaining = h.size;
    this.#pad = padding(h.size);
    return h;
  }

  /** Global records, overridden by local ones (an empty local value removes a global one). */
  #applyPax(h: TarHeader, pax: PaxRecord[] | null): void {
    // Common case (no globals, no empty values, no repeated keys): the records as they are, no map.
    let recs: Map<string, Buffer> | PaxRecord[];
    if (this.#globals.size === 0 && pax !== null && pax.every((r, i) => r.value.length > 0 && pax.findIndex((q) => q.key === r.key) === i)) recs = pax;
    else recs = paxMap(pax ?? [], new Map(this.#globals));
    const has = (k: string): boolean => (Array.isArray(recs) ? recs.some((r) => r.key === k) : recs.has(k));
    const name = h.name;
    const text = (v: Buffer, what: string): string => {
      if (v.includes(0)) fail(`NUL inside the PAX ${what} of ${JSON.stringify(name)}`);
      return v.toString('utf8');
    };
    let schily: Set<string> | null = null;
    for (const rec of recs) {
      const [key, v] = Array.isArray(rec) ? rec : [rec.key, rec.value];
      switch (key) {
        case 'path':
          h.name = text(v, 'path');
          break;
        case 'linkpath':
          h.linkname = text(v, 'linkpath');
          break;
        case 'uname':
          h.uname = text(v, 'uname');
          break;
        case 'gname':
          h.gname = text(v, 'gname');
          break;
        case 'uid':
          h.uid = decimal(v, 'uid', name);
          break;
        case 'gid':
          h.gid = decimal(v, 'gid', name);
          break;
        case 'size':
          h.size = decimal(v, 'size', name);
          break;
        case 'mtime':
          h.mtime = paxTime(v, 'mtime', name);
          break;
        case 'atime':
          h.atime = paxTime(v, 'atime', name);
          break;
        case 'ctime':
          h.ctime = paxTime(v, 'ctime', name);
          break;
        default:
          if (key.startsWith('SCHILY.xattr.')) {
            const x = key.slice(13);
            h.xattrs.set(x, v);
            (schily ??= new Set()).add(x);
          } else if (key.startsWith('LIBARCHIVE.xattr.')) {
            // bsdtar: URL-escaped name, base64 value; SCHILY records for the same name win.
            let x: string;
            try {
              x = decodeURIComponent(key.slice(17));
            } catch {
              fail(`malformed LIBARCHIVE.xattr name ${JSON.stringify(key)} for ${JSON.stringify(name)}`);
            }
            if (!schily?.has(x) && !has(`SCHILY.xattr.${x}`)) h.xattrs.set(x, Buffer.from(v.toString('latin1'), 'base64'));
          } else if (key.startsWith('GNU.sparse.')) {
            fail(`GNU sparse files are not supported (${JSON.stringify(name)})`);
          }
      }
    }
  }
}

function truncatedBody(what: string, offset: number): OcikitError {
  return new OcikitError('UNSAFE_ENTRY', `layer tar: truncated entry ${what} at offset ${offset}`);
}
