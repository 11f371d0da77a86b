import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Flushes a directory's entries (a rename or create in it) to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A name for a temporary file that gc recognises as ocikit's leftovers. */
export const TEMP_PREFIX = '.ocikit-tmp-';

export function tempName(): string {
  return TEMP_PREFIX + randomBytes(8).toString('hex');
}

/**
 * Replaces `target` with `data` atomically: write a temporary file in
 * `tmpDir` (same filesystem), fsync it, rename it over the target, fsync the
 * target's directory. A crash at any point leaves either the old or the new
 * content under `target`, and at worst a temporary file that gc removes.
 */
export async function writeFileAtomic(target: string, data: string | Buffer, tmpDir: string, mode = 0o644): Promise<void> {
  const tmp = `${tmpDir}/${tempName()}`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(target));
}
