/**
 * Adding a layer to an image (repack, insert, raw add-layer): the layer's tar
 * is hashed (diff_id) and compressed while it is stored; then the config gets
 * the diff_id and a history entry, the manifest the layer descriptor, and the
 * new image is committed and tagged. With no layer (a repack that found no
 * change) only the history entry is added, marked empty_layer.
 */
import { PassThrough, pipeline, type Writable } from 'node:stream';
import { OcikitError } from '../errors.js';
import { layerCompression } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import { putBlob } from '../store/blobs.js';
import type { Layout } from '../store/layout.js';
import { compressor, layerMediaType, type Compression } from '../layer/compression.js';
import { HashCounter } from '../layer/hash-counter.js';
import { makeHistory, type HistoryOptions } from './history.js';
import { readConfig, readManifest } from './json-blob.js';
import { commitImage, MAX_EDIT_ATTEMPTS } from './mutate.js';
import { resolveTag, type DescriptorPath } from './resolve.js';
import { checkTagName, setTag } from './tags.js';

export type CompressFlag = Compression | 'auto';

export const COMPRESS_VALUES: readonly CompressFlag[] = ['auto', 'gzip', 'zstd', 'none'];

/** Checks a --compress value. */
export function parseCompress(v: string | undefined): CompressFlag {
  const c = (v ?? 'auto') as CompressFlag;
  if (!COMPRESS_VALUES.includes(c)) throw new OcikitError('USAGE', `unknown --compress value ${JSON.stringify(v)}: use one of ${COMPRESS_VALUES.join(', ')}`);
  return c;
}

/**
 * auto: the compression of the most recent compressed layer (uncompressed
 * layers are skipped), else gzip; never none (umoci's rule).
 */
export function chooseCompression(flag: CompressFlag, manifest: Manifest): Compression {
  if (flag !== 'auto') return flag;
  for (let i = manifest.layers.length - 1; i >= 0; i--) {
    const c = layerCompression(manifest.layers[i]!.mediaType);
    if (c !== undefined && c !== 'none') return c;
  }
  return 'gzip';
}

export interface StoredLayer {
  descriptor: Descriptor;
  diffId: string;
}

/**
 * Stores the tar that `produce` writes into `out` (it must end `out`), compressed.
 * The blob is stored before any index change, under the caller's content lock.
 */
export async function storeLayer(layout: Layout, compression: Compression, produce: (out: Writable) => Promise<void>): Promise<StoredLayer> {
  const input = new PassThrough({ highWaterMark: 1 << 20 });
  const counter = new HashCounter();
  let streamErr: unknown;
  const compressed = pipeline(input, counter, compressor(compression), (err) => {
    if (err) streamErr = err;
  });
  const [, put] = await Promise.all([
    produce(input).catch((err: unknown) => {
      input.destroy(err as Error);
      throw err;
    }),
    putBlob(layout, compressed),
  ]);
  if (streamErr !== undefined) throw streamErr;
  const diffId = counter.digest();
  const descriptor: Descriptor = { mediaType: layerMediaType(compression), digest: put.digest, size: put.size };
  if (counter.bytes !== put.size) descriptor.annotations = { 'ci.umo.uncompressed_blob_size': String(counter.bytes) };
  return { descriptor, diffId };
}

export interface AppendOptions {
  /** The layer to append, or undefined for a history entry alone (forced empty_layer). */
  layer?: StoredLayer;
  history: HistoryOptions | false;
  createdBy: string;
  /** The default history author: the image's author (config, repack, raw add-layer) or "" (insert). */
  authorFromImage: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The edited manifest and config: layer appended, diff_id and history added. Pure. */
export function appendLayer(manifest: Manifest, config: ImageConfig, opts: AppendOptions): { manifest: Manifest; config: ImageConfig } {
  const c: ImageConfig = structuredClone(config);
  const m: Manifest = structuredClone(manifest);
  if (opts.layer !== undefined) {
    m.layers = [...m.layers, opts.layer.descriptor];
    c.rootfs = { ...c.rootfs, diff_ids: [...(c.rootfs.diff_ids ?? []), opts.layer.diffId] };
  }
  if (opts.history !== false) {
    const entry = makeHistory(opts.history, { createdBy: opts.createdBy, author: opts.authorFromImage ? (c.author ?? '') : '', emptyLayer: opts.layer === undefined }, opts.env);
    c.history = [...(c.history ?? []), entry];
  }
  return { manifest: m, config: c };
}

/**
 * Appends to the image `fromTag` names and tags the result `tag`. When `tag`
 * is `fromTag` the move is a compare-and-swap; if another writer moved the tag
 * meanwhile the edit is redone on the new image (the layer blob is reused).
 */
export async function appendToTag(layout: Layout, fromTag: string, tag: string, opts: AppendOptions): Promise<DescriptorPath> {
  checkTagName(tag, 'new tag');
  for (let attempt = 0; attempt < MAX_EDIT_ATTEMPTS; attempt++) {
    const path = await resolveTag(layout, fromTag);
    const manifest = (await readManifest(layout, path[path.length - 1]!)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    const edited = appendLayer(manifest, config, opts);
    const fresh = await commitImage(layout, path, edited.manifest, edited.config);
    if (await setTag(layout, tag, fresh[0]!, tag === fromTag ? path[0]!.digest : undefined)) return fresh;
  }
  throw new OcikitError('LAYOUT_LOCKED', `tag ${fromTag} kept changing under concurrent writers; gave up after ${MAX_EDIT_ATTEMPTS} attempts`);
}

/** Reads the manifest and config `fromTag` names (for choosing the compression before the layer is made). */
export async function readTagged(layout: Layout, fromTag: string): Promise<{ path: DescriptorPath; manifest: Manifest; config: ImageConfig }> {
  const path = await resolveTag(layout, fromTag);
  const manifest = (await readManifest(layout, path[path.length - 1]!)).value;
  const config = (await readConfig(layout, manifest.config)).value;
  return { path, manifest, config };
}
