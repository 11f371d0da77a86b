/** Tags: `index.json` entries carrying the org.opencontainers.image.ref.name annotation. */
import { OcikitError } from '../errors.js';
import { isValidRefName } from '../oci/refname.js';
import { ANNOTATION_REF_NAME, type Descriptor, type Index } from '../oci/types.js';
import { readIndex, updateIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';
import { refName } from './resolve.js';

export function checkTagName(tag: string, what = 'tag'): void {
  if (!isValidRefName(tag)) throw new OcikitError('TAG_INVALID', `${what} is an invalid reference: ${JSON.stringify(tag)}`);
}

/** Tag names in `index.json` order (duplicates kept, untagged entries skipped), as `umoci ls` prints them. */
export async function listTags(layout: Layout): Promise<string[]> {
  const index = await readIndex(layout);
  return index.manifests.map(refName).filter((n): n is string => n !== undefined);
}

/** `index` with every entry named `tag` removed and `desc` appended under that name (umoci's order). */
export function withTag(index: Index, tag: string, desc: Descriptor): Index {
  const manifests = index.manifests.filter((d) => refName(d) !== tag);
  manifests.push({ ...desc, annotations: { ...desc.annotations, [ANNOTATION_REF_NAME]: tag } });
  return { ...index, manifests };
}

/** Points `tag` at `desc`, replacing any entry of that name. Atomic, under the index lock. */
export async function setTag(layout: Layout, tag: string, desc: Descriptor): Promise<void> {
  checkTagName(tag);
  await updateIndex(layout, (index) => withTag(index, tag, desc));
}

/** Removes every entry named `tag`; returns how many there were (0 is not an error, as in umoci). */
export async function removeTag(layout: Layout, tag: string): Promise<number> {
  let removed = 0;
  await updateIndex(layout, (index) => {
    const manifests = index.manifests.filter((d) => refName(d) !== tag);
    removed = index.manifests.length - manifests.length;
    return removed === 0 ? undefined : { ...index, manifests };
  });
  return removed;
}
