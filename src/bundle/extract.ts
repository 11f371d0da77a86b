/**
 * `extract`: an image's layers flattened into a plain directory (no bundle,
 * no mtree), with the engine's confinement and whiteout handling. The tree
 * is built in a temporary sibling of DIR and moved into place only when it
 * is complete; an existing non-empty DIR is replaced only with `force`, by
 * a swap of two renames, so DIR never holds half an image.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import { checkUnpackable } from '../layer/apply.js';
import { hostPlatform, type HostPlatform } from '../oci/platform.js';
import type { Index } from '../oci/types.js';
import { findTag } from '../image/resolve.js';
import { readConfig, readManifest } from '../image/json-blob.js';
import { availablePlatforms, choosePlatform, formatPlatform } from '../registry/manifests.js';
import type { Layout } from '../store/layout.js';
import { forceRemove } from '../util/force-remove.js';
import { extractInto, type ResolvedImage, type UnpackOptions } from './unpack.js';

export interface ExtractOptions extends UnpackOptions {
  /** Replace a non-empty DIR. */
  force?: boolean;
  /** Which image of a multi-platform tag (default: the host's). */
  platform?: HostPlatform;
}

/** The image `tag` names; from an index, the one for `platform` (default: the host's). */
export async function resolveForPlatform(layout: Layout, tag: string, platform?: HostPlatform): Promise<ResolvedImage> {
  const paths = await findTag(layout, tag);
  if (paths.length === 0) throw new OcikitError('TAG_NOT_FOUND', `tag not found: ${tag}`);
  let path = paths[0]!;
  if (paths.length > 1) {
    const leaves: Index = { schemaVersion: 2, manifests: paths.map((p) => p[p.length - 1]!) };
    const want = platform ?? hostPlatform();
    const chosen = choosePlatform(leaves, want, platform?.variant !== undefined);
    if (chosen === undefined) throw new OcikitError('TAG_NOT_FOUND', `${tag} has no image for ${formatPlatform(want)} (available: ${availablePlatforms(leaves)})`);
    path = paths[leaves.manifests.indexOf(chosen)]!;
  }
  const manifest = (await readManifest(layout, path[path.length - 1]!)).value;
  const config = (await readConfig(layout, manifest.config)).value;
  return { path, manifest, config };
}

type Target = 'absent' | 'empty' | 'full';

async function targetState(dir: string): Promise<Target> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) throw new OcikitError('BUNDLE_EXISTS', `${dir} exists and is not a directory`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'absent';
    throw err;
  }
  return (await readdir(dir)).length === 0 ? 'empty' : 'full';
}

export async function extractImage(layout: Layout, tag: string, dir: string, opts: ExtractOptions): Promise<ResolvedImage> {
  const state = await targetState(dir);
  if (state === 'full' && !opts.force) throw new OcikitError('BUNDLE_EXISTS', `${dir} is not empty (use --force to replace it)`);
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tag8 = randomBytes(4).toString('hex');
  const tmp = join(parent, `.ocikit-extract-${tag8}-${basename(target)}`);
  const image = await layout.withLock('content', 'shared', async () => {
    const img = await resolveForPlatform(layout, tag, opts.platform);
    checkUnpackable(img.manifest, img.config);
    try {
      const extractor = await extractInto(layout, img, tmp, opts);
      await extractor.finalizeModes();
    } catch (err) {
      await forceRemove(tmp);
      throw err;
    }
    return img;
  });
  try {
    // DIR may have appeared or filled meanwhile: look again before the swap.
    const now = await targetState(dir);
    if (now === 'full' && !opts.force) throw new OcikitError('BUNDLE_EXISTS', `${dir} is not empty (use --force to replace it)`);
    if (now === 'absent') {
      await rename(tmp, target);
    } else if (now === 'empty') {
      await rmdir(target);
      await rename(tmp, target);
    } else {
      const old = join(parent, `.ocikit-old-${tag8}-${basename(target)}`);
      await rename(target, old);
      await rename(tmp, target);
      await forceRemove(old);
    }
  } catch (err) {
    await forceRemove(tmp);
    throw err;
  }
  return image;
}
