import { lstat } from 'node:fs/promises';
import { errnoCode } from '../errors.js';

/** Whether anything (a dangling symlink included) is at `path`; errors other than ENOENT are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
