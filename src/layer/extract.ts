/**
 * Applying layers to a root filesystem: the only code that writes into a
 * rootfs during unpack.
 *
 * Entries are taken in archive order and every path is resolved inside the
 * root (./rootfs-path.ts), so nothing outside it is ever created, changed or
 * read. Small regular files are written concurrently (up to `concurrency` in
 * flight, content buffered, metadata set through the open handle) while the
 * reader goes on; everything that can change how later names resolve
 * (directories, symlinks, removals, whiteouts) happens in order, after any
 * in-flight write on the same path or below it. Directory modes and times are
 * set when the layer ends, deepest first, so writing children cannot undo
 * them; directories whose children changed get their times back.
 *
 * Whiteouts follow the image spec: `.wh.NAME` removes NAME from lower layers
 * (never what this layer wrote), `.wh..wh..opq` empties a directory of lower
 * layers' content, a bare `.wh.` is refused, and no whiteout file lands in the
 * rootfs.
 *
 * With `overlayWhiteouts` (one layer extracted alone into an empty directory,
 * to serve as an overlayfs lower layer) whiteouts are kept instead, in the
 * form overlayfs reads: `.wh.NAME` becomes a 0/0 character device NAME and
 * `.wh..wh..opq` sets the opaque xattr on its directory.
 */
import { constants, type Stats } from 'node:fs';
import { link, lstat, lutimes, mkdir, open, readdir, rm, symlink, unlink, lchown, chmod, type FileHandle } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as xattr from '@napi-rs/xattr';
import { OcikitError, errnoCode } from '../errors.js';
import type { Logger } from '../util/log.js';
import { type MapOptions, toHost } from '../runtime/id-map.js';
import type { TarHeader, TarTime } from './tar-header.js';
import type { TarReader } from './tar-reader.js';
import { RootfsPaths, cleanEntryName } from './rootfs-path.js';
import { encodeRootlessOwner, ROOTLESS_XATTR } from './rootless-xattr.js';

const run = promisify(execFile);

/** Files up to this size are buffered and written concurrently; larger ones are streamed in order. */
const SMALL_FILE = 1 << 20;
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE = '.wh..wh..opq';
/** Never restored from a layer (umoci's rule, plus overlayfs' own xattrs, which would change what a mount shows). */
export function forbiddenXattr(name: string): boolean {
  return name === 'security.selinux' || name === 'system.nfs4_acl' || name.startsWith('trusted.overlay.');
}

export interface ExtractOptions {
  mapOptions: MapOptions;
  /** Keep an existing symlink to a directory when an entry is a directory (umoci's --keep-dirlinks). */
  keepDirlinks?: boolean;
  /** Small files written at once (default 32). */
  concurrency?: number;
  log?: Logger;
  /**
   * Keep whiteouts in overlayfs form instead of applying them: for a layer
   * extracted alone into an empty root that will be an overlay lower layer.
   * `opaqueXattr` is the xattr set to "y" on an opaque directory
   * (`trusted.overlay.opaque` for the kernel as root, `user.overlay.opaque`
   * for fuse-overlayfs or a userxattr mount).
   */
  overlayWhiteouts?: { opaqueXattr: string };
}

/** What the extractor knows about a file it wrote, so the mtree walk need not read it again. */
export interface WrittenFile {
  sha256: string;
  ino: bigint;
  size: bigint;
  ctimeNs: bigint;
}

interface DirMeta {
  mode: number;
  atime: TarTime;
  mtime: TarTime;
}

/** What removal needs to know of a path: an lstat result or a dirent. */
type FileKind = Pick<Stats, 'isDirectory' | 'isSymbolicLink'>;

/** Components in a relative path ('' is the root, depth 0): deepest-first orders sort by it. */
function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length;
}

function seconds(t: TarTime): number {
  return t.sec + t.nsec / 1e9;
}

function hostTimes(st: { atimeMs: number; mtimeMs: number }): DirMeta['atime'][] {
  const conv = (ms: number): TarTime => {
    const sec = Math.floor(ms / 1000);
    return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
  };
  return [conv(st.atimeMs), conv(st.mtimeMs)];
}

