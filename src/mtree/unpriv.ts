/**
 * Walking a tree an unprivileged user owns but cannot fully read: a rootless
 * bundle keeps the image's modes, so a directory may be 0000 or a file 0200.
 * Like umoci's unprivileged evaluator, such entries are opened up for the
 * walk (owner rwx on directories, owner r on files, only on what the caller
 * owns), the walk sees the original modes, and the modes are put back.
 * Root never needs this; a walk that fails with EACCES is retried this way.
 */
import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';

/** Original modes of opened-up paths, by walk key ('.' for the root, 'a/b' below it). */
export type ModeOverride = Map<string, number>;

async function openUp(root: string): Promise<Array<[string, string, number]>> {
  const uid = process.geteuid?.() ?? 0;
  const changed: Array<[string, string, number]> = [];
  const visit = async (host: string, key: string): Promise<void> => {
    const st = await lstat(host);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      if (st.uid === uid && (mode & 0o700) !== 0o700) {
        await chmod(host, mode | 0o700);
        changed.push([host, key, mode]);
      }
      for (const name of await readdir(host)) await visit(join(host, name), key === '.' ? name : `${key}/${name}`);
    } else if (st.isFile() && st.uid === uid && (mode & 0o400) === 0) {
      await chmod(host, mode | 0o400);
      changed.push([host, key, mode]);
    }
  };
  await visit(root, '.');
  return changed;
}

/**
 * Runs `walk`; if it fails for lack of permission and the caller is not
 * root, opens the tree up, runs it again with the original modes, and
 * restores them (deepest first) whatever happens.
 */
export async function withUnprivAccess<T>(root: string, walk: (override?: ModeOverride) => Promise<T>): Promise<T> {
  try {
    return await walk();
  } catch (err) {
    const code = errnoCode(err) ?? errnoCode((err as { cause?: unknown }).cause);
    if ((code !== 'EACCES' && code !== 'EPERM') || process.geteuid?.() === 0) throw err;
  }
  return withOpenedTree(root, walk);
}

/**
 * Runs `fn` with the tree opened up (when the caller is not root), passing
 * the original modes; restores them afterwards whatever happens. For work
 * that must read everything in one pass (repack: compare, then archive).
 */
export async function withOpenedTree<T>(root: string, fn: (override?: ModeOverride) => Promise<T>): Promise<T> {
  if (process.geteuid?.() === 0) return fn(undefined);
  const changed = await openUp(root);
  try {
    return await fn(new Map(changed.map(([, key, mode]) => [key, mode])));
  } finally {
    for (const [host, , mode] of changed.reverse()) await chmod(host, mode).catch(() => undefined);
  }
}
