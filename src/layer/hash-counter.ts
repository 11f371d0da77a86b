import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through while hashing (sha256) and counting them: a layer's diff_id and uncompressed size. */
export class HashCounter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** The sha256 digest of everything that passed, as `sha256:<hex>`. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
