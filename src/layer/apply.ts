/**
 * Unpacking an image's layers into a root filesystem: each blob is read
 * through the verifying reader (digest and size), decompressed as its media
 * type says, hashed (the diff_id must match the config's), parsed as tar and
 * applied by the extractor, in order.
 */
import { pipeline } from 'node:stream';
import { OcikitError } from '../errors.js';
import { layerCompression } from '../oci/media-types.js';
import type { ImageConfig, Manifest } from '../oci/types.js';
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
  const limit = maxLayerSize();
  const diffIds = config.rootfs.diff_ids ?? [];
  for (const [i, layer] of manifest.layers.entries()) {
    const blob = openBlob(layout, layer);
    let bytes = 0;
    if (onProgress !== undefined) {
      blob.on('data', (c: Buffer) => {
        bytes += c.length;
        onProgress({ layer: i, layers: manifest.layers.length, bytes, size: layer.size });
      });
    }
    const hasher = new HashCounter();
    let streamError: unknown;
    const source = pipeline(blob, decompressor(layerCompression(layer.mediaType)!, { maxOutput: limit }), hasher, (err) => {
      if (err) streamError = err;
    });
    try {
      await extractor.applyLayer(new TarReader(source as AsyncIterable<Buffer>));
    } catch (err) {
      source.destroy();
      throw layerError(i, layer.digest, streamError ?? err);
    }
    if (streamError !== undefined) throw layerError(i, layer.digest, streamError);
    const got = hasher.digest();
    if (got !== diffIds[i]) {
      throw new OcikitError('DIGEST_MISMATCH', `layer ${i} (${layer.digest}): diff_id mismatch: config says ${diffIds[i]}, uncompressed layer is ${got}`);
    }
  }
}

function layerError(i: number, digest: string, err: unknown): unknown {
  if (err instanceof OcikitError) {
    const e = new OcikitError(err.code, `layer ${i} (${digest}): ${err.message}`, { cause: err });
    return e;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new OcikitError('IO', `layer ${i} (${digest}): ${msg}`, { cause: err });
}
