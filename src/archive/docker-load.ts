/**
 * Reading a docker-archive into a layout. The first image of manifest.json
 * is taken; its config keeps its bytes (so the image ID stays the same) and
 * gets the OCI config media type; each layer is stored as the archive holds
 * it: an uncompressed tar becomes an `application/vnd.oci.image.layer.v1.tar`
 * blob whose digest must equal its diff_id, a gzip or zstd one (which some
 * writers produce) is stored compressed and its diff_id checked by
 * decompressing it. A new OCI manifest (Go-encoded) names them. The caller
 * tags it.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { OcikitError } from '../errors.js';
import { decompressor, layerMediaType } from '../layer/compression.js';
import { encodeGo } from '../oci/go-json.js';
import { MediaType, type Compression } from '../oci/media-types.js';
import { assertSchema } from '../oci/schema.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import { MAX_JSON_BLOB } from '../store/blobs.js';
import type { ArchiveCatalog } from './catalog.js';
import { referencedName } from './member-name.js';
import type { TrackedStore } from '../image/tracked-store.js';
import { eachLimit } from '../util/each-limit.js';

export interface DockerArchiveImage {
  configName: string;
  config: Buffer;
  diffIds: string[];
  layerNames: string[];
  repoTags: string[];
}

function invalid(message: string): never {
  throw new OcikitError('SCHEMA_INVALID', `manifest.json: ${message}`);
}

/** Parses manifest.json and the first image's config; checks that every layer it lists is in the archive. */
export async function readDockerArchive(catalog: ArchiveCatalog): Promise<DockerArchiveImage> {
  let list: unknown;
  try {
    list = JSON.parse((await catalog.read('manifest.json', MAX_JSON_BLOB)).toString('utf8'));
  } catch (err) {
    if (err instanceof OcikitError) throw err;
    invalid(`invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(list) || list.length === 0) invalid('expected a non-empty list of images');
  const first = list[0] as Record<string, unknown> | null;
  if (first === null || typeof first !== 'object') invalid('image 0 is not an object');
  const configName = referencedName(first['Config'], 'Config');
  if (!Array.isArray(first['Layers'])) invalid('Layers is not a list');
  const layerNames = first['Layers'].map((l, i) => referencedName(l, `Layers[${i}]`));
  const repoTags = Array.isArray(first['RepoTags']) ? first['RepoTags'].filter((t): t is string => typeof t === 'string') : [];
  const config = await catalog.read(configName, MAX_JSON_BLOB);
  let parsed: unknown;
  try {
    parsed = JSON.parse(config.toString('utf8'));
  } catch (err) {
    throw new OcikitError('SCHEMA_INVALID', `config ${configName}: invalid JSON: ${(err as Error).message}`);
  }
  const diffIds = (parsed as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((d): d is string => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d))) {
    throw new OcikitError('SCHEMA_INVALID', `config ${configName}: rootfs.diff_ids is not a list of sha256 digests`);
  }
  if (diffIds.length !== layerNames.length) {
    throw new OcikitError('VALIDATION_FAILED', `manifest.json lists ${layerNames.length} layers but config ${configName} has ${diffIds.length} diff_ids`);
  }
  await assertSchema('config', parsed, `config ${configName}`);
  for (const name of layerNames) catalog.size(name); // BLOB_NOT_FOUND for a missing layer, before the layout is touched
  return { configName, config, diffIds, layerNames, repoTags };
}

async function sniff(catalog: ArchiveCatalog, name: string): Promise<Compression> {
  const head = Buffer.alloc(4);
  let got = 0;
  const s = catalog.open(name);
  for await (const chunk of s as AsyncIterable<Buffer>) {
    got += chunk.copy(head, got);
    if (got === head.length) break;
  }
  s.destroy();
  if (got >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (got === 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** The sha256 of a compressed member's uncompressed bytes. */
async function uncompressedDigest(catalog: ArchiveCatalog, name: string, c: Compression): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(catalog.open(name), decompressor(c), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  });
  return `sha256:${hash.digest('hex')}`;
}

/** Stores the image's blobs and a new OCI manifest; returns the manifest's descriptor. */
export async function storeDockerArchive(catalog: ArchiveCatalog, image: DockerArchiveImage, store: TrackedStore, parallel = 4): Promise<Descriptor> {
  const cfg = await store.put(image.config, `config ${image.configName}`);
  const layers: Descriptor[] = new Array(image.layerNames.length);
  const jobs = image.layerNames.map((name, i) => ({ name, i, diffId: image.diffIds[i]! }));
  await eachLimit(jobs, parallel, async ({ name, i, diffId }) => {
    const what = `layer ${name}`;
    const size = catalog.size(name);
    const compression = await sniff(catalog, name);
    if (compression === 'none') {
      try {
        const r = await store.put(catalog.open(name), what, { digest: diffId, size });
        layers[i] = { mediaType: MediaType.layer, digest: r.digest, size: r.size };
      } catch (err) {
        if (err instanceof OcikitError && err.code === 'DIGEST_MISMATCH') {
          throw new OcikitError('DIGEST_MISMATCH', `${what}: its sha256 is not the diff_id ${diffId} that the config gives it`, { cause: err });
        }
        throw err;
      }
      return;
    }
    const [r, got] = await Promise.all([store.put(catalog.open(name), what, { size }), uncompressedDigest(catalog, name, compression)]);
    if (got !== diffId) throw new OcikitError('DIGEST_MISMATCH', `${what}: its uncompressed sha256 ${got} is not the diff_id ${diffId} that the config gives it`);
    layers[i] = { mediaType: layerMediaType(compression), digest: r.digest, size: r.size };
  });
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: { mediaType: MediaType.config, digest: cfg.digest, size: cfg.size },
    layers,
  };
  const bytes = Buffer.from(encodeGo('manifest', manifest));
  const m = await store.put(bytes, 'manifest');
  return { mediaType: MediaType.manifest, digest: m.digest, size: m.size };
}
