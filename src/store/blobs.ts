/**
 * Content-addressed blobs of a layout: put (atomic, hashed while written),
 * verified get, stat, delete, list.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, unlinkSync } from 'node:fs';
import { lstat, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OcikitError, errnoCode, wrap } from '../errors.js';
import { checkSize, parseDigest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { fsyncDir, tempName } from '../util/fsync.js';
import type { Layout } from './layout.js';
import { VerifiedStream, verifyBuffer, verifyEnd } from './verified-stream.js';

export interface PutResult {
  digest: string;
  size: number;
  /** True when this put stored the blob; false when the layout already had it. */
  created: boolean;
}

/** What the caller expects a put to produce; a mismatch fails the put and nothing is stored. */
export interface PutExpect {
  digest?: string;
  size?: number;
}

/**
 * Stores a blob. The bytes go to a temporary file in the layout while they are
 * hashed; the file is fsynced and renamed to `blobs/sha256/<hex>`, and the
 * directory fsynced, before this resolves. Putting a blob that already exists
 * is a success and leaves the existing file alone. Idempotent and crash-safe:
 * no partial blob ever stands under its final name.
 */
export async function putBlob(layout: Layout, source: Buffer | string | Readable | AsyncIterable<Buffer>, expect: PutExpect = {}): Promise<PutResult> {
  if (expect.digest !== undefined) parseDigest(expect.digest);
  const tmp = join(layout.tmpDir, tempName());
  const hash = createHash('sha256');
  let size = 0;
  let created = true;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      const buf = Buffer.from(source);
      hash.update(buf);
      size = buf.length;
      await fh.writeFile(buf);
    } else {
      const limit = expect.size;
      // Written through the handle itself, not fh.createWriteStream(): a write
      // stream that is not auto-closed keeps a reference on the handle, and
      // fh.close() below would then wait for it forever.
      const writer = new BatchWriter(fh);
      try {
        await pipeline(source, async (chunks: AsyncIterable<Buffer>) => {
          for await (const chunk of chunks) {
            size += chunk.length;
            if (limit !== undefined && size > limit) {
              throw new OcikitError('SIZE_MISMATCH', `put blob: more than the expected ${limit} bytes`);
            }
            hash.update(chunk);
            await writer.write(chunk);
          }
        });
        await writer.flush();
      } finally {
        await writer.settle();
      }
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err instanceof OcikitError ? err : wrap('put blob', err);
  }
  await fh.close();
  const digest = `sha256:${hash.digest('hex')}`;
  try {
    if (expect.size !== undefined && size !== expect.size) {
      throw new OcikitError('SIZE_MISMATCH', `put blob: expected ${expect.size} bytes, got ${size}`);
    }
    if (expect.digest !== undefined && digest !== expect.digest) {
      throw new OcikitError('DIGEST_MISMATCH', `put blob: expected ${expect.digest}, got ${digest}`);
    }
    const target = layout.blobPath(digest);
    if (await blobSize(layout, digest) === size) {
      await unlink(tmp);
      created = false;
    } else {
      await rename(tmp, target);
      await fsyncDir(join(layout.root, 'blobs', 'sha256'));
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err instanceof OcikitError ? err : wrap('put blob', err);
  }
  return { digest, size, created };
}

/**
 * Writes many small chunks (64 KiB from a socket) as few large writes, with
 * one write in flight while the next batch fills: the source is not held
 * up by each write's round trip through the thread pool. `write` waits only
 * when a full batch is ready and the previous one is still being written.
 */
class BatchWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;
  private position = 0;
  static readonly BATCH = 1 << 20;
  /** Positional writes to distinct ranges may run side by side in the thread pool. */
  static readonly MAX_IN_FLIGHT = 4;

  constructor(private readonly fh: FileHandle) {}

  async write(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BatchWriter.BATCH) await this.startWrite();
  }

  private async startWrite(): Promise<void> {
    while (this.inFlight.size >= BatchWriter.MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure.err;
    const buffers = this.pending;
    const at = this.position;
    this.position += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const p: Promise<void> = writeAll(this.fh, buffers, at).then(
      () => void this.inFlight.delete(p),
      (err: unknown) => {
        this.failure ??= { err };
        this.inFlight.delete(p);
      },
    );
    this.inFlight.add(p);
  }

  async flush(): Promise<void> {
    if (this.pendingBytes > 0) await this.startWrite();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure.err;
  }

  /** Waits for writes in flight (after a failure elsewhere, before the file is closed). */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}

/** writev at `position`, looping over short writes. */
async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let bufs = buffers;
  let at = position;
  while (bufs.length > 0) {
    const { bytesWritten } = await fh.writev(bufs, at);
    at += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < bufs.length && skip >= bufs[i]!.length) skip -= bufs[i++]!.length;
    bufs = bufs.slice(i);
    if (skip > 0) bufs[0] = bufs[0]!.subarray(skip);
  }
}