/** The state of one rootfs across the layers applied to it. */
export class RootfsExtractor {
  /** Regular files written by the last layer that touched them, by path relative to the root. */
  readonly written = new Map<string, WrittenFile>();
  private readonly paths: RootfsPaths;
  private readonly concurrency: number;
  private readonly inflight = new Map<string, Promise<void>>();
  private failure: unknown;
  private warnedXattr = false;
  /** An overlay whiteout already made in this root: later ones are hard links to it (one mknod per extraction). */
  private whiteoutTemplate: string | undefined;
  // Per layer:
  private layerPaths = new Set<string>();
  private layerAncestors = new Set<string>();
  private dirMeta = new Map<string, DirMeta>();
  private savedTimes = new Map<string, [TarTime, TarTime]>();

  constructor(
    readonly root: string,
    private readonly opts: ExtractOptions,
  ) {
    this.paths = new RootfsPaths(root, (rel) => this.settle(rel), (rel) => this.touchDir(rel));
    this.concurrency = opts.concurrency ?? 32;
  }

  private get rootless(): boolean {
    return this.opts.mapOptions.rootless;
  }

  /** Creates the root directory (0755, owned by the mapped root, times at the epoch), as umoci does before any layer. */
  async prepareRoot(existing = false): Promise<void> {
    if (!existing) await mkdir(this.root, { mode: 0o755 });
    await chmod(this.root, 0o755);
    if (!this.rootless) await lchown(this.root, this.hostUid(0), this.hostGid(0));
    await lutimes(this.root, 0, 0);
  }

