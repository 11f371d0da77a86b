import { OcikitError } from '../errors.js';
import { checkSize, parseDigest } from './digest.js';
import type { Descriptor } from './types.js';

/**
 * Checks what ocikit relies on in a descriptor before following it: a media
 * type, a digest it can verify (so it cannot name a path outside blobs/), a
 * sane size, and string annotations. Throws DESCRIPTOR_INVALID naming `where`.
 */
export function checkDescriptorShape(d: unknown, where: string): asserts d is Descriptor {
  if (d === null || typeof d !== 'object' || Array.isArray(d)) {
    throw new OcikitError('DESCRIPTOR_INVALID', `${where}: descriptor is not an object`);
  }
  const o = d as Record<string, unknown>;
  if (typeof o['mediaType'] !== 'string') throw new OcikitError('DESCRIPTOR_INVALID', `${where}: descriptor has no mediaType`);
  if (typeof o['digest'] !== 'string') throw new OcikitError('DESCRIPTOR_INVALID', `${where}: descriptor has no digest`);
  try {
    parseDigest(o['digest']);
    checkSize(o['size'], 'descriptor');
  } catch (err) {
    throw new OcikitError('DESCRIPTOR_INVALID', `${where}: ${(err as Error).message}`, { cause: err });
  }
  const ann = o['annotations'];
  if (ann !== undefined && ann !== null) {
    if (typeof ann !== 'object' || Array.isArray(ann) || Object.values(ann).some((v) => typeof v !== 'string')) {
      throw new OcikitError('DESCRIPTOR_INVALID', `${where}: annotations must map strings to strings`);
    }
  }
}