/** The size of a stored blob, or undefined if it is absent. */
export async function blobSize(layout: Layout, digest: string): Promise<number | undefined> {
  try {
    const st = await lstat(layout.blobPath(digest));
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw wrap(`stat blob ${digest}`, err);
  }
}

function checkDescriptor(desc: Descriptor): void {
  if (typeof desc?.digest !== 'string') throw new OcikitError('DESCRIPTOR_INVALID', 'descriptor has no digest');
  parseDigest(desc.digest);
  checkSize(desc.size, `descriptor ${desc.digest}`);
}

/**
 * Opens a blob for streaming. The stream checks digest and size as it is read
 * and fails at the end on a mismatch (or as soon as it is too long). The caller
 * must drain or destroy it.
 */
export function openBlob(layout: Layout, desc: Descriptor): Readable {
  checkDescriptor(desc);
  const verifier = new VerifiedStream(desc.digest, desc.size);
  const file = createReadStream(layout.blobPath(desc.digest));
  file.on('error', (err) => {
    verifier.destroy(errnoCode(err) === 'ENOENT' ? notFound(desc.digest, err) : wrap(`read blob ${desc.digest}`, err));
  });
  // pipe() does not close the source when the destination fails or is
  // destroyed (a blob too long, a consumer that stops early): close it here.
  verifier.once('close', () => file.destroy());
  return file.pipe(verifier);
}

function notFound(digest: string, cause?: unknown): OcikitError {
  return new OcikitError('BLOB_NOT_FOUND', `blob not found: ${digest}`, { cause });
}

/** Largest blob readBlob() loads into memory (manifests, configs, indexes). */
export const MAX_JSON_BLOB = 64 << 20;

/**
 * Reads a whole (small) blob and verifies it. A descriptor with embedded `data`
 * is checked against its digest too (and that data is what is returned).
 */
export async function readBlob(layout: Layout, desc: Descriptor, maxSize = MAX_JSON_BLOB): Promise<Buffer> {
  checkDescriptor(desc);
  if (desc.size > maxSize) {
    throw new OcikitError('DESCRIPTOR_INVALID', `blob ${desc.digest}: size ${desc.size} is over the ${maxSize}-byte limit for this kind of blob`);
  }
  if (typeof desc.data === 'string') {
    const data = Buffer.from(desc.data, 'base64');
    verifyBuffer(data, desc.digest, desc.size);
    return data;
  }
  let fh;
  try {
    fh = await open(layout.blobPath(desc.digest), 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound(desc.digest, err);
    throw wrap(`read blob ${desc.digest}`, err);
  }
  try {
    // Read one byte more than promised, to see a blob that is too long.
    const buf = Buffer.alloc(desc.size + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) break;
    }
    const hash = createHash(parseDigest(desc.digest).algorithm).update(buf.subarray(0, Math.min(got, desc.size)));
    const err = verifyEnd(desc.digest, desc.size, got, hash);
    if (err !== null) throw err;
    return buf.subarray(0, got);
  } catch (err) {
    // e.g. EISDIR: a directory where the blob should be.
    throw err instanceof OcikitError ? err : wrap(`read blob ${desc.digest}`, err);
  } finally {
    await fh.close();
  }
}

/** Deletes a blob; a missing blob is not an error. */
export async function deleteBlob(layout: Layout, digest: string): Promise<void> {
  try {
    await unlink(layout.blobPath(digest));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw wrap(`delete blob ${digest}`, err);
  }
}

/**
 * Deletes many blobs at once (gc's sweep), returning those removed and their
 * total size. Synchronous on purpose: an lstat and an unlink cost a few
 * microseconds each, less than a round trip through libuv's pool, and the
 * caller holds the layout exclusively. A blob already gone is skipped.
 */
export function sweepBlobs(layout: Layout, digests: string[]): { removed: string[]; bytes: number } {
  const removed: string[] = [];
  let bytes = 0;
  for (const digest of digests) {
    const path = layout.blobPath(digest);
    try {
      bytes += lstatSync(path).size;
      unlinkSync(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw wrap(`delete blob ${digest}`, err);
    }
    removed.push(digest);
  }
  return { removed, bytes };
}

/** Every blob digest stored in the layout (files under blobs/<alg>/ with a valid name). */
export async function listBlobs(layout: Layout): Promise<string[]> {
  const out: string[] = [];
  const blobs = join(layout.root, 'blobs');
  for (const alg of await readdir(blobs)) {
    let names: string[];
    try {
      names = await readdir(join(blobs, alg));
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') continue;
      throw wrap('list blobs', err);
    }
    for (const hex of names) {
      const digest = `${alg}:${hex}`;
      try {
        parseDigest(digest);
        out.push(digest);
      } catch {
        // Not a blob name (a stray file): left alone.
      }
    }
  }
  return out.sort();
}
