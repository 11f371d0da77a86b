/**
 * Committing a changed image. A change never edits a blob: new config and
 * manifest blobs are written, then every index on the descriptor path is
 * rewritten bottom-up (keeping the annotations and platform of the descriptors
 * that point at them), and only then is the tag moved, under the index lock.
 * A failure before the last step leaves `index.json` as it was.
 */
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import type { Layout } from '../store/layout.js';
import { putJson, readIndexBlob } from './json-blob.js';
import type { DescriptorPath } from './resolve.js';
import { setTag } from './tags.js';

/**
 * The descriptor `old` pointed to, now pointing at `fresh` (annotations,
 * platform and the like kept). The media type is kept too: the rewritten blob
 * is of the same kind and keeps its embedded `mediaType`, so a Docker manifest
 * (or manifest list, or config) must stay under a Docker descriptor, or its
 * embedded type would no longer match the descriptor and it could not be read.
 */
function repoint(old: Descriptor, fresh: Descriptor): Descriptor {
  return { ...old, digest: fresh.digest, size: fresh.size };
}

/**
 * Writes `config` and `manifest` (its config descriptor updated), rewrites the
 * indexes above it on `path`, and returns the new descriptor path. Does not tag.
 */
export async function commitImage(layout: Layout, path: DescriptorPath, manifest: Manifest, config: ImageConfig): Promise<DescriptorPath> {
  const configDesc = await putJson(layout, 'config', config);
  const newManifest: Manifest = { ...manifest, config: repoint(manifest.config, configDesc) };
  let below = repoint(path[path.length - 1]!, await putJson(layout, 'manifest', newManifest));
  const out: DescriptorPath = [below];
  for (let i = path.length - 2; i >= 0; i--) {
    const parent = path[i]!;
    const oldChild = path[i + 1]!;
    const index = (await readIndexBlob(layout, parent)).value;
    const manifests = index.manifests.map((d) => (d.digest === oldChild.digest ? repoint(d, below) : d));
    below = repoint(parent, await putJson(layout, 'index', { ...index, manifests }));
    out.unshift(below);
  }
  return out;
}

/**
 * commitImage, then point `tag` at the new root. When `tag` is the tag the
 * image was read from, the move is a compare-and-swap against `path[0]`:
 * returns undefined if another writer moved the tag meanwhile (the caller
 * redoes its edit on the new state; nothing it wrote is referenced, gc
 * removes it).
 */
export async function commitAndTag(layout: Layout, path: DescriptorPath, manifest: Manifest, config: ImageConfig, tag: string, fromTag: string): Promise<DescriptorPath | undefined> {
  const fresh = await commitImage(layout, path, manifest, config);
  const swapped = await setTag(layout, tag, fresh[0]!, tag === fromTag ? path[0]!.digest : undefined);
  return swapped ? fresh : undefined;
}

/** How often an edit is redone when concurrent writers keep moving its tag. */
export const MAX_EDIT_ATTEMPTS = 20;
