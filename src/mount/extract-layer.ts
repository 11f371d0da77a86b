/**
 * One layer, alone, into an empty directory: the blob is read through the
 * verifying reader, decompressed as its media type says, hashed against its
 * diff_id and applied by the engine's extractor with whiteouts kept in
 * overlayfs form (src/layer/extract.ts `overlayWhiteouts`), so the directory
 * can serve as an overlay lower layer.
 */
import { pipeline } from 'node:stream';
import { OcikitError } from '../errors.js';
import { maxLayerSize } from '../layer/apply.js';
import { decompressor } from '../layer/compression.js';
import { RootfsExtractor } from '../layer/extract.js';
import { HashCounter } from '../layer/hash-counter.js';
import { TarReader } from '../layer/tar-reader.js';
import { layerCompression } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { openBlob } from '../store/blobs.js';
import type { Layout } from '../store/layout.js';
import type { Logger } from '../util/log.js';
import type { ExtractionKind } from './paths.js';

export interface LayerExtractOptions {
  kind: ExtractionKind;
  log?: Logger;
  /** Compressed bytes read so far of this layer. */
  onBytes?: (bytes: number) => void;
}

/**
 * Extracts `layer` into `root`, which must not exist. Throws DIGEST_MISMATCH
 * when the uncompressed layer does not hash to `diffId`; the caller removes
 * `root` on failure.
 */
export async function extractLayer(layout: Layout, layer: Descriptor, diffId: string, root: string, opts: LayerExtractOptions): Promise<void> {
  const compression = layerCompression(layer.mediaType);
  if (compression === undefined) throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `layer ${layer.digest} has unsupported media type ${layer.mediaType}`);
  const extractor = new RootfsExtractor(root, {
    mapOptions: opts.kind.mapOptions,
    log: opts.log,
    overlayWhiteouts: { opaqueXattr: opts.kind.opaqueXattr },
  });
  await extractor.prepareRoot();
  const blob = openBlob(layout, layer);
  if (opts.onBytes !== undefined) {
    let bytes = 0;
    const onBytes = opts.onBytes;
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
    throw layerError(layer.digest, streamError ?? err);
  }
  if (streamError !== undefined) throw layerError(layer.digest, streamError);
  await extractor.finalizeModes();
  const got = hasher.digest();
  if (got !== diffId) {
    throw new OcikitError('DIGEST_MISMATCH', `layer ${layer.digest}: diff_id mismatch: config says ${diffId}, uncompressed layer is ${got}`);
  }
}

function layerError(digest: string, err: unknown): OcikitError {
  if (err instanceof OcikitError) return new OcikitError(err.code, `layer ${digest}: ${err.message}`, { cause: err });
  return new OcikitError('IO', `layer ${digest}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