  /** Applies one layer's entries; resolves when everything, metadata included, is on disk. */
  async applyLayer(reader: TarReader): Promise<void> {
    this.layerPaths = new Set();
    this.layerAncestors = new Set();
    this.dirMeta = new Map();
    this.savedTimes = new Map();
    this.paths.newLayer();
    try {
      for (let h = await reader.next(); h !== null; h = await reader.next()) {
        this.check();
        await this.entry(h, reader);
      }
      await this.drain();
    } catch (err) {
      await this.drain().catch(() => undefined);
      throw err;
    }
    this.check();
    await this.finishDirs();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async drain(): Promise<void> {
    await Promise.all(this.inflight.values());
    this.check();
  }

  /** Waits for in-flight writes on `rel`, and with `below` on everything under it too. */
  private async settle(rel: string, below = false): Promise<void> {
    const p = this.inflight.get(rel);
    if (p !== undefined) await p;
    if (below) {
      const prefix = rel === '' ? '' : `${rel}/`;
      const under = [...this.inflight.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
      await Promise.all(under);
    }
    this.check();
  }

  /** Records a directory's times before its content changes, to put them back at the layer's end. */
  private async touchDir(rel: string): Promise<void> {
    if (this.savedTimes.has(rel) || this.dirMeta.has(rel) || this.paths.isFresh(rel)) return;
    try {
      const st = await lstat(this.host(rel));
      const [a, m] = hostTimes(st);
      this.savedTimes.set(rel, [a!, m!]);
    } catch {
      // gone: nothing to restore
    }
  }

  private host(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  private hostUid(id: number): number {
    return toHost(id, this.opts.mapOptions.uidMappings);
  }

  private hostGid(id: number): number {
    return toHost(id, this.opts.mapOptions.gidMappings);
  }

  private markWritten(rel: string): void {
    this.layerPaths.add(rel);
    for (let i = rel.lastIndexOf('/'); i > 0; i = rel.lastIndexOf('/', i - 1)) {
      const dir = rel.slice(0, i);
      if (this.layerAncestors.has(dir)) break;
      this.layerAncestors.add(dir);
    }
  }

  private async entry(h: TarHeader, reader: TarReader): Promise<void> {
    const comps = cleanEntryName(h.name);
    if (comps.length === 0) {
      if (h.type !== 'dir') throw new OcikitError('UNSAFE_ENTRY', `layer entry ${JSON.stringify(h.name)} names the root but is not a directory`);
      await this.rootEntry(h);
      return;
    }
    const base = comps[comps.length - 1]!;
    if (base.startsWith(WHITEOUT_PREFIX)) {
      await this.whiteout(h, comps);
      return;
    }
    const parent = await this.paths.parentFor(comps.slice(0, -1));
    const rel = parent === '' ? base : `${parent}/${base}`;
    switch (h.type) {
      case 'dir':
        return this.directory(h, rel);
      case 'file':
        return this.file(h, rel, reader);
      case 'symlink':
        await this.replace(rel, false);
        await symlink(h.linkname, this.host(rel));
        await this.owner(rel, h, true);
        await this.xattrs(rel, h, true);
        await lutimes(this.host(rel), seconds(h.atime ?? h.mtime), seconds(h.mtime));
        this.markWritten(rel);
        return;
      case 'hardlink':
        return this.hardlink(h, rel);
      case 'fifo':
      case 'char':
      case 'block':
        return this.special(h, rel);
    }
  }

  private async rootEntry(h: TarHeader): Promise<void> {
    await this.owner('', h, false);
    await this.xattrs('', h, false);
    this.dirMeta.set('', { mode: h.mode, atime: h.atime ?? h.mtime, mtime: h.mtime });
  }

  /**
   * Makes room for a new object at `rel`: an existing one is removed, unless
   * `keepDir` and it is a directory (or, with --keep-dirlinks, a symlink to
   * one). Returns true when an existing directory was kept.
   */
  private async replace(rel: string, keepDir: boolean): Promise<boolean> {
    await this.settle(rel);
    const existing = await this.paths.existing(rel, this.layerPaths.has(rel));
    if (existing === undefined) return false;
    if (keepDir && existing.isDirectory()) return true;
    if (keepDir && existing.isSymbolicLink() && this.opts.keepDirlinks) {
      // The link is followed inside the rootfs, never on the host.
      if ((await this.paths.resolveExisting(rel.split('/'))) !== undefined) return true;
    }
    await this.remove(rel, existing);
    return false;
  }

  /** Removes `rel`; `kind` is its lstat (or dirent), which says whether cached name resolutions may have gone through it. */
  private async remove(rel: string, kind: FileKind): Promise<void> {
    const isDir = kind.isDirectory();
    if (isDir) {
      await this.settle(rel, true);
      await rm(this.host(rel), { recursive: true, force: true });
    } else {
      await unlink(this.host(rel)).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err;
      });
    }
    this.written.delete(rel);
    this.paths.removed(rel, isDir || kind.isSymbolicLink());
  }

  private async directory(h: TarHeader, rel: string): Promise<void> {
    const kept = await this.replace(rel, true);
    if (!kept) {
      await mkdir(this.host(rel), { mode: 0o700 });
      this.paths.created(rel);
    } else {
      await this.clearXattrs(rel);
    }
    await this.owner(rel, h, false);
    await this.xattrs(rel, h, false);
    this.dirMeta.set(rel, { mode: h.mode, atime: h.atime ?? h.mtime, mtime: h.mtime });
    this.markWritten(rel);
  }

  private async file(h: TarHeader, rel: string, reader: TarReader): Promise<void> {
    await this.replace(rel, false);
    this.markWritten(rel);
    if (h.size > SMALL_FILE) {
      await this.writeFile(rel, h, reader.body());
      return;
    }
    const body = await reader.readBody();
    while (this.inflight.size >= this.concurrency) {
      await Promise.race(this.inflight.values());
      this.check();
    }
    const job = this.writeFile(rel, h, body).then(
      () => {
        this.inflight.delete(rel);
      },
      (err: unknown) => {
        this.inflight.delete(rel);
        this.failure ??= err;
      },
    );
    this.inflight.set(rel, job);
  }

  private async writeFile(rel: string, h: TarHeader, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    const host = this.host(rel);
    const fh: FileHandle = await open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let sha256: string;
    let size = 0;
    try {
      if (Buffer.isBuffer(body)) {
        const digest = webcrypto.subtle.digest('SHA-256', body);
        if (body.length > 0) await fh.write(body, 0, body.length, 0);
        size = body.length;
        sha256 = Buffer.from(await digest).toString('hex');
      } else {
        const hash = createHash('sha256');
        for await (const chunk of body) {
          hash.update(chunk);
          await fh.write(chunk, 0, chunk.length, size);
          size += chunk.length;
        }
        sha256 = hash.digest('hex');
      }
      if (!this.rootless) await fh.chown(this.hostUid(h.uid), this.hostGid(h.gid));
      await fh.chmod(h.mode & 0o7777);
      await fh.utimes(seconds(h.atime ?? h.mtime), seconds(h.mtime));
      const st = await fh.stat({ bigint: true });
      await fh.close();
      const hasXattrs = (await this.xattrs(rel, h, false)) || (this.rootless && (await this.owner(rel, h, false)));
      if (hasXattrs) await lutimes(host, seconds(h.atime ?? h.mtime), seconds(h.mtime));
      if (!hasXattrs) this.written.set(rel, { sha256, ino: st.ino, size: st.size, ctimeNs: st.ctimeNs });
      else this.written.delete(rel);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  private async hardlink(h: TarHeader, rel: string): Promise<void> {
    const targetComps = cleanEntryName(h.linkname);
    if (targetComps.length === 0) throw new OcikitError('UNSAFE_ENTRY', `hardlink ${JSON.stringify(h.name)} points at the root`);
    const targetParent = await this.paths.resolveExisting(targetComps.slice(0, -1));
    const target = targetParent === undefined ? undefined : targetParent === '' ? targetComps.at(-1)! : `${targetParent}/${targetComps.at(-1)!}`;
    if (target !== undefined) await this.settle(target);
    const st = target === undefined ? undefined : await lstat(this.host(target)).catch(() => undefined);
    if (st === undefined) {
      throw new OcikitError('UNSAFE_ENTRY', `hardlink ${JSON.stringify(h.name)}: target ${JSON.stringify(h.linkname)} does not exist in the rootfs`);
    }
    if (st.isDirectory()) throw new OcikitError('UNSAFE_ENTRY', `hardlink ${JSON.stringify(h.name)}: target ${JSON.stringify(h.linkname)} is a directory`);
    if (target === rel) return; // a link to itself: already there
    await this.replace(rel, false);
    await link(this.host(target!), this.host(rel));
    const known = this.written.get(target!);
    if (known !== undefined) this.written.set(rel, known);
    this.markWritten(rel);
  }

  private async special(h: TarHeader, rel: string): Promise<void> {
    await this.replace(rel, false);
    const host = this.host(rel);
    if (h.type !== 'fifo' && this.rootless) {
      // umoci's rule: no device nodes without privileges; an empty mode-0 file stands in.
      const fh = await open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0);
      await fh.close();
    } else {
      const kind = h.type === 'fifo' ? ['p'] : [h.type === 'char' ? 'c' : 'b', String(h.devmajor), String(h.devminor)];
      try {
        await run('mknod', ['-m', '0600', '--', host, ...kind]);
      } catch (err) {
        throw new OcikitError('IO', `create ${h.type} node ${JSON.stringify(h.name)}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
      }
    }
    await this.owner(rel, h, false);
    await chmod(host, h.mode & 0o7777);
    await this.xattrs(rel, h, false);
    await lutimes(host, seconds(h.atime ?? h.mtime), seconds(h.mtime));
    this.markWritten(rel);
  }

  /** Ownership: lchown as root; in rootless mode a non-root owner is recorded in user.rootlesscontainers. Returns true when an xattr was set. */
  private async owner(rel: string, h: TarHeader, isLink: boolean): Promise<boolean> {
    if (!this.rootless) {
      await lchown(this.host(rel), this.hostUid(h.uid), this.hostGid(h.gid));
      return false;
    }
    const value = encodeRootlessOwner(h.uid, h.gid);
    if (value === undefined || isLink) return false;
    await this.setXattr(rel, ROOTLESS_XATTR, value);
    return true;
  }

  private async clearXattrs(rel: string): Promise<void> {
    let names: string[];
    try {
      names = await xattr.listAttributes(this.host(rel));
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'security.selinux' || name === 'system.nfs4_acl') continue;
      if (name === this.opts.overlayWhiteouts?.opaqueXattr) continue; // set by an opaque whiteout of this layer
      await xattr.removeAttribute(this.host(rel), name).catch(() => undefined);
    }
  }

  /** Restores the entry's xattrs. Returns true when at least one was set. */
  private async xattrs(rel: string, h: TarHeader, isLink: boolean): Promise<boolean> {
    let any = false;
    for (const [name, value] of h.xattrs) {
      if (forbiddenXattr(name) || value.length === 0) continue;
      // In overlay form, user.overlay.* would steer an unprivileged overlay mount.
      if (this.opts.overlayWhiteouts !== undefined && name.startsWith('user.overlay.')) continue;
      if (this.rootless && name === ROOTLESS_XATTR) continue;
      // Linux allows user.* xattrs only on regular files and directories.
      if (isLink && name.startsWith('user.')) continue;
      if (await this.setXattr(rel, name, value)) any = true;
    }
    return any;
  }

  private async setXattr(rel: string, name: string, value: Buffer): Promise<boolean> {
    try {
      await xattr.setAttribute(this.host(rel), name, value);
      return true;
    } catch (err) {
      const code = errnoCode(err) ?? String((err as Error).message);
      if (/EPERM|Operation not permitted/.test(code) && this.rootless) return false;
      if (/ENOTSUP|EOPNOTSUPP|not supported/i.test(code)) {
        if (!this.warnedXattr) this.opts.log?.warn(`xattr ${name} not supported by the filesystem; xattrs are not restored`);
        this.warnedXattr = true;
        return false;
      }
      throw new OcikitError('IO', `set xattr ${name} on ${JSON.stringify(rel)}: ${(err as Error).message}`);
    }
  }

  private async whiteout(h: TarHeader, comps: string[]): Promise<void> {
    const base = comps[comps.length - 1]!;
    if (this.opts.overlayWhiteouts !== undefined) return this.overlayWhiteout(h, comps, this.opts.overlayWhiteouts.opaqueXattr);
    const parent = await this.paths.resolveExisting(comps.slice(0, -1));
    if (base === OPAQUE) {
      if (parent !== undefined) await this.opaque(parent);
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // other AUFS metadata: not content
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') {
      throw new OcikitError('UNSAFE_ENTRY', `invalid whiteout ${JSON.stringify(h.name)}: it names no file`);
    }
    if (parent === undefined) return;
    const rel = parent === '' ? name : `${parent}/${name}`;
    if (this.layerPaths.has(rel)) return;
    const st = await lstat(this.host(rel)).catch(() => undefined);
    if (st === undefined) return;
    await this.touchDir(parent);
    await this.removeLower(rel, st);
  }

  /**
   * Overlay form: the whiteout is recorded, not applied. Missing parents are
   * created, as for any entry; a whiteout of something this layer wrote is
   * ignored (it hides lower layers only), and a later entry of the same name
   * replaces it.
   */
  private async overlayWhiteout(h: TarHeader, comps: string[], opaqueXattr: string): Promise<void> {
    const base = comps[comps.length - 1]!;
    if (base !== OPAQUE && base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (base !== OPAQUE && (name === '' || name === '.' || name === '..')) {
      throw new OcikitError('UNSAFE_ENTRY', `invalid whiteout ${JSON.stringify(h.name)}: it names no file`);
    }
    const parent = await this.paths.parentFor(comps.slice(0, -1));
    if (base === OPAQUE) return this.markOpaque(parent, opaqueXattr);
    const rel = parent === '' ? name : `${parent}/${name}`;
    if (this.layerPaths.has(rel)) return;
    if (this.layerAncestors.has(rel)) {
      // This layer wrote below NAME: hide only the lower layers' content of it.
      await this.markOpaque(rel, opaqueXattr);
      return;
    }
    await this.replace(rel, false);
    await this.makeWhiteout(this.host(rel));
    this.markWritten(rel);
  }

  private async markOpaque(rel: string, opaqueXattr: string): Promise<void> {
    try {
      await xattr.setAttribute(this.host(rel), opaqueXattr, Buffer.from('y'));
    } catch (err) {
      throw new OcikitError('IO', `mark ${JSON.stringify(rel === '' ? '/' : rel)} opaque (${opaqueXattr}): ${(err as Error).message}`);
    }
  }

  private async makeWhiteout(host: string): Promise<void> {
    if (this.whiteoutTemplate !== undefined) {
      // A later entry may have replaced the first whiteout: link only to a 0/0 device.
      const st = await lstat(this.whiteoutTemplate).catch(() => undefined);
      if (st?.isCharacterDevice() === true && st.rdev === 0) {
        await link(this.whiteoutTemplate, host);
        return;
      }
      this.whiteoutTemplate = undefined;
    }
    try {
      await run('mknod', ['-m', '0000', '--', host, 'c', '0', '0']);
    } catch (err) {
      throw new OcikitError('IO', `create overlay whiteout ${JSON.stringify(host)}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
    }
    this.whiteoutTemplate = host;
  }

  /** Removes `rel` except what this layer wrote under it. */
  private async removeLower(rel: string, st: FileKind): Promise<void> {
    if (st.isDirectory() && this.layerAncestors.has(rel)) await this.opaque(rel);
    else await this.remove(rel, st);
  }

  /** Empties directory `dir` of lower layers' content (what this layer wrote stays). */
  private async opaque(dir: string): Promise<void> {
    const st = await lstat(this.host(dir)).catch(() => undefined);
    if (!st?.isDirectory()) return;
    await this.touchDir(dir);
    for (const child of await readdir(this.host(dir), { withFileTypes: true })) {
      const rel = dir === '' ? child.name : `${dir}/${child.name}`;
      if (this.layerPaths.has(rel) || this.layerAncestors.has(rel)) {
        if (child.isDirectory()) await this.opaque(rel);
        continue;
      }
      await this.remove(rel, child);
    }
  }

  /** Puts back the times of directories whose content changed, then applies this layer's directory entries, deepest first. */
  private async finishDirs(): Promise<void> {
    for (const [rel, [atime, mtime]] of this.savedTimes) {
      if (this.dirMeta.has(rel)) continue;
      await lutimes(this.host(rel), seconds(atime), seconds(mtime)).catch(() => undefined);
    }
    const dirs = [...this.dirMeta.entries()].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, meta] of dirs) {
      const host = this.host(rel);
      const st = await lstat(host).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      const mode = meta.mode & 0o7777;
      // Rootless: an unprivileged user could not write into (or walk) a
      // directory without owner rwx, so it keeps them until finalizeModes().
      if (this.rootless && (mode & 0o700) !== 0o700) {
        this.deferredModes.set(rel, mode);
        await chmod(host, mode | 0o700);
      } else {
        this.deferredModes.delete(rel);
        await chmod(host, mode);
      }
      await lutimes(host, seconds(meta.atime), seconds(meta.mtime));
    }
  }

  /**
   * Directory modes held back in rootless mode (path → the image's mode): the
   * mtree records these, and finalizeModes() applies them after the walk.
   */
  readonly deferredModes = new Map<string, number>();

  /** Applies the deferred directory modes, deepest first. */
  async finalizeModes(): Promise<void> {
    for (const [rel, mode] of [...this.deferredModes].sort((a, b) => depth(b[0]) - depth(a[0]))) {
      const st = await lstat(this.host(rel)).catch(() => undefined);
      if (st?.isDirectory()) await chmod(this.host(rel), mode);
    }
    this.deferredModes.clear();
  }
}
