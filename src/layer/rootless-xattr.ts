/**
 * The `user.rootlesscontainers` xattr: where a rootless unpack records the
 * owner a file had in the image, since it cannot chown. The value is the
 * protobuf message `Resource { uint32 uid = 1; uint32 gid = 2; }` of the
 * rootlesscontainers project; an id of 0 is stored as the "no-op" id
 * (0xFFFFFFFF), and a file owned by 0:0 gets no xattr at all (umoci's rules),
 * so repack reads a missing xattr or a no-op id as root.
 */
import { OcikitError } from '../errors.js';

export const ROOTLESS_XATTR = 'user.rootlesscontainers';
const NOOP = 0xffffffff;

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** The xattr value for an owner, or undefined for root:root. */
export function encodeRootlessOwner(uid: number, gid: number): Buffer | undefined {
  if (uid === 0 && gid === 0) return undefined;
  const out: number[] = [];
  out.push(0x08);
  varint(uid === 0 ? NOOP : uid, out);
  out.push(0x10);
  varint(gid === 0 ? NOOP : gid, out);
  return Buffer.from(out);
}

/** The owner recorded in a value (no-op and absent fields read as 0). */
export function decodeRootlessOwner(buf: Buffer): { uid: number; gid: number } {
  const ids = { uid: 0, gid: 0 };
  let i = 0;
  while (i < buf.length) {
    const key = buf[i++]!;
    const field = key >> 3;
    if ((key & 7) !== 0) throw new OcikitError('UNSAFE_ENTRY', `${ROOTLESS_XATTR}: unexpected wire type ${key & 7}`);
    let n = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new OcikitError('UNSAFE_ENTRY', `${ROOTLESS_XATTR}: truncated value`);
      const b = buf[i++]!;
      n += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
    }
    const id = n === NOOP ? 0 : n;
    if (field === 1) ids.uid = id;
    else if (field === 2) ids.gid = id;
  }
  return ids;
}
