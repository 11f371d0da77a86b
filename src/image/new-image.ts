import { formatRfc3339Nano, nowLocal, sourceDateEpoch } from '../oci/go-time.js';
import { MediaType } from '../oci/media-types.js';
import { hostPlatform } from '../oci/platform.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import { readIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';
import { putJson } from './json-blob.js';
import { checkTagName, setTag } from './tags.js';

export interface NewImageOptions {
  env?: NodeJS.ProcessEnv;
}

/**
 * Adds an empty image under `tag` (replacing the tag if present), as `umoci
 * new`: a config with `created` (now, or SOURCE_DATE_EPOCH), the host
 * os/architecture/variant, an empty `config` and no layers.
 */
export async function newImage(layout: Layout, tag: string, opts: NewImageOptions = {}): Promise<Descriptor> {
  checkTagName(tag);
  return layout.withLock('content', 'shared', async () => {
    // A broken index.json fails here, before any blob is written.
    await readIndex(layout);
    const created = formatRfc3339Nano(sourceDateEpoch(opts.env ?? process.env) ?? nowLocal());
    const host = hostPlatform();
    const config: ImageConfig = {
      created,
      architecture: host.architecture,
      os: host.os,
      ...(host.variant ? { variant: host.variant } : {}),
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
    };
    const configDesc = await putJson(layout, 'config', config);
    const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.manifest, config: configDesc, layers: [] };
    const desc = await putJson(layout, 'manifest', manifest);
    await setTag(layout, tag, desc);
    return desc;
  });
}
