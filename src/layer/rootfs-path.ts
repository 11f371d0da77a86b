/**
 * Name resolution for the extractor: every layer entry, link target and
 * whiteout goes through here before anything on disk is touched.
 *
 * A name is cleaned lexically first (a leading "/" is dropped, "." and empty
 * components vanish, ".." pops a component; a ".." that would climb above
 * the root is refused). The parent directory is then resolved component by
 * component with lstat: a symlink on the way is expanded as if the rootfs
 * were "/" (an absolute target restarts at the root, ".." stops at the root),
 * so no name can lead outside. Missing directories are created (0755) and a
 * non-directory in the way is replaced by a directory, as umoci 0.5+ does.
 *
 * Resolved parents are cached for the rest of the layer until something is
 * removed or replaced; a directory the extractor created in this layer is
 * "fresh": it holds only what this layer wrote, so its children need no lstat.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir, readlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import { components } from '../fs/secure-join.js';

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/** The cleaned components of a tar entry name; refuses a name that climbs above the root or holds NUL. */
export function cleanEntryName(name: string): string[] {
  if (name.includes('\0')) throw new OcikitError('UNSAFE_ENTRY', `layer entry name ${JSON.stringify(name)} contains a NUL byte`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw new OcikitError('UNSAFE_ENTRY', `layer entry ${JSON.stringify(name)} escapes the root with ".."`);
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

export class RootfsPaths {
  private cache = new Map<string, string>();
  private fresh = new Set<string>();
  private known = new Set<string>();

  /**
   * @param settle waits for in-flight writes on a path before it is looked at
   * @param touchDir called with a directory before its content changes
   */
  constructor(
    private readonly root: string,
    private readonly settle: (rel: string) => Promise<void>,
    private readonly touchDir: (rel: string) => Promise<void>,
  ) {}

  newLayer(): void {
    this.cache.clear();
    this.fresh.clear();
    this.known.clear();
  }

  isFresh(rel: string): boolean {
    return this.fresh.has(rel);
  }

  /** A directory the extractor just made (empty). */
  created(rel: string): void {
    this.fresh.add(rel);
    this.known.add(rel);
  }

  /**
   * Something at `rel` was removed or replaced. Only a directory or a symlink
   * can lie on a cached resolution (`resolvable`); removing anything else
   * leaves the cache valid.
   */
  removed(rel: string, resolvable = true): void {
    this.fresh.delete(rel);
    if (!resolvable) return;
    this.cache.clear();
    this.known.clear();
  }

  private host(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  /** lstat of `rel`, skipped when its parent is fresh and this layer did not write `rel`. */
  async existing(rel: string, writtenThisLayer: boolean): Promise<Stats | undefined> {
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    if (!writtenThisLayer && this.fresh.has(parent)) return undefined;
    try {
      return await lstat(this.host(rel));
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  /** The resolved directory for an entry's parent components, created as needed. */
  async parentFor(comps: string[]): Promise<string> {
    const key = comps.join('/');
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      await this.touchDir(hit);
      return hit;
    }
    const rel = await this.walk(comps, true);
    this.cache.set(key, rel!);
    await this.touchDir(rel!);
    return rel!;
  }

  /** The resolved directory for `comps`, or undefined when a component is missing or not a directory. */
  async resolveExisting(comps: string[]): Promise<string | undefined> {
    return this.walk(comps, false);
  }

  private async walk(comps: string[], create: boolean): Promise<string | undefined> {
    const done: string[] = [];
    const todo = [...comps];
    let links = 0;
    while (todo.length > 0) {
      const c = todo.shift()!;
      if (c === '..') {
        done.pop();
        continue;
      }
      const parent = done.join('/');
      const rel = parent === '' ? c : `${parent}/${c}`;
      if (this.known.has(rel)) {
        done.push(c);
        continue;
      }
      await this.settle(rel);
      let st: Stats | undefined;
      try {
        st = await lstat(this.host(rel));
      } catch (err) {
        const code = errnoCode(err);
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      }
      if (st?.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) {
          throw new OcikitError('UNSAFE_ENTRY', `too many levels of symbolic links resolving ${JSON.stringify(comps.join('/'))}`);
        }
        const target = await readlink(this.host(rel));
        if (target.startsWith('/')) done.length = 0;
        todo.unshift(...components(target));
        continue;
      }
      if (st?.isDirectory()) {
        this.known.add(rel);
        done.push(c);
        continue;
      }
      if (!create) return undefined;
      await this.touchDir(parent);
      if (st !== undefined) {
        // A non-directory where a directory must be: replaced (umoci 0.5+).
        await unlink(this.host(rel));
        this.removed(rel, false); // not a symlink (followed above), not a directory
      }
      await mkdir(this.host(rel), { mode: 0o755 });
      this.created(rel);
      done.push(c);
    }
    return done.join('/');
  }
}
