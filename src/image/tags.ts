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

/**
 * Points `tag` at `desc`, replacing any entry of that name. Atomic, under the
 * index lock. With `ifCurrent`, a compare-and-swap: the tag moves only if its
 * one entry still has that digest, and false is returned otherwise (another
 * writer moved it since it was read), so the caller can redo its change.
 */
export async function setTag(layout: Layout, tag: string, desc: Descriptor, ifCurrent?: string): Promise<boolean> {
  checkTagName(tag);
  let swapped = true;
  await updateIndex(layout, (index) => {
    if (ifCurrent !== undefined) {
      const entries = index.manifests.filter((d) => refName(d) === tag);
      if (entries.length !== 1 || entries[0]!.digest !== ifCurrent) {
        swapped = false;
        return undefined;
      }
    }
    return withTag(index, tag, desc);
  });
  return swapped;
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
