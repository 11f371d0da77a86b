/** `ls --long`: one summary per tagged `index.json` entry. */
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { readIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';
import { readConfig, readIndexBlob, readManifest } from './json-blob.js';
import { refName } from './resolve.js';

export interface ImageSummary {
  tag: string;
  digest: string;
  mediaType: string;
  /** manifest + config + layers, in bytes (for an index: the sum over its manifests) */
  size: number;
  created?: string;
  /** os/arch[/variant], comma-separated for an index */
  platform?: string;
  /** set when the entry could not be read */
  error?: string;
}

export async function listImages(layout: Layout): Promise<ImageSummary[]> {
  const index = await readIndex(layout);
  const out: ImageSummary[] = [];
  for (const entry of index.manifests) {
    const tag = refName(entry);
    if (tag === undefined) continue;
    const s: ImageSummary = { tag, digest: entry.digest, mediaType: entry.mediaType, size: entry.size };
    try {
      if (isManifestType(entry.mediaType)) {
        const m = (await readManifest(layout, entry, { schema: false })).value;
        const c = (await readConfig(layout, m.config, { schema: false })).value;
        s.size += m.config.size + m.layers.reduce((n, l) => n + l.size, 0);
        if (c.created !== undefined) s.created = c.created;
        s.platform = [c.os, c.architecture, c.variant].filter(Boolean).join('/');
      } else if (isIndexType(entry.mediaType)) {
        const i = (await readIndexBlob(layout, entry, { schema: false })).value;
        s.size += i.manifests.reduce((n, d) => n + d.size, 0);
        s.platform = i.manifests.map((d) => (d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : '?')).join(',');
      }
    } catch (err) {
      s.error = err instanceof Error ? err.message : String(err);
    }
    out.push(s);
  }
  return out;
}
