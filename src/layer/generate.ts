/**
 * Writing tar entries for files on disk, as umoci's generator does (Go
 * archive/tar headers from lstat): uname/gname empty, mtime truncated to whole
 * seconds and clamped to SOURCE_DATE_EPOCH, no atime/ctime, directories with a
 * trailing "/", xattrs as PAX `SCHILY.xattr.*` (minus the ones never archived
 * and empty values), owners mapped back through the id maps (rootless: read
 * from `user.rootlesscontainers`), and a second path to an inode already
 * written in this layer stored as a hardlink to the first.
 */
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import * as xattr from '@napi-rs/xattr';
import { OcikitError, errnoCode } from '../errors.js';
import type { Logger } from '../util/log.js';
import { type MapOptions, toContainer } from '../runtime/id-map.js';
import { forbiddenXattr, OPAQUE, WHITEOUT_PREFIX } from './extract.js';
import { decodeRootlessOwner, ROOTLESS_XATTR } from './rootless-xattr.js';
import { emptyHeader, type TarHeader } from './tar-header.js';
import type { TarWriter } from './tar-writer.js';

export interface GenerateOptions {
  mapOptions: MapOptions;
  /** SOURCE_DATE_EPOCH in seconds: newer mtimes are clamped to it. */
  clampMtime?: number;
  log?: Logger;
  /** Modes to record instead of lstat's, by tar name ('.' for the root): a rootless tree opened up for reading. */
  modeOverride?: Map<string, number>;
}

/** One layer being written: remembers inodes for hardlinks. */
export class LayerGenerator {
  private readonly inodes = new Map<string, string>();

  constructor(
    private readonly writer: TarWriter,
    private readonly opts: GenerateOptions,
  ) {}

  /** Adds the file at `hostPath` under tar name `name` (relative, no leading "/"). */
  async addPath(hostPath: string, name: string): Promise<void> {
    // A component starting with ".wh.": at the start of the name or after a "/".
    if (name.startsWith(WHITEOUT_PREFIX) || name.includes(`/${WHITEOUT_PREFIX}`)) {
      throw new OcikitError('UNSAFE_ENTRY', `cannot archive ${JSON.stringify(name)}: names starting with ${WHITEOUT_PREFIX} are reserved for whiteouts`);
    }
    const st = await lstat(hostPath, { bigint: true });
    const h = emptyHeader();
    h.name = name;
    h.mode = this.opts.modeOverride?.get(name) ?? Number(st.mode & 0o7777n);
    let sec = Number(st.mtimeNs / 1_000_000_000n);
    if (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n) sec -= 1;
    if (this.opts.clampMtime !== undefined && sec > this.opts.clampMtime) sec = this.opts.clampMtime;
    h.mtime = { sec, nsec: 0 };
    const owner = await this.owner(hostPath, Number(st.uid), Number(st.gid));
    h.uid = owner.uid;
    h.gid = owner.gid;
    h.xattrs = await this.xattrs(hostPath);
    if (st.isDirectory()) {
      h.type = 'dir';
      // umoci names the root "." and every other directory with a trailing "/".
      h.name = name === '.' ? '.' : `${name}/`;
      await this.writer.add(h);
      return;
    }
    if (!st.isSymbolicLink() && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.inodes.get(key);
      if (first !== undefined) {
        h.type = 'hardlink';
        h.linkname = first;
        await this.writer.add(h);
        return;
      }
      this.inodes.set(key, name);
    }
    if (st.isFile()) {
      h.type = 'file';
      h.size = Number(st.size);
      await this.writer.add(h, createReadStream(hostPath));
    } else if (st.isSymbolicLink()) {
      h.type = 'symlink';
      h.linkname = await readlink(hostPath);
      await this.writer.add(h);
    } else if (st.isFIFO()) {
      h.type = 'fifo';
      await this.writer.add(h);
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      h.type = st.isCharacterDevice() ? 'char' : 'block';
      const rdev = st.rdev;
      h.devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      h.devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      await this.writer.add(h);
    } else {
      this.opts.log?.warn(`skipping ${JSON.stringify(name)}: sockets cannot be stored in a layer`);
    }
  }

  /** A whiteout hiding `name` of lower layers. */
  async addWhiteout(name: string): Promise<void> {
    const slash = name.lastIndexOf('/');
    const wh = slash < 0 ? `${WHITEOUT_PREFIX}${name}` : `${name.slice(0, slash + 1)}${WHITEOUT_PREFIX}${name.slice(slash + 1)}`;
    await this.writer.add(this.marker(wh));
  }

  /** An opaque whiteout: directory `dir` ("" for the root) hides what lower layers had in it. */
  async addOpaque(dir: string): Promise<void> {
    await this.writer.add(this.marker(dir === '' ? OPAQUE : `${dir}/${OPAQUE}`));
  }

  private marker(name: string): TarHeader {
    const h = emptyHeader();
    h.name = name;
    h.type = 'file';
    h.mode = 0;
    h.mtime = { sec: 0, nsec: 0 };
    return h;
  }

  private async owner(hostPath: string, uid: number, gid: number): Promise<{ uid: number; gid: number }> {
    const m = this.opts.mapOptions;
    if (m.rootless) {
      try {
        return decodeRootlessOwner(await xattr.getAttribute(hostPath, ROOTLESS_XATTR) as Buffer);
      } catch (err) {
        if (err instanceof OcikitError) throw err;
        return { uid: 0, gid: 0 };
      }
    }
    return { uid: toContainer(uid, m.uidMappings), gid: toContainer(gid, m.gidMappings) };
  }

  private async xattrs(hostPath: string): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    let names: string[];
    try {
      names = await xattr.listAttributes(hostPath);
    } catch (err) {
      const code = errnoCode(err) ?? String((err as Error).message);
      if (/ENOTSUP|EOPNOTSUPP|not supported/i.test(code)) return out;
      throw new OcikitError('IO', `list xattrs of ${hostPath}: ${(err as Error).message}`);
    }
    for (const name of names.sort()) {
      if (forbiddenXattr(name)) continue;
      if (this.opts.mapOptions.rootless && name === ROOTLESS_XATTR) continue;
      const value = (await xattr.getAttribute(hostPath, name)) as Buffer | null | undefined;
      if (value === null || value === undefined || value.length === 0) continue;
      out.set(name, Buffer.from(value));
    }
    return out;
  }
}
