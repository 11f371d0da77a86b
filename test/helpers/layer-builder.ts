/**
 * Builds layers and layered images for tests, hostile ones included.
 *
 * `makeTarLayer` writes whatever tar-stream can write, verbatim: names with
 * `..`, absolute names, `.wh.` names, links anywhere, device nodes, PAX records
 * (xattrs, a path with a NUL). Nothing is cleaned. The raw tricks tar-stream
 * refuses (a corrupt header checksum, an archive cut short) are small
 * byte-level helpers over the finished buffer. `addImage` stores the layers,
 * a Go-encoded config with correct diff_ids (unless a test overrides one to
 * make it wrong) and a manifest, and tags it, through layout-builder.ts.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { putJson } from '../../src/image/json-blob.js';
import type { Descriptor, ImageConfig, Manifest } from '../../src/oci/types.js';
import type { Layout } from '../../src/store/layout.js';
import { addTag, baseConfig, MT, putBytes } from './layout-builder.js';

/** The entry types tar-stream can write. */
export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo' | 'contiguous-file';

/** One tar entry, written as given (no cleaning of the name or the link target). */
export interface LayerEntry {
  /** the name in the archive, verbatim (a directory's trailing `/` is up to the test) */
  name: string;
  /** default 'file' */
  type?: EntryType;
  /** permission and special bits (0o4755 …); 0 is written as 0 (tar-stream would default it); default 0o644 / 0o755 */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** a Date or seconds since the epoch; default DEFAULT_MTIME */
  mtime?: Date | number;
  /** symlink target or hardlink source */
  linkname?: string;
  /** file content (files only) */
  body?: string | Buffer;
  devmajor?: number;
  devminor?: number;
  /** extra PAX records as they are (a `path` record here overrides the name) */
  pax?: Record<string, string>;
  /** xattrs, written as PAX `SCHILY.xattr.NAME` records */
  xattrs?: Record<string, string>;
}

/** The mtime of entries that give none: 2020-01-01T00:00:00Z. */
export const DEFAULT_MTIME = new Date(Date.UTC(2020, 0, 1));

type PackHeader = Partial<Header> & Pick<Header, 'name'>;

function toHeader(e: LayerEntry): PackHeader {
  const type = e.type ?? 'file';
  const mode = e.mode ?? (type === 'directory' ? 0o755 : 0o644);
  const pax: Record<string, string> = { ...e.pax };
  for (const [k, v] of Object.entries(e.xattrs ?? {})) pax[`SCHILY.xattr.${k}`] = v;
  const mtime = e.mtime === undefined ? DEFAULT_MTIME : typeof e.mtime === 'number' ? new Date(e.mtime * 1000) : e.mtime;
  const h: PackHeader = {
    name: e.name,
    type,
    // tar-stream replaces a falsy mode with its default and writes `mode & 0o7777`:
    // a bit above the mask keeps a real 0 in the header.
    mode: mode === 0 ? 0o100000 : mode,
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    mtime,
  };
  if (e.uname !== undefined) h.uname = e.uname;
  if (e.gname !== undefined) h.gname = e.gname;
  if (e.linkname !== undefined) h.linkname = e.linkname;
  if (e.devmajor !== undefined) h.devmajor = e.devmajor;
  if (e.devminor !== undefined) h.devminor = e.devminor;
  if (Object.keys(pax).length > 0) h.pax = pax;
  return h;
}

