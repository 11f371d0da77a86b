/**
 * A sandbox for running hostile input through the CLI: SANDBOX/layout (the
 * image), SANDBOX/bundle (the output), SANDBOX/outside (canary files, a
 * directory and a symlink: what an escape would hit), and snapshots that
 * show any change to a tree (paths, types, modes, owners, link counts, sizes,
 * contents, link targets, times, xattr names).
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listAttributesSync } from '@napi-rs/xattr';

export interface Sandbox {
  root: string;
  layout: string;
  bundle: string;
  outside: string;
  /** unique per sandbox: names that an escape to "/" would create on the host */
  token: string;
}

export async function makeSandbox(root: string): Promise<Sandbox> {
  const s: Sandbox = {
    root,
    layout: join(root, 'layout'),
    bundle: join(root, 'bundle'),
    outside: join(root, 'outside'),
    token: `ocikit-hostile-${process.pid}-${randomBytes(4).toString('hex')}`,
  };
  await mkdir(join(s.outside, 'dir'), { recursive: true });
  await writeFile(join(s.outside, 'canary'), 'canary\n', { mode: 0o644 });
  await writeFile(join(s.outside, 'target'), 'target\n', { mode: 0o600 });
  await writeFile(join(s.outside, 'dir', 'secret'), 'secret\n', { mode: 0o640 });
  await symlink('canary', join(s.outside, 'sym'));
  return s;
}

/** One line per path under `dir` (recursive, `skip` names at the top left out): everything a change would show. */
export async function snapshot(dir: string, skip: string[] = []): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? dir : join(dir, rel);
    const st = await lstat(abs, { bigint: true });
    let what = '';
    if (st.isFile()) what = createHash('sha256').update(await readFile(abs)).digest('hex');
    else if (st.isSymbolicLink()) what = `-> ${await readlink(abs)}`;
    const xattrs = st.isSymbolicLink() ? '' : listAttributesSync(abs).sort().join(',');
    out.push(`${rel || '.'} mode=${st.mode.toString(8)} ${st.uid}:${st.gid} nlink=${st.nlink} size=${st.size} mtime=${st.mtimeNs} ctime=${st.ctimeNs} ${what} ${xattrs}`);
    if (st.isDirectory()) {
      for (const name of (await readdir(abs)).sort()) {
        if (rel === '' && skip.includes(name)) continue;
        await walk(rel === '' ? name : join(rel, name));
      }
    }
  };
  await walk('');
  return out;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every name under `dir` that starts with `.wh.`. */
export async function whiteoutNames(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = join(rel, e.name);
      if (e.name.startsWith('.wh.')) found.push(r);
      if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return found;
}
