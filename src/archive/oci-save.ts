/**
 * Writing one image as an oci-archive: a tar of an image layout holding
 * just that image (`oci-layout`, `blobs/sha256/…` for every blob the tag
 * reaches, and an `index.json` whose only entry is the tag), which is what
 * skopeo's `oci-archive:` transport reads. Blob sizes are known from their
 * descriptors, so every blob streams straight from the layout, verified.
 */
import { OcikitError } from '../errors.js';
import { refName } from '../image/resolve.js';
import { walkReachable } from '../image/walk.js';
import type { TarWriter } from '../layer/tar-writer.js';
import { parseDigest } from '../oci/digest.js';
import { encodeGo } from '../oci/go-json.js';
import { MediaType } from '../oci/media-types.js';
import { ANNOTATION_REF_NAME, type Descriptor } from '../oci/types.js';
import { openBlob } from '../store/blobs.js';
import { readIndex } from '../store/index-file.js';
import { LAYOUT_VERSION, type Layout } from '../store/layout.js';
import { abortable, checkAborted, dirHeader, fileHeader } from './tar-entry.js';

export interface OciArchivePlan {
  /** The index.json entry, renamed to the tag. */
  entry: Descriptor;
  /** Every blob reachable from it, once each. */
  blobs: Descriptor[];
}

/**
 * The index.json entry named `tag` (exactly one) and the blobs it reaches.
 * Walking reads every manifest and index, so a broken image fails here,
 * before any output exists.
 */
export async function planOciArchive(layout: Layout, tag: string): Promise<OciArchivePlan> {
  const entries = (await readIndex(layout)).manifests.filter((d) => refName(d) === tag);
  if (entries.length === 0) throw new OcikitError('TAG_NOT_FOUND', `tag not found: ${tag}`);
  if (entries.length > 1) throw new OcikitError('TAG_AMBIGUOUS', `tag is ambiguous: ${tag} (${entries.length} entries in index.json)`);
  const entry = entries[0]!;
  const blobs = new Map<string, Descriptor>();
  await walkReachable(layout, [entry], { visit: (d) => void blobs.set(d.digest, d) });
  return { entry: { ...entry, annotations: { ...entry.annotations, [ANNOTATION_REF_NAME]: tag } }, blobs: [...blobs.values()] };
}

/** Writes the planned layout to `tar` (the caller finishes it). */
export async function writeOciArchive(layout: Layout, plan: OciArchivePlan, tar: TarWriter, signal?: AbortSignal): Promise<void> {
  const header = Buffer.from(encodeGo('layout', { imageLayoutVersion: LAYOUT_VERSION }));
  await tar.add(fileHeader('oci-layout', header.length), header);
  await tar.add(dirHeader('blobs/'));
  const dirs = new Set<string>();
  for (const d of plan.blobs) {
    checkAborted(signal);
    const { algorithm, hex } = parseDigest(d.digest);
    if (!dirs.has(algorithm)) {
      dirs.add(algorithm);
      await tar.add(dirHeader(`blobs/${algorithm}/`));
    }
    try {
      await tar.add(fileHeader(`blobs/${algorithm}/${hex}`, d.size), abortable(openBlob(layout, d), signal));
    } catch (err) {
      if (err instanceof OcikitError && err.message !== 'interrupted' && !err.message.startsWith('blob ')) throw new OcikitError(err.code, `blob ${d.digest}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  const index = Buffer.from(encodeGo('index', { schemaVersion: 2, mediaType: MediaType.index, manifests: [plan.entry] }));
  await tar.add(fileHeader('index.json', index.length), index);
}
