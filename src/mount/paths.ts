/**
 * Where `ocikit mount` keeps things.
 *
 * Beside the layout, in LAYOUT/.ocikit/ (umoci and skopeo ignore entries of a
 * layout they do not know; ocikit's gc sweeps it, see src/image/gc.ts):
 *
 *   layers/KEY/diff        one layer extracted alone, whiteouts in overlay form
 *   layers/KEY/complete    marker (JSON), written before the directory is
 *                          renamed into place; a KEY without a valid marker is
 *                          extracted again
 *   l/NAME -> ../layers/KEY/diff   short links: mount(8) runs in l/, so each
 *                          lower layer costs 5 bytes or so of the option page
 *   l/_0, l/_1             empty directories that pad the lower list when the
 *                          kernel needs more lower layers than the image has
 *   mounts/ID.json         one record per live mount, naming the keys it uses
 *
 * KEY is the diff_id's hex, followed by `-` and a short hash of the extraction
 * options when they are not the default (root, no ID mapping), since the
 * owners and whiteout form on disk depend on them.
 *
 * Beside the mount point DIR, in DIR/../.BASENAME.ocikit/: upper/, work/ and
 * state.json, which `umount` reads to recognise an ocikit mount.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { CACHE_DIR, CACHE_LAYERS, CACHE_LINKS, CACHE_MOUNTS } from '../image/gc.js';
import type { MapOptions } from '../runtime/id-map.js';

export interface CachePaths {
  /** LAYOUT/.ocikit */
  root: string;
  layers: string;
  links: string;
  mounts: string;
}

export function cachePaths(layoutRoot: string): CachePaths {
  const root = join(layoutRoot, CACHE_DIR);
  return { root, layers: join(root, CACHE_LAYERS), links: join(root, CACHE_LINKS), mounts: join(root, CACHE_MOUNTS) };
}

/** What changes the bytes on disk of an extracted layer, besides the layer itself. */
export interface ExtractionKind {
  mapOptions: MapOptions;
  /** The xattr that marks an opaque directory. */
  opaqueXattr: string;
}

/** The opaque xattr overlayfs reads: `trusted.` as root, `user.` (fuse-overlayfs, userxattr) otherwise. */
export function opaqueXattrFor(euid: number | undefined = process.geteuid?.()): string {
  return euid === 0 ? 'trusted.overlay.opaque' : 'user.overlay.opaque';
}

/** The cache key of a layer extracted with `kind`. */
export function layerKey(diffId: string, kind: ExtractionKind): string {
  const hex = diffId.slice(diffId.indexOf(':') + 1);
  const m = kind.mapOptions;
  if (!m.rootless && m.uidMappings.length === 0 && m.gidMappings.length === 0 && kind.opaqueXattr === 'trusted.overlay.opaque') return hex;
  const variant = createHash('sha256').update(JSON.stringify([m.rootless, m.uidMappings, m.gidMappings, kind.opaqueXattr])).digest('hex');
  return `${hex}-${variant.slice(0, 12)}`;
}

export interface MountPaths {
  /** The mount point, absolute. */
  dir: string;
  /** DIR/../.BASENAME.ocikit */
  state: string;
  upper: string;
  work: string;
  stateFile: string;
}

export function mountPaths(dir: string): MountPaths {
  const state = join(dirname(dir), `.${basename(dir)}.ocikit`);
  return { dir, state, upper: join(state, 'upper'), work: join(state, 'work'), stateFile: join(state, 'state.json') };
}
