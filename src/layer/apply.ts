/**
 * Unpacking an image's layers into a root filesystem: each blob is read
 * through the verifying reader (digest and size), decompressed as its media
 * type says, hashed (the diff_id must match the config's), parsed as tar and
 * applied by the extractor, in order.
 */
import { pipeline } from 'node:stream';
import { OcikitError } from '../errors.js';
import { layerCompression } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import { openBlob } from '../store/blobs.js';
import type { Layout } from '../store/layout.js';
import { decompressor } from './compression.js';
import type { RootfsExtractor } from './extract.js';
import { TarReader } from './tar-reader.js';
import { HashCounter } from './hash-counter.js';

/** Default bound on one layer's uncompressed size (a decompression bomb fails with a clear error). */
export const DEFAULT_MAX_LAYER_SIZE = 256 * 2 ** 30;

export function maxLayerSize(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['OCIKIT_MAX_LAYER_SIZE'];
  if (v === undefined || v === '') return DEFAULT_MAX_LAYER_SIZE;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new OcikitError('USAGE', `OCIKIT_MAX_LAYER_SIZE must be a positive number of bytes: ${v}`);
  return n;
}

export interface LayerProgress {
  layer: number;
  layers: number;
  /** compressed bytes read so far of this layer, and its size */
  bytes: number;
  size: number;
}

/** Checks what unpack needs of the manifest and config before anything is written. */
export function checkUnpackable(manifest: Manifest, config: ImageConfig): void {
  if (config.rootfs?.type !== 'layers') {
    throw new OcikitError('SCHEMA_INVALID', `image config rootfs.type is ${JSON.stringify(config.rootfs?.type)}, not "layers"`);
  }
  const diffIds = config.rootfs.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new OcikitError('SCHEMA_INVALID', `image config has ${diffIds.length} diff_ids for ${manifest.layers.length} layers`);
  }
  manifest.layers.forEach((layer, i) => {
    if (layerCompression(layer.mediaType) === undefined) {
      throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `layer ${i} (${layer.digest}) has unsupported media type ${layer.mediaType}`);
    }
  });
}

/** Applies every layer of the image to the extractor's rootfs. */
export async function applyLayers(
  layout: Layout,
  manifest: Manifest,
  config: ImageConfig,
  extractor: RootfsExtractor,
  onProgress?: (p: LayerProgress) => void,
): Promise<void> {
  checkUnpackable(manifest, config);
  const diffIds = config.rootfs.diff_ids ?? [];
  for (const [i, layer] of manifest.layers.entries()) {
    const onBytes = onProgress === undefined ? undefined : (bytes: number) => onProgress({ layer: i, layers: manifest.layers.length, bytes, size: layer.size });
    await applyLayer(layout, layer, diffIds[i]!, extractor, `layer ${i} (${layer.digest})`, onBytes);
  }
}

/**
 * One layer through the extractor: the blob read verified, decompressed as
 * its media type says (bounded by maxLayerSize), hashed against `diffId`.
 * Errors name the layer as `label` does.
 */
export async function applyLayer(layout: Layout, layer: Descriptor, diffId: string, extractor: RootfsExtractor, label: string, onBytes?: (bytes: number) => void): Promise<void> {
  const compression = layerCompression(layer.mediaType);
  if (compression === undefined) throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `${label}: unsupported media type ${layer.mediaType}`);
  const blob = openBlob(layout, layer);
  if (onBytes !== undefined) {
    let bytes = 0;
    blob.on('data', (c: Buffer) => onBytes((bytes += c.length)));
  }
  const hasher = new HashCounter();
  let streamError: unknown;
  const source = pipeline(blob, decompressor(compression, { maxOutput: maxLayerSize() }), hasher, (err) => {
    if (err) streamError = err;
  });
  try {
    await extractor.applyLayer(new TarReader(source as AsyncIterable<Buffer>));
  } catch (err) {
    source.destroy();
    throw layerError(label, streamError ?? err);
  }
  if (streamError !== undefined) throw layerError(label, streamError);
  const got = hasher.digest();
  if (got !== diffId) {
    throw new OcikitError('DIGEST_MISMATCH', `${label}: diff_id mismatch: config says ${diffId}, uncompressed layer is ${got}`);
  }
}

function layerError(label: string, err: unknown): OcikitError {
  if (err instanceof OcikitError) return new OcikitError(err.code, `${label}: ${err.message}`, { cause: err });
  return new OcikitError('IO', `${label}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
