/**
 * Reading an oci-archive (a tar of an image layout, as skopeo's oci-archive
 * transport writes it) into a layout: one entry of its index.json (the only
 * one, or the one named as asked) and every blob that entry reaches, each
 * checked against its descriptor's digest and size as it is stored.
 * Manifests and indexes are read into memory (they are small and must be
 * parsed to find their children); other blobs stream from the archive file.
 */
import { OcikitError } from '../errors.js';
import { refName } from '../image/resolve.js';
import { checkDescriptorShape } from '../oci/descriptor.js';
import { parseDigest, sha256Digest } from '../oci/digest.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { MAX_JSON_BLOB } from '../store/blobs.js';
import { parseIndexFile } from '../store/index-file.js';
import { LAYOUT_VERSION } from '../store/layout.js';
import type { ArchiveCatalog } from './catalog.js';
import type { TrackedStore } from '../image/tracked-store.js';
import { eachLimit } from '../util/each-limit.js';

function memberOf(d: Descriptor): string {
  const { algorithm, hex } = parseDigest(d.digest);
  return `blobs/${algorithm}/${hex}`;
}

/** Checks oci-layout and picks the index.json entry: the one named `tag` if there is one, else the only one. */
export async function readOciArchive(catalog: ArchiveCatalog, tag: string | undefined): Promise<Descriptor> {
  let version: unknown;
  try {
    version = (JSON.parse((await catalog.read('oci-layout', 1 << 20)).toString('utf8')) as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  } catch (err) {
    if (err instanceof OcikitError) throw err;
    throw new OcikitError('LAYOUT_INVALID', 'oci-archive: oci-layout is not valid JSON');
  }
  if (version !== LAYOUT_VERSION) throw new OcikitError('LAYOUT_INVALID', `oci-archive: unsupported imageLayoutVersion ${JSON.stringify(version)}`);
  const index = parseIndexFile(await catalog.read('index.json', MAX_JSON_BLOB));
  const named = tag === undefined ? [] : index.manifests.filter((d) => refName(d) === tag);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw new OcikitError('TAG_AMBIGUOUS', `oci-archive: ${named.length} entries of index.json are named ${tag}`);
  if (index.manifests.length === 1) return index.manifests[0]!;
  if (index.manifests.length === 0) throw new OcikitError('TAG_NOT_FOUND', 'oci-archive: index.json has no images');
  const names = index.manifests.map((d) => refName(d) ?? '(untagged)').join(', ');
  throw new OcikitError('TAG_AMBIGUOUS', `oci-archive holds ${index.manifests.length} images (${names}); name one with --image LAYOUT:TAG`);
}

/** The children a manifest or index names. */
function childrenOf(bytes: Buffer, d: Descriptor): Descriptor[] {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new OcikitError('SCHEMA_INVALID', `blob ${d.digest}: invalid JSON`);
  }
  if (o === null || typeof o !== 'object') throw new OcikitError('SCHEMA_INVALID', `blob ${d.digest}: not a JSON object`);
  if (o['mediaType'] !== undefined && o['mediaType'] !== d.mediaType) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `blob ${d.digest}: media type ${JSON.stringify(o['mediaType'])} differs from its descriptor's ${JSON.stringify(d.mediaType)}`);
  }
  const kids: unknown[] = isIndexType(d.mediaType) ? (Array.isArray(o['manifests']) ? o['manifests'] : []) : [o['config'], ...(Array.isArray(o['layers']) ? o['layers'] : [])];
  if (o['subject'] !== undefined) kids.push(o['subject']);
  kids.forEach((k, i) => checkDescriptorShape(k, `blob ${d.digest}: child ${i}`));
  return kids as Descriptor[];
}

/** Stores every blob `entry` reaches; manifests and indexes first (walked), then the rest `parallel` at a time. */
export async function storeOciArchive(catalog: ArchiveCatalog, entry: Descriptor, store: TrackedStore, parallel = 4): Promise<void> {
  const seen = new Set<string>();
  /** Every blob to store; manifests and indexes with the bytes already read. */
  const blobs: Array<{ d: Descriptor; member: string; bytes?: Buffer }> = [];
  const queue: Descriptor[] = [entry];
  while (queue.length > 0) {
    const d = queue.shift()!;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const member = memberOf(d);
    if (!isManifestType(d.mediaType) && !isIndexType(d.mediaType)) {
      catalog.size(member); // a missing blob fails before anything is stored
      blobs.push({ d, member });
      continue;
    }
    const bytes = await catalog.read(member, MAX_JSON_BLOB);
    const got = sha256Digest(bytes);
    if (parseDigest(d.digest).algorithm === 'sha256' && got !== d.digest) {
      throw new OcikitError('DIGEST_MISMATCH', `oci-archive: ${member} hashes to ${got}`);
    }
    queue.push(...childrenOf(bytes, d));
    blobs.push({ d, member, bytes });
  }
  await eachLimit(blobs, parallel, async ({ d, member, bytes }) => {
    await store.put(bytes ?? catalog.open(member), `oci-archive: ${member}`, { digest: d.digest, size: d.size });
  });
}
