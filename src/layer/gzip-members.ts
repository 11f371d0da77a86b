/**
 * A gzip decompressor that walks the members of a gzip stream itself (RFC
 * 1952), so that it knows where each member ends.
 *
 * Why not node:zlib's Gunzip: it accepts several members, but bytes after the
 * last one that are not NUL and not a gzip header make it fail ("incorrect
 * header check"), and when that happens in the same input chunk as the end of
 * the last member, the output of that member is lost too. Here each member's
 * header and trailer are parsed in JavaScript and only its deflate data goes to
 * a node:zlib InflateRaw (which runs on the libuv pool, off the calling
 * thread); the InflateRaw's `bytesWritten` says where the deflate data ended.
 *
 * Trailing bytes after a complete member that do not start a valid gzip header
 * are ignored by default (`trailing: 'ignore'`), or refused with
 * "gzip: invalid header" (`trailing: 'error'`, what Go's compress/gzip and so
 * umoci 0.4.7 do, even for NUL padding). A valid header that is cut short or a
 * member that is corrupt is always an error.
 */
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { OcikitError } from '../errors.js';
import { tooBig } from './output-limit.js';

export interface GunzipOptions {
  /** What to do with bytes after the last member that are not a gzip member (default 'ignore'). */
  trailing?: 'ignore' | 'error';
  /** Fail with UNSAFE_ENTRY once more than this many bytes came out (default: no bound). */
  maxOutput?: number;
}

/** Longest header accepted (FEXTRA, FNAME, FCOMMENT included): a hostile header cannot grow memory without bound. */
const MAX_HEADER = 1 << 20;
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

type State = 'header' | 'body' | 'trailer' | 'garbage';

/** zlib.crc32 is Node >= 20.15; without it the member's CRC is not checked (ISIZE still is, and callers check the diff_id). */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function corrupt(msg: string): OcikitError {
  return new OcikitError('VALIDATION_FAILED', msg);
}

/**
 * Length of the gzip header at the start of `buf`: a number, 'short' when more
 * bytes are needed to tell, or 'invalid' when these bytes are not a gzip header.
 */
function headerLength(buf: Buffer): number | 'short' | 'invalid' {
  if (buf.length >= 1 && buf[0] !== 0x1f) return 'invalid';
  if (buf.length >= 2 && buf[1] !== 0x8b) return 'invalid';
  if (buf.length >= 3 && buf[2] !== 8) return 'invalid';
  if (buf.length >= 4 && (buf[3]! & 0xe0) !== 0) return 'invalid';
  if (buf.length < 10) return 'short';
  const flags = buf[3]!;
  let at = 10;
  if (flags & FEXTRA) {
    if (buf.length < at + 2) return 'short';
    at += 2 + buf.readUInt16LE(at);
  }
  for (const f of [FNAME, FCOMMENT]) {
    if (flags & f) {
      const nul = buf.indexOf(0, at);
      if (nul < 0) return 'short';
      at = nul + 1;
    }
  }
  if (flags & FHCRC) at += 2;
  return buf.length >= at ? at : 'short';
}

/** Multi-member gzip decompression with one-line OcikitErrors ("gzip: ..."). */
export class GunzipMembers extends Transform {
  private state: State = 'header';
  /** header or trailer bytes not yet parsed */
  private pending: Buffer = Buffer.alloc(0);
  private inflater: zlib.InflateRaw | undefined;
  /** chunks written to the inflater whose bytes it may not have consumed yet */
  private fed: Buffer[] = [];
  /** bytes written to the current inflater, and the offset of fed[0] among them */
  private written = 0;
  private fedStart = 0;
  private members = 0;
  private crc = 0;
  private size = 0;
  private inflaterDone: Promise<void> | undefined;
  /** Ends the wait of the write in progress when the inflater fails. */
  private writeFailed: (() => void) | undefined;
  private emitted = 0;
  private readonly trailing: 'ignore' | 'error';
  private readonly maxOutput: number;

