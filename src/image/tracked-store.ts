/**
 * Putting an archive's blobs into a layout so that a failed load can be
 * undone: every blob the layout did not have before is recorded, and `undo`
 * removes those again unless index.json reaches them (another writer's), as
 * a failed pull does.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { OcikitError } from '../errors.js';
import { walkReachable } from '../image/walk.js';
import { blobSize, deleteBlob, putBlob, type PutExpect, type PutResult } from '../store/blobs.js';
import { readIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';

export class TrackedStore {
  /** Digests this load added to the layout. */
  readonly added = new Set<string>();

  constructor(readonly layout: Layout) {}

  /** Stores `source`; `expect` is checked as putBlob checks it, and `what` names the member in errors. */
  async put(source: Buffer | Readable | AsyncIterable<Buffer>, what: string, expect: PutExpect = {}): Promise<PutResult> {
    const digest = expect.digest ?? (Buffer.isBuffer(source) ? `sha256:${createHash('sha256').update(source).digest('hex')}` : undefined);
    const had = digest !== undefined && (await blobSize(this.layout, digest)) !== undefined;
    let r: PutResult;
    try {
      r = await putBlob(this.layout, source, expect);
    } catch (err) {
      if (err instanceof OcikitError && (err.code === 'DIGEST_MISMATCH' || err.code === 'SIZE_MISMATCH')) {
        throw new OcikitError(err.code, `${what}: ${err.message.replace(/^put blob: /, '')}`, { cause: err });
      }
      throw err;
    }
    if (!had && (digest === undefined || digest === r.digest)) this.added.add(r.digest);
    return r;
  }

  /** Removes what this load added, except blobs index.json reaches. Never throws. */
  async undo(): Promise<void> {
    if (this.added.size === 0) return;
    const keep = await walkReachable(this.layout, (await readIndex(this.layout)).manifests).catch(() => new Set<string>(this.added));
    for (const digest of this.added) if (!keep.has(digest)) await deleteBlob(this.layout, digest).catch(() => undefined);
  }
}
