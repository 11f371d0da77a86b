import { chmod, lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * rm -rf that also works for an unprivileged user on a tree holding
 * directories without owner write or search permission (a failed rootless
 * unpack): such directories are opened up first.
 */
export async function forceRemove(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch {
    // fall through: open up the directories and try again
  }
  const openUp = async (dir: string): Promise<void> => {
    await chmod(dir, 0o700).catch(() => undefined);
    const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const d of names) if (d.isDirectory()) await openUp(join(dir, d.name));
  };
  const st = await lstat(path).catch(() => undefined);
  if (st?.isDirectory()) await openUp(path);
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}
