/**
 * Reading and replacing `index.json`. Every change is a read-modify-write under
 * the layout's exclusive index lock, written with writeFileAtomic (temporary
 * file, fsync, rename, directory fsync), so concurrent writers never lose an
 * update and a crash leaves the old or the new index, never a torn one.
 */
import { OcikitError, wrap } from '../errors.js';
import { encodeGo } from '../oci/go-json.js';
import { checkDescriptorShape } from '../oci/descriptor.js';
import { isIndexType } from '../oci/media-types.js';
import type { Index } from '../oci/types.js';
import { writeFileAtomic } from '../util/fsync.js';
import { readLayoutFile, type Layout } from './layout.js';

/** Parses and checks index.json (structure only; schema validation is validate's job). */
export async function readIndex(layout: Layout): Promise<Index> {
  const bytes = await readLayoutFile(layout.indexPath, 'LAYOUT_INVALID', 'read index.json');
  return parseIndexFile(bytes);
}

export function parseIndexFile(bytes: Buffer): Index {
  let index: unknown;
  try {
    index = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new OcikitError('LAYOUT_INVALID', `read index.json: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  // umoci before 0.5.1 wrote an empty index as "manifests": null (Go's nil slice).
  if (index !== null && typeof index === 'object' && (index as { manifests?: unknown }).manifests === null) {
    (index as { manifests: unknown[] }).manifests = [];
  }
  try {
    checkIndexShape(index);
  } catch (err) {
    throw new OcikitError('LAYOUT_INVALID', `read index.json: ${(err as Error).message}`, { cause: err });
  }
  return index;
}

/** The checks umoci makes of an index (CVE-2021-41190 included), without a schema. */
export function checkIndexShape(index: unknown): asserts index is Index {
  if (index === null || typeof index !== 'object' || Array.isArray(index)) throw new Error('not a JSON object');
  const o = index as Record<string, unknown>;
  if (o['schemaVersion'] !== 2) throw new Error(`unsupported schemaVersion ${JSON.stringify(o['schemaVersion'])}`);
  if (o['mediaType'] !== undefined && (typeof o['mediaType'] !== 'string' || !isIndexType(o['mediaType']))) {
    throw new Error(`media type ${JSON.stringify(o['mediaType'])} is not an image index`);
  }
  if ('config' in o || 'layers' in o) throw new Error('an index must not contain "config" or "layers"');
  if (!Array.isArray(o['manifests'])) throw new Error('"manifests" is not an array');
  o['manifests'].forEach((d, i) => checkDescriptorShape(d, `manifests[${i}]`));
}

/**
 * Applies `change` to index.json atomically, holding the exclusive index lock
 * across the read and the write. `change` may return the same object mutated
 * or a new one; returning undefined leaves the file untouched.
 */
export async function updateIndex(layout: Layout, change: (index: Index) => Index | undefined | Promise<Index | undefined>): Promise<Index> {
  return layout.withLock('index', 'exclusive', async () => {
    const current = await readIndex(layout);
    const next = await change(current);
    if (next === undefined) return current;
    checkIndexShape(next);
    try {
      await writeFileAtomic(layout.indexPath, encodeGo('index', next), layout.tmpDir);
    } catch (err) {
      throw wrap('write index.json', err);
    }
    return next;
  });
}
