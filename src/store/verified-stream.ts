/**
 * A pass-through that checks a blob against its descriptor while it streams:
 * it refuses more bytes than the descriptor's size as soon as they arrive, and
 * at the end checks the size and the digest. A consumer that drains it fully
 * has read exactly the bytes the descriptor names, or got an error naming the
 * blob (umoci's "verified reader" messages, which users grep for).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, OcikitError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';

export class VerifiedStream extends Transform {
  private readonly hash: Hash;
  private seen = 0;

  constructor(
    readonly digest: string,
    readonly size: number,
  ) {
    super();
    this.hash = createHash(parseDigest(digest).algorithm);
  }

  get bytesRead(): number {
    return this.seen;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size) {
      done(sizeMismatch(this.digest, this.size, this.seen, 'more than'));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(verifyEnd(this.digest, this.size, this.seen, this.hash));
  }
}

function sizeMismatch(digest: string, want: number, got: number, rel: string): OcikitError {
  return new OcikitError('SIZE_MISMATCH', `verified reader size mismatch: blob ${digest}: expected ${want} bytes, read ${rel} ${got}`);
}

/** The end-of-stream check shared by the stream and the whole-buffer reader. */
export function verifyEnd(digest: string, size: number, seen: number, hash: Hash): OcikitError | null {
  if (seen !== size) return sizeMismatch(digest, size, seen, seen > size ? 'more than' : 'only');
  const { algorithm } = parseDigest(digest);
  const actual = `${algorithm}:${hash.digest('hex')}`;
  return actual === digest ? null : new DigestMismatchError(digest, actual, seen);
}

/** Checks a whole buffer against a digest and size. */
export function verifyBuffer(buf: Buffer, digest: string, size: number): void {
  const hash = createHash(parseDigest(digest).algorithm).update(buf);
  const err = verifyEnd(digest, size, buf.length, hash);
  if (err !== null) throw err;
}