  constructor(opts: GunzipOptions = {}) {
    super();
    this.trailing = opts.trailing ?? 'ignore';
    this.maxOutput = opts.maxOutput ?? Infinity;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.input(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.finish().then(() => cb(), cb);
  }

  override _read(size: number): void {
    // Backpressure: the inflater was paused when our readable side was full.
    if (this.inflater?.isPaused()) this.inflater.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.inflater?.destroy();
    super._destroy(err, cb);
  }

  private async input(data: Buffer): Promise<void> {
    while (data.length > 0) {
      switch (this.state) {
        case 'garbage':
          return;
        case 'header': {
          const buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
          const len = headerLength(buf);
          if (len === 'invalid') {
            this.notAMember();
            return;
          }
          if (len === 'short') {
            if (buf.length > MAX_HEADER) throw corrupt('gzip: header longer than 1 MiB');
            this.pending = Buffer.from(buf);
            return;
          }
          this.pending = Buffer.alloc(0);
          this.startMember();
          data = buf.subarray(len);
          break;
        }
        case 'body': {
          const leftover = await this.feed(data);
          if (leftover === undefined) return;
          data = leftover;
          break;
        }
        case 'trailer': {
          const buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
          if (buf.length < 8) {
            this.pending = Buffer.from(buf);
            return;
          }
          this.pending = Buffer.alloc(0);
          this.checkTrailer(buf);
          data = buf.subarray(8);
          break;
        }
      }
    }
  }

  private async finish(): Promise<void> {
    if (this.state === 'body') {
      const inf = this.inflater!;
      inf.end();
      await this.inflaterDone;
      const leftover = this.leftover(inf.bytesWritten);
      this.state = 'trailer';
      if (leftover.length > 0) await this.input(leftover);
    }
    if (this.state === 'trailer') throw corrupt('gzip: unexpected end of file');
    if (this.state === 'header') {
      if (this.members === 0) throw corrupt('gzip: unexpected end of file');
      // A gzip magic that is cut short is truncation, not garbage (headerLength
      // already sent anything that is not a header prefix to notAMember).
      if (this.pending.length >= 2) throw corrupt('gzip: unexpected end of file');
      if (this.pending.length > 0) this.notAMember();
    }
  }

  /** Bytes at the current position that cannot start a member. */
  private notAMember(): void {
    if (this.members === 0 || this.trailing === 'error') throw corrupt('gzip: invalid header');
    this.state = 'garbage';
    this.pending = Buffer.alloc(0);
  }

  private startMember(): void {
    this.state = 'body';
    this.crc = 0;
    this.size = 0;
    this.fed = [];
    this.written = 0;
    this.fedStart = 0;
    const inf = zlib.createInflateRaw({ chunkSize: 128 * 1024 });
    this.inflater = inf;
    inf.on('data', (out: Buffer) => {
      if (crc32 !== undefined) this.crc = crc32(out, this.crc);
      this.size = (this.size + out.length) >>> 0;
      this.emitted += out.length;
      if (this.emitted > this.maxOutput) {
        this.destroy(tooBig(this.maxOutput));
        return;
      }
      if (!this.push(out)) inf.pause();
    });
    this.inflaterDone = new Promise((resolve, reject) => {
      inf.once('end', resolve);
      inf.once('error', (err: Error & { code?: string }) => {
        const msg = err.code === 'Z_BUF_ERROR' ? 'unexpected end of file' : err.message;
        reject(corrupt(`gzip: ${msg}`));
        this.writeFailed?.();
      });
    });
    // Errors arrive through inflaterDone or the write callback; never unhandled.
    this.inflaterDone.catch(() => undefined);
  }

  /**
   * Writes deflate data to the current member's inflater. Returns the bytes
   * after the end of the deflate data if it ended, else undefined.
   */
  private async feed(data: Buffer): Promise<Buffer | undefined> {
    const inf = this.inflater!;
    this.fed.push(data);
    this.written += data.length;
    // On corrupt data zlib fails the stream and may never call the write
    // callback: the member's 'error' listener settles the wait too (through
    // `this.writeFailed`, not a promise chained per write, which would keep
    // every written chunk alive until the member ends).
    const ok = await new Promise<boolean>((resolve) => {
      this.writeFailed = () => resolve(false);
      inf.write(data, (err) => resolve(!err));
    });
    this.writeFailed = undefined;
    if (!ok) await this.inflaterDone; // rejects with the gzip: message
    const consumed = inf.bytesWritten;
    if (consumed === this.written) {
      this.fed = [];
      this.fedStart = this.written;
      return undefined;
    }
    // The deflate data ended inside what was written: wait for the member's
    // last output, then go on with the rest of the input.
    const leftover = this.leftover(consumed);
    inf.end();
    await this.inflaterDone;
    this.state = 'trailer';
    return leftover;
  }

  /** The bytes written to the inflater after its first `consumed` ones. */
  private leftover(consumed: number): Buffer {
    let skip = consumed - this.fedStart;
    const parts: Buffer[] = [];
    for (const b of this.fed) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      parts.push(b.subarray(skip));
      skip = 0;
    }
    this.fed = [];
    this.fedStart = this.written;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private checkTrailer(buf: Buffer): void {
    const crc = buf.readUInt32LE(0);
    const size = buf.readUInt32LE(4);
    if (crc32 !== undefined && crc !== this.crc >>> 0) throw corrupt('gzip: invalid checksum');
    if (size !== this.size) throw corrupt('gzip: invalid length');
    this.members++;
    this.inflater = undefined;
    this.state = 'header';
  }
}
