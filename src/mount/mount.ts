/**
 * `mount` and `umount`: an image as an overlayfs mount of its cached layers.
 *
 * mountImage resolves the image, extracts the layers the cache lacks, links
 * them, creates a fresh upper and work directory beside DIR with a state file
 * and mounts; all of it holding the layout's content lock shared (so gc, which
 * takes it exclusively, never sweeps a layer being set up), released once the
 * mount is live and recorded. On failure, what it created is removed again.
 * umountImage refuses a directory without ocikit's state, unmounts, and
 * removes the upper and work directories unless asked to keep them.
 */
import { chmod, lchown, lstat, mkdir, realpath, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import { resolveForPlatform } from '../bundle/extract.js';
import { checkUnpackable } from '../layer/apply.js';
import type { HostPlatform } from '../oci/platform.js';
import type { MapOptions } from '../runtime/id-map.js';
import type { Layout } from '../store/layout.js';
import type { Logger } from '../util/log.js';
import { emptyLowers, ensureLayers, linkLayers } from './layer-cache.js';
import { mountAt } from './mountinfo.js';
import { checkOptionPath, mountOverlay, unmountOverlay, type OverlayDriver } from './overlay.js';
import { cachePaths, mountPaths, opaqueXattrFor, type MountPaths } from './paths.js';
import { newMountId, readState, recordPath, removeRecord, STATE_KIND, STATE_VERSION, writeRecord, writeState, type MountState } from './state.js';
import { pathExists } from '../util/path-exists.js';

export interface MountOptions {
  mapOptions: MapOptions;
  /** No upper directory: the mount cannot be written. */
  readOnly?: boolean;
  /** Which image of a multi-platform tag (default: the host's). */
  platform?: HostPlatform;
  log?: Logger;
  /** Called when a layer is not cached and is being extracted. */
  onExtract?: (index: number, layers: number) => void;
}

export interface MountResult {
  mountpoint: string;
  /** Absent for a read-only mount. */
  upper?: string;
  manifest: string;
  layers: number;
  /** Layers this call extracted (the others came from the cache). */
  extracted: number;
  driver: OverlayDriver;
}

/** The mount point, absolute with symlinks resolved; whether it had to be created. Refuses a non-directory. */
async function mountPoint(dir: string): Promise<{ path: string; exists: boolean }> {
  const abs = resolve(dir);
  try {
    const st = await lstat(abs);
    if (!st.isDirectory()) throw new OcikitError('USAGE', `mount point ${dir} is not a directory`);
    return { path: await realpath(abs), exists: true };
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  let parent: string;
  try {
    parent = await realpath(dirname(abs));
  } catch {
    throw new OcikitError('USAGE', `mount point ${dir}: parent directory does not exist`);
  }
  return { path: join(parent, basename(abs)), exists: false };
}

/** Mounts the image `tag` of `layout` on `dir` (created if missing). */
export async function mountImage(layout: Layout, tag: string, dir: string, opts: MountOptions): Promise<MountResult> {
  const mp = await mountPoint(dir);
  const paths = mountPaths(mp.path);
  const cache = cachePaths(layout.root);
  // The lower layers are named relative to the cache; only the upper and work paths go into the options whole.
  checkOptionPath(paths.state, 'mount point');
  if (await pathExists(paths.state)) {
    throw new OcikitError('USAGE', `${dir} already has ocikit mount state in ${paths.state}`, {
      hint: (await pathExists(paths.stateFile)) ? `unmount it first: ocikit umount ${dir}` : 'it holds an upper directory kept by umount --keep-upper: move or remove it first',
    });
  }
  const kind = { mapOptions: opts.mapOptions, opaqueXattr: opaqueXattrFor() };
  return layout.withLock('content', 'shared', async () => {
    const image = await resolveForPlatform(layout, tag, opts.platform);
    checkUnpackable(image.manifest, image.config);
    const manifest = image.path[image.path.length - 1]!.digest;
    const n = image.manifest.layers.length;
    const cached = await ensureLayers(layout, cache, image.manifest, image.config, {
      kind,
      log: opts.log,
      onExtract: (i) => opts.onExtract?.(i, n),
    });
    const names = (await linkLayers(cache, cached.keys)).reverse();
    // The kernel needs one lower with an upper directory, two without.
    const need = opts.readOnly ? 2 : 1;
    const lowers = names.length >= need ? names : [...names, ...(await emptyLowers(cache, need - names.length))];
    const id = newMountId();
    const state: MountState = {
      kind: STATE_KIND,
      version: STATE_VERSION,
      id,
      mountpoint: mp.path,
      layout: layout.root,
      manifest,
      layers: cached.keys,
      driver: 'overlay',
      readOnly: opts.readOnly === true,
      createdMountpoint: !mp.exists,
      record: recordPath(cache, id),
    };
    await mkdir(paths.state, { mode: 0o700 }).catch((err: unknown) => {
      if (errnoCode(err) === 'EEXIST') throw new OcikitError('USAGE', `${dir} already has ocikit mount state in ${paths.state} (a concurrent mount?)`);
      throw err;
    });
    try {
      if (!opts.readOnly) {
        await mkdir(paths.upper, { mode: 0o755 });
        await mkdir(paths.work, { mode: 0o700 });
        // The merged root takes the upper root's owner and mode: give it the image's.
        const top = cached.keys.at(-1);
        if (top !== undefined) await copyRootMeta(join(cache.layers, top, 'diff'), paths.upper);
      }
      if (!mp.exists) await mkdir(mp.path, { mode: 0o755 });
      await writeState(paths, state);
      await writeRecord(cache, state, paths);
      const spec = opts.readOnly ? { cwd: cache.links, lowers, target: mp.path } : { cwd: cache.links, lowers, upper: paths.upper, work: paths.work, target: mp.path };
      state.driver = await mountOverlay(spec);
      if (state.driver !== 'overlay') await writeState(paths, state);
    } catch (err) {
      await removeRecord(state);
      await rm(paths.state, { recursive: true, force: true }).catch(() => undefined);
      if (!mp.exists) await rmdir(mp.path).catch(() => undefined);
      throw err;
    }
    const result: MountResult = { mountpoint: mp.path, manifest, layers: n, extracted: cached.extracted, driver: state.driver };
    if (!opts.readOnly) result.upper = paths.upper;
    return result;
  });
}

async function copyRootMeta(from: string, to: string): Promise<void> {
  const st = await stat(from);
  if (process.geteuid?.() === 0) await lchown(to, st.uid, st.gid);
  await chmod(to, st.mode & 0o7777);
}

export interface UmountOptions {
  /** Keep the upper and work directories (only the state file goes). */
  keepUpper?: boolean;
  log?: Logger;
}

export interface UmountResult {
  mountpoint: string;
  /** The kept upper directory, with keepUpper. */
  upper?: string;
  /** False when nothing was mounted any more (only the leftover state was removed). */
  wasMounted: boolean;
}

/** Checks that what is mounted at the mount point is the overlay the state describes. */
async function checkMounted(paths: MountPaths, state: MountState): Promise<boolean> {
  const entry = await mountAt(paths.dir);
  if (entry === undefined) return false;
  const fsOk = state.driver === 'overlay' ? entry.fsType === 'overlay' : entry.fsType.startsWith('fuse') && entry.fsType.includes('overlay');
  const upperOk = state.driver !== 'overlay' || state.readOnly || entry.superOptions.split(',').includes(`upperdir=${paths.upper}`);
  if (!fsOk || !upperOk) {
    throw new OcikitError('USAGE', `${paths.dir} is mounted (${entry.fsType}), but not by ocikit: refusing to unmount it`);
  }
  return true;
}

/** Unmounts the ocikit mount at `dir` and removes its state (and upper/work unless keepUpper). */
export async function umountImage(dir: string, opts: UmountOptions = {}): Promise<UmountResult> {
  let abs: string;
  try {
    abs = await realpath(resolve(dir));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new OcikitError('USAGE', `${dir} is not an ocikit mount (no such directory)`);
    throw err;
  }
  const paths = mountPaths(abs);
  const state = await readState(paths);
  const mounted = await checkMounted(paths, state);
  if (mounted) await unmountOverlay(abs, state.driver);
  else opts.log?.warn(`${dir} was not mounted any more: removing its leftover ocikit state`);
  await removeRecord(state);
  const result: UmountResult = { mountpoint: abs, wasMounted: mounted };
  if (opts.keepUpper && !state.readOnly) {
    await rm(paths.stateFile, { force: true });
    result.upper = paths.upper;
  } else {
    await rm(paths.state, { recursive: true, force: true });
  }
  if (state.createdMountpoint) await rmdir(abs).catch(() => undefined);
  return result;
}
