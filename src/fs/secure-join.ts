/**
 * Resolving a path inside a root directory as if the root were "/".
 *
 * Every layer entry, link target and whiteout is resolved through here before
 * anything is created, changed or removed. Each component is looked up with
 * lstat; a symlink met on the way is expanded in place, an absolute target
 * restarting from the root and ".." never climbing above it. So a hostile
 * layer holding `etc -> /` followed by `etc/passwd` resolves to
 * `<root>/passwd`, never to the host's `/passwd` (the semantics of umoci's
 * filepath-securejoin). The final component is never followed (`follow:
 * false`, the default): extraction replaces a link, it does not write through
 * it.
 *
 * This guards against hostile *content*. Against a concurrent process
 * swapping components while we resolve, callers also open with O_NOFOLLOW and
 * a layer's entries touching one path are applied in order.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

export interface SecureJoinOptions {
  /** Follow a symlink in the last component too (default false). */
  follow?: boolean;
}

/** Splits a tar-style name into components, dropping empty ones and ".". */
export function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * The cleaned path of `unsafe` relative to the root ("" for the root itself),
 * with every symlink on the way (and at the end, with `follow`) resolved
 * inside the root. Components that do not exist yet are taken lexically.
 */
export async function resolveInRoot(root: string, unsafe: string, opts: SecureJoinOptions = {}): Promise<string> {
  const done: string[] = [];
  const todo = components(unsafe);
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop(); // at the root, ".." stays at the root
      continue;
    }
    const isLast = todo.length === 0;
    if (isLast && !opts.follow) {
      done.push(c);
      break;
    }
    const host = join(root, ...done, c);
    let target: string | undefined;
    try {
      const st = await lstat(host);
      if (st.isSymbolicLink()) target = await readlink(host);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    if (target === undefined) {
      done.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new OcikitError('UNSAFE_ENTRY', `too many levels of symbolic links resolving ${JSON.stringify(unsafe)}`);
    }
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...components(target));
  }
  return done.join('/');
}

/** The host path of `unsafe` inside `root` (see resolveInRoot). */
export async function secureJoin(root: string, unsafe: string, opts: SecureJoinOptions = {}): Promise<string> {
  const rel = await resolveInRoot(root, unsafe, opts);
  return rel === '' ? root : join(root, rel);
}
