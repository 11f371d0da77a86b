/**
 * The bound on a layer's decompressed size: a decompression bomb (a small blob
 * that inflates to terabytes) fails with one clear error instead of filling
 * the disk.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { OcikitError } from '../errors.js';

/** The error for a layer that decompresses to more than `max` bytes. */
export function tooBig(max: number): OcikitError {
  return new OcikitError('UNSAFE_ENTRY', `layer decompresses to more than ${max} bytes`);
}

/** A passthrough that fails once more than `max` bytes went through. */
export class OutputLimit extends Transform {
  private seen = 0;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) return cb(tooBig(this.max));
    cb(null, chunk);
  }
}
