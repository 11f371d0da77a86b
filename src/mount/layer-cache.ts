/**
 * The per-layer extraction cache beside a layout (layout in ./paths.ts).
 *
 * Each layer is extracted once, alone, by the engine's extractor with its
 * whiteouts kept in overlayfs form (src/layer/extract.ts `overlayWhiteouts`),
 * into a temporary directory in the same parent, with its marker written
 * last; the directory is then renamed to its key. Two processes extracting
 * the same layer at once both succeed: the first rename wins and the loser's
 * copy is removed. A key without a valid marker is extracted again and
 * replaced. Short links to the layers are made with symlink(2), which fails
 * atomically if the name is taken, so concurrent mounts never hand out one
 * name twice.
 *
 * Callers hold the layout's content lock shared (gc takes it exclusively
 * before it sweeps the cache).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readlink, rename, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { forceRemove } from '../util/force-remove.js';
import { OcikitError, errnoCode, wrap } from '../errors.js';
import { applyLayer } from '../layer/apply.js';
import { RootfsExtractor } from '../layer/extract.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import type { Layout } from '../store/layout.js';
import { eachLimit } from '../util/each-limit.js';
import { tempName } from '../util/fsync.js';
import type { Logger } from '../util/log.js';
import { type CachePaths, type ExtractionKind, layerKey } from './paths.js';

const MARKER = 'complete';
const MARKER_VERSION = 1;
/** Layers extracted at once (each extractor also keeps its own small-file writes in flight). */
const PARALLEL_LAYERS = 4;

export interface CacheOptions {
  kind: ExtractionKind;
  log?: Logger;
  /** Called when a layer starts extracting (it was not cached). */
  onExtract?: (index: number, layer: Descriptor) => void;
}

export interface CachedLayers {
  /** Cache keys, bottom layer first. */
  keys: string[];
  /** How many layers this call extracted. */
  extracted: number;
}

interface Marker {
  version: number;
  diffId: string;
  digest: string;
}

/** True when `dir` holds a complete extraction of `diffId`. */
async function isComplete(dir: string, diffId: string): Promise<boolean> {
  try {
    const m = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Partial<Marker>;
    if (m.version !== MARKER_VERSION || m.diffId !== diffId) return false;
    return (await lstat(join(dir, 'diff'))).isDirectory();
  } catch {
    return false;
  }
}

/** Extracts the image's layers that the cache lacks; returns every layer's key. */
export async function ensureLayers(layout: Layout, cache: CachePaths, manifest: Manifest, config: ImageConfig, opts: CacheOptions): Promise<CachedLayers> {
  const diffIds = config.rootfs.diff_ids ?? [];
  const keys = diffIds.map((d) => layerKey(d, opts.kind));
  await mkdir(cache.layers, { recursive: true, mode: 0o700 });
  const complete = await Promise.all(keys.map((key, i) => isComplete(join(cache.layers, key), diffIds[i]!)));
  const todo = keys.flatMap((_, i) => (complete[i] ? [] : [i]));
  await eachLimit(todo, PARALLEL_LAYERS, async (i) => {
    opts.onExtract?.(i, manifest.layers[i]!);
    await extractToCache(layout, cache, manifest.layers[i]!, diffIds[i]!, keys[i]!, opts);
  });
  return { keys, extracted: todo.length };
}

async function extractToCache(layout: Layout, cache: CachePaths, layer: Descriptor, diffId: string, key: string, opts: CacheOptions): Promise<void> {
  const final = join(cache.layers, key);
  const tmp = join(cache.layers, `${tempName()}-${key.slice(0, 12)}`);
  await mkdir(tmp, { mode: 0o700 });
  try {
    const extractor = new RootfsExtractor(join(tmp, 'diff'), {
      mapOptions: opts.kind.mapOptions,
      log: opts.log,
      overlayWhiteouts: { opaqueXattr: opts.kind.opaqueXattr },
    });
    await extractor.prepareRoot();
    await applyLayer(layout, layer, diffId, extractor, `layer ${layer.digest}`);
    await extractor.finalizeModes();
    const marker: Marker = { version: MARKER_VERSION, diffId, digest: layer.digest };
    await writeFile(join(tmp, MARKER), `${JSON.stringify(marker)}\n`, { mode: 0o644 });
    await install(tmp, final, diffId);
  } catch (err) {
    await forceRemove(tmp);
    throw err instanceof OcikitError ? err : wrap(`cache layer ${layer.digest}`, err);
  }
}

/** Renames `tmp` to `final`; another process's complete copy wins, an incomplete one is replaced. */
async function install(tmp: string, final: string, diffId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(tmp, final);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 2) throw err;
    }
    if (await isComplete(final, diffId)) {
      await forceRemove(tmp);
      return;
    }
    const trash = join(dirname(final), tempName());
    await rename(final, trash).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
    await forceRemove(trash);
  }
}

/**
 * The short link names (in cache.links) of `keys`, made as needed: a prefix
 * of the key's hash, 4 hex digits, longer only when another key has it.
 */
export async function linkLayers(cache: CachePaths, keys: string[]): Promise<string[]> {
  await mkdir(cache.links, { recursive: true, mode: 0o700 });
  return Promise.all(keys.map((key) => linkLayer(cache, key)));
}

async function linkLayer(cache: CachePaths, key: string): Promise<string> {
  const target = `../layers/${key}/diff`;
  const hash = createHash('sha256').update(key).digest('hex');
  for (let n = 4; n <= hash.length; n++) {
    const name = hash.slice(0, n);
    try {
      await symlink(target, join(cache.links, name));
      return name;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw wrap(`link layer ${key}`, err);
    }
    if ((await readlink(join(cache.links, name)).catch(() => undefined)) === target) return name;
  }
  throw new OcikitError('INTERNAL', `[internal error] no free short name for layer ${key}`);
}

/** Names of `count` distinct empty directories in cache.links, to pad a lower list. */
export async function emptyLowers(cache: CachePaths, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `_${i}`;
    await mkdir(join(cache.links, name), { mode: 0o755 }).catch((err: unknown) => {
      if (errnoCode(err) !== 'EEXIST') throw err;
    });
    out.push(name);
  }
  return out;
}
