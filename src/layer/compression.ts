/**
 * Layer compression: the streams that turn a layer blob into its tar and back,
 * for the three layer encodings of image-spec (none, gzip, zstd).
 *
 * - gzip reading: gzip-members.ts (multi-member, trailing bytes ignored, async
 *   zlib on the libuv pool). gzip writing: gzip-parallel.ts (1 MiB blocks as
 *   independent members on all cores, deterministic).
 * - zstd: zstd-stream.ts (node:zlib's zstd on Node >= 22.15, else the `zstd`
 *   program).
 *
 * Every failure is a one-line OcikitError naming the problem ("gzip:
 * unexpected end of file", "zstd: unsupported format"), without the layer's
 * digest, which the caller adds. Corrupt or truncated data is
 * VALIDATION_FAILED; a layer that inflates past `maxOutput` is UNSAFE_ENTRY.
 */
import { PassThrough, type Transform } from 'node:stream';
import { OcikitError } from '../errors.js';
import { layerCompression, MediaType, type Compression } from '../oci/media-types.js';
import { GunzipMembers } from './gzip-members.js';
import { ParallelGzip, type ParallelGzipOptions } from './gzip-parallel.js';
import { OutputLimit } from './output-limit.js';
import { zstdCompressor, zstdDecompressor } from './zstd-stream.js';

export type { Compression } from '../oci/media-types.js';
export { closeGzipWorkers, GZIP_BLOCK_SIZE, GZIP_DEFAULT_LEVEL } from './gzip-parallel.js';
export { nativeZstd } from './zstd-stream.js';

export interface DecompressOptions {
  /** Fail with UNSAFE_ENTRY once the layer has produced more than this many bytes (default: no bound). */
  maxOutput?: number;
  /**
   * gzip only: bytes after the last gzip member that do not start another
   * member are ignored (default), or refused with "gzip: invalid header" as Go's
   * compress/gzip, and so umoci 0.4.7, refuses them (even NUL padding).
   */
  trailing?: 'ignore' | 'error';
}

/**
 * A Transform from a layer blob to its tar stream. The caller pipes the blob
 * in and reads the tar out (stream.pipeline); destroying it stops any worker
 * process it started.
 */
export function decompressor(c: Compression, opts: DecompressOptions = {}): Transform {
  const max = opts.maxOutput ?? Infinity;
  switch (c) {
    case 'gzip':
      return new GunzipMembers({ maxOutput: max, trailing: opts.trailing ?? 'ignore' });
    case 'zstd':
      return zstdDecompressor(max);
    case 'none':
      return max === Infinity ? new PassThrough() : new OutputLimit(max);
    default:
      throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `unsupported layer compression ${JSON.stringify(c)}`);
  }
}

export interface CompressOptions extends ParallelGzipOptions {
  /** gzip: 1..9 (default 6, as umoci's pgzip); zstd: 1..19 (default 3). */
  level?: number;
}

/**
 * A Transform from a tar stream to a new layer blob. gzip output is the same
 * bytes for the same input and level on any machine (see gzip-parallel.ts);
 * zstd output is the same for one zstd version and engine (see zstd-stream.ts).
 */
export function compressor(c: Compression, opts: CompressOptions = {}): Transform {
  switch (c) {
    case 'gzip':
      return new ParallelGzip(opts);
    case 'zstd':
      return zstdCompressor(opts.level ?? 3);
    case 'none':
      return new PassThrough();
    default:
      throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `unsupported layer compression ${JSON.stringify(c)}`);
  }
}

const SUFFIXES: Record<string, Compression> = { '': 'none', '+gzip': 'gzip', '+zstd': 'zstd' };

/**
 * The compression of a layer media type: the OCI layer types (plain,
 * non-distributable, +gzip, +zstd) and Docker's gzip layer types, or a bare
 * suffix ('', '+gzip', '+zstd'); undefined for anything else.
 */
export function compressionOf(mediaType: string): Compression | undefined {
  return Object.hasOwn(SUFFIXES, mediaType) ? SUFFIXES[mediaType] : layerCompression(mediaType);
}

/** The OCI layer media type for a compression. */
export function layerMediaType(c: Compression): string {
  switch (c) {
    case 'gzip':
      return MediaType.layerGzip;
    case 'zstd':
      return MediaType.layerZstd;
    case 'none':
      return MediaType.layer;
  }
}
