/**
 * Mark and sweep: every blob not reachable from an `index.json` entry (tagged
 * or not) is removed, and so are temporary files left by killed writers.
 * Runs holding the layout's content lock exclusively, so no ocikit writer is
 * between putting a blob and referencing it while gc sweeps.
 *
 * It also sweeps the layer cache that `ocikit mount` keeps beside the layout
 * (`.ocikit/`, see src/mount/layer-cache.ts): extraction directories of
 * layers whose diff_id no reachable image config lists, unless a live mount
 * record still names them, their leftover temporary directories, dangling
 * short links and stale mount records.
 */
import { lstat, readdir, readFile, readlink, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { forceRemove } from '../util/force-remove.js';
import { errnoCode, wrap } from '../errors.js';
import { DockerMediaType, isManifestType, MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { listBlobs, sweepBlobs } from '../store/blobs.js';
import { readIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';
import { eachLimit } from '../util/each-limit.js';
import { TEMP_PREFIX, tempName } from '../util/fsync.js';
import { pathExists } from '../util/path-exists.js';
import { readConfig } from './json-blob.js';
import { walkReachable } from './walk.js';

/**
 * The layer cache beside a layout (written by src/mount/): CACHE_DIR/layers/KEY
 * holds one extracted layer (KEY starts with the diff_id's hex), CACHE_DIR/l
 * its short links, CACHE_DIR/mounts one JSON record per live mount
 * (`{ id, state, layers }`, live while the JSON file at `state` has that `id`).
 */
export const CACHE_DIR = '.ocikit';
export const CACHE_LAYERS = 'layers';
export const CACHE_LINKS = 'l';
export const CACHE_MOUNTS = 'mounts';
/** Length of a sha256 hex: the diff_id part of a cache key. */
const HEX_LEN = 64;

export interface GcResult {
  removedBlobs: string[];
  removedBytes: number;
  removedTemp: string[];
  /** Layer cache entries removed (their keys under .ocikit/layers); only present when the layout has a layer cache. */
  removedLayerDirs?: string[];
}

/** umoci's temporary directories are only alive for one command; older ones are leftovers. */
const UMOCI_TEMP_AGE_MS = 60 * 60 * 1000;

export async function gc(layout: Layout): Promise<GcResult> {
  return layout.withLock('content', 'exclusive', () =>
    layout.withLock('index', 'exclusive', async () => {
      const index = await readIndex(layout);
      // Image configs, met on the walk: the layer cache keeps the layers they list.
      const configs: Descriptor[] = [];
      const reachable = await walkReachable(layout, index.manifests, {
        visit: (d, parent) => {
          const isConfig = d.mediaType === MediaType.config || d.mediaType === DockerMediaType.config;
          if (isConfig && parent !== undefined && isManifestType(parent.mediaType)) configs.push(d);
        },
      });
      const result: GcResult = { removedBlobs: [], removedBytes: 0, removedTemp: [] };
      const doomed = (await listBlobs(layout)).filter((d) => !reachable.has(d));
      const swept = sweepBlobs(layout, doomed);
      result.removedBlobs = swept.removed;
      result.removedBytes = swept.bytes;
      result.removedBlobs.sort();
      result.removedTemp = await removeTemp(layout.root);
      const layerDirs = await sweepLayerCache(layout, configs);
      if (layerDirs !== undefined) result.removedLayerDirs = layerDirs;
      return result;
    }),
  );
}

async function removeTemp(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root)) {
    const path = join(root, name);
    try {
      if (name.startsWith(TEMP_PREFIX)) {
        await rm(path, { recursive: true, force: true });
        removed.push(name);
      } else if (name.startsWith('.umoci-')) {
        const st = await lstat(path);
        if (Date.now() - st.mtimeMs > UMOCI_TEMP_AGE_MS) {
          await rm(path, { recursive: true, force: true });
          removed.push(name);
        }
      }
    } catch (err) {
      throw wrap(`remove temporary ${name}`, err);
    }
  }
  return removed;
}

/** The diff_id hexes the image configs list; undefined when a config cannot be read (then nothing is swept). */
async function referencedDiffIds(layout: Layout, configs: Descriptor[]): Promise<Set<string> | undefined> {
  const out = new Set<string>();
  try {
    await eachLimit(configs, 8, async (desc) => {
      const config = (await readConfig(layout, desc)).value;
      for (const d of config.rootfs?.diff_ids ?? []) out.add(d.slice(d.indexOf(':') + 1));
    });
  } catch {
    return undefined;
  }
  return out;
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Cache keys named by live mount records; stale records are removed. */
async function mountedKeys(cache: string): Promise<Set<string>> {
  const keys = new Set<string>();
  const dir = join(cache, CACHE_MOUNTS);
  for (const name of await names(dir)) {
    const path = join(dir, name);
    let live = false;
    let layers: unknown;
    try {
      const rec = JSON.parse(await readFile(path, 'utf8')) as { id?: unknown; state?: unknown; layers?: unknown };
      layers = rec.layers;
      if (typeof rec.state === 'string') {
        const state = JSON.parse(await readFile(rec.state, 'utf8')) as { id?: unknown };
        live = state.id === rec.id;
      }
    } catch {
      live = false;
    }
    if (live && Array.isArray(layers)) for (const k of layers) keys.add(String(k));
    else await unlink(path).catch(() => undefined);
  }
  return keys;
}

/** Removes layer cache entries no reachable image and no live mount uses; returns their keys (undefined: no cache). */
async function sweepLayerCache(layout: Layout, configs: Descriptor[]): Promise<string[] | undefined> {
  const cache = join(layout.root, CACHE_DIR);
  if (!(await pathExists(cache))) return undefined;
  const layersDir = join(cache, CACHE_LAYERS);
  const entries = await names(layersDir);
  const removed: string[] = [];
  if (entries.length > 0) {
    const wanted = await referencedDiffIds(layout, configs);
    if (wanted === undefined) return removed;
    const inUse = await mountedKeys(cache);
    for (const name of entries) {
      const path = join(layersDir, name);
      try {
        if (name.startsWith(TEMP_PREFIX)) {
          await forceRemove(path);
        } else if (!wanted.has(name.slice(0, HEX_LEN)) && !inUse.has(name)) {
          // Renamed first, so a crash half-way never leaves a partial tree under the key.
          const trash = join(layersDir, tempName());
          await rename(path, trash);
          removed.push(name);
          await forceRemove(trash);
        }
      } catch (err) {
        throw wrap(`remove cached layer ${name}`, err);
      }
    }
  }
  const linksDir = join(cache, CACHE_LINKS);
  for (const name of await names(linksDir)) {
    const path = join(linksDir, name);
    try {
      await readlink(path);
    } catch {
      continue; // not a link (the empty lower directories live here too)
    }
    if ((await stat(path).catch(() => undefined)) === undefined) await unlink(path).catch(() => undefined);
  }
  return removed.sort();
}
