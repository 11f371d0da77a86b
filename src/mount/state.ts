/**
 * The state of one ocikit mount: DIR/../.BASENAME.ocikit/state.json (beside
 * the upper and work directories), which `umount` reads to recognise the mount
 * and find what to remove, and a record in the layout's cache
 * (.ocikit/mounts/ID.json) that keeps gc from sweeping the layers in use.
 * The record names the state file; it is live while that file holds the same
 * id, so a state removed by hand frees the layers at the next gc.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import { writeFileAtomic } from '../util/fsync.js';
import type { OverlayDriver } from './overlay.js';
import type { CachePaths, MountPaths } from './paths.js';

export const STATE_KIND = 'ocikit-mount';
export const STATE_VERSION = 1;

export interface MountState {
  kind: typeof STATE_KIND;
  version: number;
  /** Random; ties the state to its cache record. */
  id: string;
  /** The mount point, absolute, symlinks resolved. */
  mountpoint: string;
  /** The layout, absolute. */
  layout: string;
  /** The image's manifest digest. */
  manifest: string;
  /** Cache keys, bottom layer first. */
  layers: string[];
  driver: OverlayDriver;
  readOnly: boolean;
  /** DIR did not exist and mount created it: umount removes it if empty. */
  createdMountpoint: boolean;
  /** The cache record (.ocikit/mounts/ID.json). */
  record: string;
}

export function newMountId(): string {
  return randomBytes(8).toString('hex');
}

export async function writeState(paths: MountPaths, state: MountState): Promise<void> {
  await writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, paths.state, 0o600);
}

/** The state of the ocikit mount at `paths.dir`; USAGE when there is none. */
export async function readState(paths: MountPaths): Promise<MountState> {
  let text: string;
  try {
    text = await readFile(paths.stateFile, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') {
      throw new OcikitError('USAGE', `${paths.dir} is not an ocikit mount (no ${paths.stateFile})`);
    }
    throw err;
  }
  let state: Partial<MountState>;
  try {
    state = JSON.parse(text) as Partial<MountState>;
  } catch {
    throw new OcikitError('VALIDATION_FAILED', `${paths.stateFile} is not valid JSON`);
  }
  if (state.kind !== STATE_KIND || state.version !== STATE_VERSION || state.mountpoint !== paths.dir || typeof state.id !== 'string') {
    throw new OcikitError('USAGE', `${paths.dir} is not an ocikit mount (${paths.stateFile} does not describe it)`);
  }
  return state as MountState;
}

/** Writes the cache record of a mount (under the layout lock, before mounting). */
export async function writeRecord(cache: CachePaths, state: MountState, paths: MountPaths): Promise<void> {
  await mkdir(cache.mounts, { recursive: true, mode: 0o700 });
  const record = { id: state.id, state: paths.stateFile, mountpoint: state.mountpoint, layers: state.layers };
  await writeFileAtomic(state.record, `${JSON.stringify(record)}\n`, cache.mounts, 0o644);
}

export function recordPath(cache: CachePaths, id: string): string {
  return join(cache.mounts, `${id}.json`);
}

export async function removeRecord(state: MountState): Promise<void> {
  await unlink(state.record).catch(() => undefined);
}
