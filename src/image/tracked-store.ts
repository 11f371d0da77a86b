/**
 * Putting blobs into a layout so that a failed load or pull can be undone:
 * every blob the layout did not have before is recorded (putBlob says so),
 * and `undo` removes those again unless index.json reaches them (another
 * writer's).
 */
import type { Readable } from 'node:stream';
import { OcikitError } from '../errors.js';
import { deleteBlob, putBlob, type PutExpect, type PutResult } from '../store/blobs.js';
import { readIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';
import { walkReachable } from './walk.js';

export class TrackedStore {
  /** Digests this run added to the layout. */
  readonly added = new Set<string>();

  constructor(readonly layout: Layout) {}

  /** Stores `source` as putBlob does; `what` names it in a digest or size mismatch. */
  async put(source: Buffer | Readable | AsyncIterable<Buffer>, what: string, expect: PutExpect = {}): Promise<PutResult> {
    let r: PutResult;
    try {
      r = await putBlob(this.layout, source, expect);
    } catch (err) {
      if (err instanceof OcikitError && (err.code === 'DIGEST_MISMATCH' || err.code === 'SIZE_MISMATCH')) {
        throw new OcikitError(err.code, `${what}: ${err.message.replace(/^put blob: /, '')}`, { cause: err });
      }
      throw err;
    }
    if (r.created) this.added.add(r.digest);
    return r;
  }

  /** Removes what this run added, except blobs index.json reaches. Never throws. */
  async undo(): Promise<void> {
    if (this.added.size === 0) return;
    const keep = await walkReachable(this.layout, (await readIndex(this.layout)).manifests).catch(() => new Set<string>(this.added));
    for (const digest of this.added) if (!keep.has(digest)) await deleteBlob(this.layout, digest).catch(() => undefined);
  }
}