/** An uncompressed tar of `entries`, in order, ended by the two zero blocks. */
export async function makeTarLayer(entries: LayerEntry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => void chunks.push(c as Buffer));
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const header = toHeader(e);
    const isFile = header.type === 'file' || header.type === 'contiguous-file';
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      // tar-stream writes a body only for files; other entries finish on their own.
      if (isFile) p.entry(header, Buffer.from(e.body ?? ''), cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** gzip of `buf` (level 9 by default: a bomb stays small). */
export function gzipLayer(buf: Buffer, level = 9): Buffer {
  return gzipSync(buf, { level });
}

/** A tar holding one file of `size` zero bytes: with gzipLayer, a decompression bomb of a few KiB. */
export function zeroFileLayer(name: string, size: number): Promise<Buffer> {
  return makeTarLayer([{ name, body: Buffer.alloc(size) }]);
}

// --- byte-level tricks -------------------------------------------------------

const BLOCK = 512;

/** The offset of every header block in `tar` (PAX header blocks included), in order, up to the end marker. */
export function headerOffsets(tar: Buffer): number[] {
  const out: number[] = [];
  let at = 0;
  while (at + BLOCK <= tar.length) {
    const block = tar.subarray(at, at + BLOCK);
    if (block.every((b) => b === 0)) break;
    out.push(at);
    const sizeField = block.subarray(124, 136).toString('latin1').replace(/[\0 ]+$/, '').trim();
    const size = sizeField === '' ? 0 : parseInt(sizeField, 8);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

/** The first `n` bytes of `buf` (a truncated archive or stream); n < 0 cuts that many from the end. */
export function truncateBytes(buf: Buffer, n: number): Buffer {
  return Buffer.from(buf.subarray(0, n < 0 ? buf.length + n : n));
}

/** A copy of `buf` with the byte at `offset` (negative: from the end) bit-flipped. */
export function flipBytes(buf: Buffer, ...offsets: number[]): Buffer {
  const out = Buffer.from(buf);
  for (const o of offsets) {
    const at = o < 0 ? out.length + o : o;
    out[at] = out[at]! ^ 0xff;
  }
  return out;
}

/** A copy of `tar` whose header number `index` (as headerOffsets counts) has a wrong checksum. */
export function corruptChecksum(tar: Buffer, index = 0): Buffer {
  const at = headerOffsets(tar)[index];
  if (at === undefined) throw new Error(`corruptChecksum: no header ${index}`);
  const out = Buffer.from(tar);
  const sum = parseInt(out.subarray(at + 148, at + 154).toString('latin1'), 8);
  out.write(((sum + 1) & 0o777777).toString(8).padStart(6, '0'), at + 148, 'latin1');
  return out;
}

/** `tar` without its end-of-archive blocks (Go's reader takes a clean end at a block boundary as the end). */
export function withoutEndMarker(tar: Buffer): Buffer {
  let end = tar.length;
  while (end >= BLOCK && tar.subarray(end - BLOCK, end).every((b) => b === 0)) end -= BLOCK;
  return Buffer.from(tar.subarray(0, end));
}

// --- images ------------------------------------------------------------------

/** One layer of an image built by addImage. */
export interface LayerSpec {
  /** the blob's bytes as stored (already compressed when compression is gzip) */
  bytes: Buffer;
  compression: 'gzip' | 'none';
  /** the diff_id to write instead of the true one (to make it wrong) */
  diffId?: string;
  /** the descriptor's media type instead of the one for `compression` */
  mediaType?: string;
  /** the uncompressed tar, when `bytes` cannot be gunzipped (truncated or corrupt gzip) to compute the diff_id */
  uncompressed?: Buffer;
}

export interface LayeredImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
}

function sha256(buf: Buffer): string {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

function trueDiffId(l: LayerSpec): string {
  if (l.uncompressed) return sha256(l.uncompressed);
  if (l.compression === 'none') return sha256(l.bytes);
  try {
    return sha256(gunzipSync(l.bytes));
  } catch {
    // A deliberately broken gzip: any well-formed digest will do.
    return sha256(l.bytes);
  }
}

/**
 * Stores `layers`, a Go-encoded config (baseConfig with `config` over it, and
 * diff_ids computed from the layers unless overridden) and a Go-encoded
 * manifest, then tags it `tag` (appended to index.json as layout-builder's
 * addTag does).
 */
export async function addImage(layout: Layout, tag: string, layers: LayerSpec[], config: Partial<ImageConfig> = {}): Promise<LayeredImage> {
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const l of layers) {
    const mediaType = l.mediaType ?? (l.compression === 'gzip' ? MT.layerGzip : MT.layer);
    descs.push(await putBytes(layout, l.bytes, mediaType));
    diffIds.push(l.diffId ?? trueDiffId(l));
  }
  const cfg: ImageConfig = { ...baseConfig(config), rootfs: { type: 'layers', diff_ids: diffIds } };
  const configDesc = await putJson(layout, 'config', cfg);
  const manifest: Manifest = { schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers: descs };
  const manifestDesc = await putJson(layout, 'manifest', manifest);
  await addTag(layout, tag, manifestDesc);
  return { manifest: manifestDesc, config: configDesc, layers: descs, diffIds };
}
