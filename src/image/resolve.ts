/**
 * Tag resolution: from the `index.json` entries named TAG down through nested
 * indexes to image manifests, as umoci does. Blobs of other types are not
 * followed.
 */
import { OcikitError } from '../errors.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { ANNOTATION_REF_NAME, type Descriptor, type Index } from '../oci/types.js';
import { readIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';
import { readIndexBlob } from './json-blob.js';

/** The descriptors from an `index.json` entry (first) down to a manifest (last). */
export type DescriptorPath = Descriptor[];

export function refName(desc: Descriptor): string | undefined {
  return desc.annotations?.[ANNOTATION_REF_NAME];
}

/** Every descriptor path from the entries named `tag` to the manifests below them. */
export async function findTag(layout: Layout, tag: string, index?: Index): Promise<DescriptorPath[]> {
  const idx = index ?? (await readIndex(layout));
  const out: DescriptorPath[] = [];
  // Indexes already walked from the current entry. Reset for each entry, as
  // umoci walks each entry on its own: two entries of one name that reach the
  // same manifest make the tag ambiguous, through an index or not.
  let seen = new Set<string>();
  const descend = async (path: DescriptorPath): Promise<void> => {
    const desc = path[path.length - 1]!;
    if (isManifestType(desc.mediaType)) {
      out.push(path);
    } else if (isIndexType(desc.mediaType)) {
      if (seen.has(desc.digest)) return; // a cycle, or a shared child already walked
      seen.add(desc.digest);
      const child = await readIndexBlob(layout, desc);
      for (const m of child.value.manifests) await descend([...path, m]);
    }
  };
  for (const entry of idx.manifests) {
    if (refName(entry) !== tag) continue;
    seen = new Set<string>();
    await descend([entry]);
  }
  return out;
}

/** The single descriptor path `tag` names; TAG_NOT_FOUND or TAG_AMBIGUOUS otherwise. */
export async function resolveTag(layout: Layout, tag: string, index?: Index): Promise<DescriptorPath> {
  const paths = await findTag(layout, tag, index);
  if (paths.length === 0) throw new OcikitError('TAG_NOT_FOUND', `tag not found: ${tag}`);
  if (paths.length > 1) throw new OcikitError('TAG_AMBIGUOUS', `tag is ambiguous: ${tag} (${paths.length} manifests)`);
  return paths[0]!;
}
