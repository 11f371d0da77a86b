import { createHash } from 'node:crypto';
import { OcikitError } from '../errors.js';

/** Algorithms ocikit can verify, with their hex length. Only sha256 is written. */
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

/** Splits and checks a digest string; throws DESCRIPTOR_INVALID for anything ocikit cannot verify. */
export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const want = HEX_LENGTH[algorithm];
  if (colon < 0 || want === undefined) {
    throw new OcikitError('DESCRIPTOR_INVALID', `unsupported digest algorithm: ${JSON.stringify(digest)}`);
  }
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) {
    throw new OcikitError('DESCRIPTOR_INVALID', `invalid digest: ${JSON.stringify(digest)}`);
  }
  return { algorithm: algorithm as ParsedDigest['algorithm'], hex };
}

/** The sha256 digest of `bytes`, as a descriptor names it. */
export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isDigest(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}

/**
 * The largest descriptor size ocikit accepts. Sizes must be exact integers in
 * JavaScript, and a blob larger than this is absurd for a layout on disk.
 */
export const MAX_BLOB_SIZE = Number.MAX_SAFE_INTEGER;

/** Refuses negative, fractional and absurd descriptor sizes. */
export function checkSize(size: unknown, what: string): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_BLOB_SIZE) {
    // String() for a bigint, which JSON.stringify refuses to print.
    const shown = typeof size === 'bigint' ? String(size) : JSON.stringify(size);
    throw new OcikitError('DESCRIPTOR_INVALID', `${what}: invalid size ${shown}`);
  }
  return size;
}
