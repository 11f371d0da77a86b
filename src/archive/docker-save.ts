/**
 * Writing one image as a docker-archive (the `docker save` format that
 * `docker load`, `podman load` and `skopeo copy docker-archive:` read):
 * `manifest.json`, `repositories`, the config as `<hex>.json`, each layer as
 * an uncompressed `<diff_id hex>.tar`, and the legacy per-layer directories
 * (`<id>/VERSION`, `<id>/json`, `<id>/layer.tar` as a link) that older
 * loaders look for.
 *
 * A tar header needs the entry's size before its body, and OCI records no
 * uncompressed size; so a compressed layer is decompressed twice: once while
 * planning (counting bytes and checking the result against the config's
 * diff_id, several layers at a time, before any output exists) and once while
 * writing. Nothing is copied to memory or temporary space.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { OcikitError } from '../errors.js';
import { readConfig, readManifest } from '../image/json-blob.js';
import { decompressor } from '../layer/compression.js';
import type { TarWriter } from '../layer/tar-writer.js';
import { parseDigest } from '../oci/digest.js';
import { layerCompression, type Compression } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { openBlob } from '../store/blobs.js';
import type { Layout } from '../store/layout.js';
import { eachLimit } from '../util/each-limit.js';
import { repoTagTag } from './docker-name.js';
import { abortable, checkAborted, dirHeader, fileHeader, symlinkHeader } from './tar-entry.js';

interface LayerPlan {
  desc: Descriptor;
  compression: Compression;
  diffId: string;
  /** Uncompressed size: the tar entry's size. */
  size: number;
  /** `<hex>.tar` */
  file: string;
}

export interface DockerArchivePlan {
  repoTag: string;
  config: { desc: Descriptor; bytes: Buffer; created: string | undefined };
  layers: LayerPlan[];
}

/** Decompresses a layer once: its tar size, checked against its diff_id. */
async function measure(layout: Layout, l: LayerPlan, signal: AbortSignal | undefined): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(openBlob(layout, l.desc), decompressor(l.compression), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of abortable(source, signal)) {
        hash.update(chunk);
        size += chunk.length;
      }
    });
  } catch (err) {
    if (err instanceof OcikitError) throw new OcikitError(err.code, `layer ${l.desc.digest}: ${err.message}`, { cause: err });
    throw err;
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== l.diffId) throw new OcikitError('DIGEST_MISMATCH', `layer ${l.desc.digest}: uncompressed digest ${got} differs from the config's diff_id ${l.diffId}`);
  l.size = size;
}

/**
 * Reads the image's manifest and config and measures its layers. Throws
 * before anything is written when the image cannot be saved (an unknown
 * layer type, diff_ids that do not match the layers).
 */
export async function planDockerArchive(layout: Layout, manifestDesc: Descriptor, repoTag: string, opts: { signal?: AbortSignal; parallel?: number } = {}): Promise<DockerArchivePlan> {
  const manifest = (await readManifest(layout, manifestDesc)).value;
  const config = await readConfig(layout, manifest.config);
  const diffIds = config.value.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new OcikitError('VALIDATION_FAILED', `image ${manifestDesc.digest}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`);
  }
  const layers = manifest.layers.map((desc, i): LayerPlan => {
    const compression = layerCompression(desc.mediaType);
    if (compression === undefined) throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `layer ${desc.digest}: unsupported media type ${JSON.stringify(desc.mediaType)}`);
    const diffId = diffIds[i]!;
    if (!/^sha256:[0-9a-f]{64}$/.test(diffId)) throw new OcikitError('VALIDATION_FAILED', `image ${manifestDesc.digest}: invalid diff_id ${JSON.stringify(diffId)}`);
    return { desc, compression, diffId, size: desc.size, file: `${parseDigest(diffId).hex}.tar` };
  });
  for (const l of layers) {
    if (l.compression === 'none' && l.desc.digest !== l.diffId) {
      throw new OcikitError('DIGEST_MISMATCH', `layer ${l.desc.digest}: an uncompressed layer whose digest differs from the config's diff_id ${l.diffId}`);
    }
  }
  // One measurement per distinct compressed blob.
  const toMeasure = new Map<string, LayerPlan>();
  for (const l of layers) if (l.compression !== 'none' && !toMeasure.has(l.desc.digest)) toMeasure.set(l.desc.digest, l);
  await eachLimit([...toMeasure.values()], opts.parallel ?? 4, (l) => measure(layout, l, opts.signal));
  for (const l of layers) if (l.compression !== 'none') l.size = toMeasure.get(l.desc.digest)!.size;
  return { repoTag, config: { desc: manifest.config, bytes: config.bytes, created: config.value.created }, layers };
}

/** Legacy (v1) layer ids: one per position, chained through the parent's id. */
function legacyIds(layers: LayerPlan[]): string[] {
  const ids: string[] = [];
  let parent = '';
  for (const l of layers) {
    parent = createHash('sha256').update(`${parent} ${l.diffId}`).digest('hex');
    ids.push(parent);
  }
  return ids;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Writes the planned archive to `tar` (the caller finishes it). */
export async function writeDockerArchive(layout: Layout, plan: DockerArchivePlan, tar: TarWriter, signal?: AbortSignal): Promise<void> {
  const configFile = `${parseDigest(plan.config.desc.digest).hex}.json`;
  const ids = legacyIds(plan.layers);
  const tag = repoTagTag(plan.repoTag)!; // checked by saveImage
  const repo = plan.repoTag.slice(0, -tag.length - 1);
  const manifestJson = json([{ Config: configFile, RepoTags: [plan.repoTag], Layers: plan.layers.map((l) => l.file) }]);
  const small: Array<[string, Buffer]> = [['manifest.json', manifestJson]];
  if (ids.length > 0) small.push(['repositories', json({ [repo]: { [tag]: ids[ids.length - 1] } })]);
  small.push([configFile, plan.config.bytes]);
  for (const [name, body] of small) await tar.add(fileHeader(name, body.length), body);

  const written = new Set<string>();
  for (const l of plan.layers) {
    if (written.has(l.file)) continue;
    written.add(l.file);
    checkAborted(signal);
    const header = fileHeader(l.file, l.size);
    try {
      if (l.compression === 'none') await tar.add(header, abortable(openBlob(layout, l.desc), signal));
      else await pipeline(openBlob(layout, l.desc), decompressor(l.compression), (source: AsyncIterable<Buffer>) => tar.add(header, abortable(source, signal)));
    } catch (err) {
      if (err instanceof OcikitError && err.message !== 'interrupted') throw new OcikitError(err.code, `layer ${l.desc.digest}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  for (let i = 0; i < plan.layers.length; i++) {
    const id = ids[i]!;
    const meta: Record<string, string> = { id };
    if (i > 0) meta['parent'] = ids[i - 1]!;
    meta['created'] = plan.config.created ?? '1970-01-01T00:00:00Z';
    await tar.add(dirHeader(`${id}/`));
    await tar.add(fileHeader(`${id}/VERSION`, 3), Buffer.from('1.0'));
    const body = json(meta);
    await tar.add(fileHeader(`${id}/json`, body.length), body);
    await tar.add(symlinkHeader(`${id}/layer.tar`, `../${plan.layers[i]!.file}`));
  }
}

