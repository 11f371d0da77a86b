/**
 * `validate`: everything ocikit can check about a layout, all problems
 * reported at once. index.json and every reachable JSON blob against the
 * schemas (and the media-type rules), every descriptor resolving to a stored
 * blob of the right size, every stored blob's bytes against its name.
 */
import { OcikitError } from '../errors.js';
import { isIndexType, isManifestType, MediaType, ociEquivalent } from '../oci/media-types.js';
import { isValidRefName } from '../oci/refname.js';
import { schemaProblems } from '../oci/schema.js';
import type { Descriptor } from '../oci/types.js';
import { blobSize, listBlobs, openBlob } from '../store/blobs.js';
import { parseIndexFile } from '../store/index-file.js';
import { readLayoutFile, type Layout } from '../store/layout.js';
import { readConfig } from './json-blob.js';
import { refName } from './resolve.js';
import { children } from './walk.js';

export interface ValidateResult {
  problems: string[];
  blobsChecked: number;
  descriptorsChecked: number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const _ of stream) void _;
}

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function validateLayout(layout: Layout): Promise<ValidateResult> {
  const problems: string[] = [];
  let raw: unknown;
  let roots: Descriptor[] = [];
  try {
    const bytes = await readLayoutFile(layout.indexPath, 'LAYOUT_INVALID', 'read index.json');
    // parseIndexFile first: it names index.json in its errors and reads umoci
    // 0.4.7's "manifests": null as empty, which the schema would refuse.
    roots = parseIndexFile(bytes).manifests;
    raw = { ...(JSON.parse(bytes.toString('utf8')) as object), manifests: roots };
    for (const p of await schemaProblems('index', raw)) problems.push(`index.json: ${p}`);
  } catch (err) {
    problems.push(message(err));
  }
  for (const d of roots) {
    const name = refName(d);
    if (name !== undefined && !isValidRefName(name)) problems.push(`index.json: invalid tag name ${JSON.stringify(name)}`);
  }

  // Walk every descriptor: existence and size first, then content by kind.
  const verified = new Set<string>();
  const seen = new Set<string>();
  const leaves: Descriptor[] = [];
  let queue: Array<[Descriptor, string]> = roots.map((d, i) => [d, `index.json manifests[${i}]`]);
  let descriptorsChecked = 0;
  while (queue.length > 0) {
    const next: Array<[Descriptor, string]> = [];
    for (const [desc, from] of queue) {
      descriptorsChecked++;
      if (seen.has(desc.digest)) continue;
      seen.add(desc.digest);
      let size: number | undefined;
      try {
        size = await blobSize(layout, desc.digest);
      } catch (err) {
        problems.push(`${from}: ${message(err)}`);
        continue;
      }
      if (size === undefined) {
        problems.push(`${from}: blob not found: ${desc.digest}`);
        continue;
      }
      if (size !== desc.size) {
        problems.push(`${from}: blob ${desc.digest} is ${size} bytes, descriptor says ${desc.size}`);
        continue;
      }
      try {
        if (isManifestType(desc.mediaType) || isIndexType(desc.mediaType)) {
          let kids: Descriptor[];
          try {
            kids = await children(layout, desc, true);
            verified.add(desc.digest);
          } catch (err) {
            problems.push(message(err));
            // A schema problem must not hide the problems below it: walk on
            // through whatever children the structural checks still accept.
            kids = await children(layout, desc, false).catch(() => []);
          }
          kids.forEach((k, i) => next.push([k, `${isManifestType(desc.mediaType) ? 'manifest' : 'index'} ${desc.digest} child ${i}`]));
        } else if (ociEquivalent(desc.mediaType) === MediaType.config) {
          await readConfig(layout, desc);
          verified.add(desc.digest);
        } else {
          leaves.push(desc);
        }
      } catch (err) {
        problems.push(message(err));
      }
    }
    queue = next;
  }
  // Layers and other leaves: stream them through the verifier, a few at a time.
  await inParallel(leaves, 4, async (desc) => {
    try {
      await drain(openBlob(layout, desc));
      verified.add(desc.digest);
    } catch (err) {
      problems.push(message(err));
    }
  });
  // Blobs nothing references still must hash to their names.
  const stored = await listBlobs(layout);
  await inParallel(stored.filter((d) => !seen.has(d)), 4, async (digest) => {
    try {
      // Its own size as the descriptor: only the bytes against the name are checked.
      const size = await blobSize(layout, digest);
      if (size !== undefined) await drain(openBlob(layout, { mediaType: 'application/octet-stream', digest, size }));
    } catch (err) {
      const mismatch = err instanceof OcikitError && err.code === 'DIGEST_MISMATCH';
      problems.push(`blob ${digest}: ${mismatch ? 'content does not match its name' : message(err)}`);
    }
  });
  return { problems, blobsChecked: stored.length, descriptorsChecked };
}

/** Throws VALIDATION_FAILED listing the count, if there were problems. */
export function assertValid(result: ValidateResult): void {
  if (result.problems.length > 0) {
    throw new OcikitError('VALIDATION_FAILED', `validation failed: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} found`);
  }
}
