/** `stat`: what a tag's manifest, config and history say (formatting in stat-format.ts). */
import { OcikitError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import type { Layout } from '../store/layout.js';
import { readConfig, readManifest } from './json-blob.js';
import { resolveTag } from './resolve.js';
import type { StatInput } from './stat-format.js';

export async function statImage(layout: Layout, tag: string): Promise<StatInput> {
  const path = await resolveTag(layout, tag);
  const manifestDescriptor = path[path.length - 1]!;
  if (manifestDescriptor.mediaType !== MediaType.manifest) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `stat: ${tag} is a ${manifestDescriptor.mediaType}, not an OCI image manifest`);
  }
  const m = await readManifest(layout, manifestDescriptor);
  const c = await readConfig(layout, m.value.config);
  return {
    manifestDescriptor,
    manifestBytes: m.bytes,
    manifest: m.value,
    configDescriptor: m.value.config,
    configBytes: c.bytes,
    config: c.value,
  };
}
