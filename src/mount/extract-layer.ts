/**
 * One layer, alone, into an empty directory: the blob is read through the
 * verifying reader, decompressed as its media type says, hashed against its
 * diff_id and applied by the engine's extractor with whiteouts kept in
 * overlayfs form (src/layer/extract.ts `overlayWhiteouts`), so the directory
 * can serve as an overlay lower layer.
 */
import { applyLayer } from '../layer/apply.js';
import { RootfsExtractor } from '../layer/extract.js';
import type { Descriptor } from '../oci/types.js';
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
  const extractor = new RootfsExtractor(root, {
    mapOptions: opts.kind.mapOptions,
    log: opts.log,
    overlayWhiteouts: { opaqueXattr: opts.kind.opaqueXattr },
  });
  await extractor.prepareRoot();
  await applyLayer(layout, layer, diffId, extractor, `layer ${layer.digest}`, opts.onBytes);
  await extractor.finalizeModes();
}
