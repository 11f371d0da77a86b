/**
 * Descriptor walks: everything reachable from a set of roots, through
 * manifests (config, layers, subject) and indexes (manifests, subject). Blobs of
 * other media types are reachable but not parsed. Each JSON blob is read
 * verified, once.
 */
import { wrap } from '../errors.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import type { Layout } from '../store/layout.js';
import { readIndexBlob, readManifest } from './json-blob.js';

export interface WalkOptions {
  /** Validate JSON blobs against the schemas while walking (default false). */
  schema?: boolean;
  /** Called for each distinct descriptor reached, with the descriptor that led to it. */
  visit?: (desc: Descriptor, parent: Descriptor | undefined) => void | Promise<void>;
}

/** The children a JSON blob names, or [] for any other blob. */
export async function children(layout: Layout, desc: Descriptor, schema = false): Promise<Descriptor[]> {
  if (isManifestType(desc.mediaType)) {
    const m = (await readManifest(layout, desc, { schema })).value;
    return [m.config, ...m.layers, ...(m.subject ? [m.subject] : [])];
  }
  if (isIndexType(desc.mediaType)) {
    const i = (await readIndexBlob(layout, desc, { schema })).value;
    return [...i.manifests, ...(i.subject ? [i.subject] : [])];
  }
  return [];
}

/**
 * Walks from `roots` and returns the set of reachable digests. A JSON blob
 * that cannot be read or parsed fails the walk (callers such as gc must not act
 * on a partial view).
 */
export async function walkReachable(layout: Layout, roots: Descriptor[], opts: WalkOptions = {}): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue: Array<[Descriptor, Descriptor | undefined]> = roots.map((r) => [r, undefined]);
  while (queue.length > 0) {
    const [desc, parent] = queue.shift()!;
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    await opts.visit?.(desc, parent);
    let kids: Descriptor[];
    try {
      kids = await children(layout, desc, opts.schema ?? false);
    } catch (err) {
      throw wrap(`walk ${desc.digest}`, err);
    }
    for (const k of kids) queue.push([k, desc]);
  }
  return seen;
}
