/**
 * `unpack` and `raw unpack`: an image to a runtime bundle (rootfs/,
 * config.json, umoci.json and the mtree manifest) or to a bare rootfs.
 *
 * Only the layout is read (under the shared content lock, so a concurrent gc
 * waits); only the bundle is written. On failure everything this call created
 * is removed again, so a retry starts clean.
 */
import { chmod, lstat, mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import type { Layout } from '../store/layout.js';
import { readTagged } from '../image/add-layer.js';
import type { DescriptorPath } from '../image/resolve.js';
import { applyLayers, checkUnpackable, type LayerProgress } from '../layer/apply.js';
import { RootfsExtractor } from '../layer/extract.js';
import type { MapOptions } from '../runtime/id-map.js';
import { runtimeConfig } from '../runtime/convert.js';
import { encodeRuntimeConfig } from '../runtime/encode.js';
import { writeBundleMeta } from './meta.js';
import { writeBundleMtree } from './mtree-file.js';
import type { Logger } from '../util/log.js';
import { pathExists } from '../util/path-exists.js';
import { forceRemove } from '../util/force-remove.js';

export interface UnpackOptions {
  mapOptions: MapOptions;
  keepDirlinks?: boolean;
  log?: Logger;
  onProgress?: (p: LayerProgress) => void;
}

export interface ResolvedImage {
  path: DescriptorPath;
  manifest: Manifest;
  config: ImageConfig;
}

/** The manifest and config a tag names. */
export function resolveImage(layout: Layout, tag: string): Promise<ResolvedImage> {
  return readTagged(layout, tag);
}


/** Extracts the image's layers into `rootfs` (which must not exist), returning the extractor's record. */
export async function extractInto(layout: Layout, image: ResolvedImage, rootfs: string, opts: UnpackOptions, existing = false): Promise<RootfsExtractor> {
  const extractor = new RootfsExtractor(rootfs, { mapOptions: opts.mapOptions, keepDirlinks: opts.keepDirlinks, log: opts.log });
  await extractor.prepareRoot(existing);
  await applyLayers(layout, image.manifest, image.config, extractor, opts.onProgress);
  return extractor;
}

/** `unpack`: creates BUNDLE (0700) with rootfs/, config.json, umoci.json and the mtree. */
export async function unpackBundle(layout: Layout, tag: string, bundle: string, opts: UnpackOptions): Promise<ResolvedImage> {
  return layout.withLock('content', 'shared', async () => {
    const image = await resolveImage(layout, tag);
    checkUnpackable(image.manifest, image.config);
    if (image.config.os !== undefined && image.config.os !== 'linux') {
      throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `image os is ${JSON.stringify(image.config.os)}: only linux images can be unpacked into a runtime bundle`);
    }
    const st = await lstat(bundle).catch(() => undefined);
    if (st !== undefined && !st.isDirectory()) throw new OcikitError('BUNDLE_EXISTS', `bundle ${bundle} exists and is not a directory`);
    const rootfs = join(bundle, 'rootfs');
    const configPath = join(bundle, 'config.json');
    for (const p of [rootfs, configPath]) {
      if (await pathExists(p)) throw new OcikitError('BUNDLE_EXISTS', `bundle ${bundle} already holds ${p.slice(bundle.length + 1)}: unpack into a new directory`);
    }
    const madeBundle = st === undefined;
    await mkdir(bundle, { recursive: true });
    await chmod(bundle, 0o700);
    const created: string[] = [];
    try {
      created.push(rootfs);
      const extractor = await extractInto(layout, image, rootfs, opts);
      const manifestDesc = image.path[image.path.length - 1]!;
      created.push(await writeBundleMtree(bundle, manifestDesc, extractor));
      await extractor.finalizeModes();
      const spec = await runtimeConfig(image.config, { rootfs, mapOptions: opts.mapOptions, log: opts.log });
      created.push(configPath);
      await writeFile(configPath, encodeRuntimeConfig(spec), { flag: 'wx', mode: 0o644 });
      created.push(join(bundle, 'umoci.json'));
      await writeBundleMeta(bundle, { version: '2', from: image.path as Descriptor[], mapOptions: opts.mapOptions });
      return image;
    } catch (err) {
      for (const p of created.reverse()) await forceRemove(p);
      if (madeBundle) await rmdir(bundle).catch(() => undefined);
      throw err;
    }
  });
}

/** `raw unpack`: only the root filesystem (an existing empty ROOTFS directory is accepted, as umoci does). */
export async function unpackRootfs(layout: Layout, tag: string, rootfs: string, opts: UnpackOptions): Promise<ResolvedImage> {
  return layout.withLock('content', 'shared', async () => {
    const image = await resolveImage(layout, tag);
    checkUnpackable(image.manifest, image.config);
    // umoci's rule: an existing directory is extracted into, whatever it holds.
    let existed = false;
    try {
      const st = await lstat(rootfs);
      if (!st.isDirectory()) throw new OcikitError('BUNDLE_EXISTS', `rootfs ${rootfs} exists and is not a directory`);
      existed = true;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    try {
      const extractor = await extractInto(layout, image, rootfs, opts, existed);
      await extractor.finalizeModes();
      return image;
    } catch (err) {
      if (!existed) await forceRemove(rootfs);
      throw err;
    }
  });
}
