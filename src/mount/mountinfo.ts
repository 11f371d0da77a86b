/**
 * What is mounted where, from /proc/self/mountinfo (proc(5)): used to check
 * that a directory is the overlay ocikit mounted before unmounting it.
 */
import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  /** Per-superblock options (for overlay: lowerdir=…,upperdir=…). */
  superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0 || f.length < dash + 4) continue;
    out.push({ mountPoint: unescape(f[4]!), fsType: f[dash + 1]!, superOptions: f[dash + 3]! });
  }
  return out;
}

/** The topmost mount whose mount point is `path` (absolute, symlinks resolved), if any. */
export async function mountAt(path: string, mountinfo = '/proc/self/mountinfo'): Promise<MountEntry | undefined> {
  const entries = parseMountinfo(await readFile(mountinfo, 'utf8'));
  return entries.filter((e) => e.mountPoint === path).at(-1);
}
