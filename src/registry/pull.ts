/**
 * `pull`: an image from a registry into a layout.
 *
 * Everything remote is resolved first (manifest, platform, child manifests),
 * so a bad reference, bad credentials or a missing platform fail before the
 * layout is touched (or created). Then blobs stream straight into the store,
 * `parallel` at a time, hashed and size-checked as they arrive; blobs the
 * layout already holds are skipped (re-hashed first with `validateCache`).
 * Manifests are written after their blobs and the tag last, so the layout
 * never names a partial image. If the pull fails, the blobs it added are
 * removed again (unless something in index.json reaches them) and a layout
 * it created is removed, leaving the layout as it was.
 */
import { rm } from 'node:fs/promises';
import { OcikitError } from '../errors.js';
import { sha256Digest } from '../oci/digest.js';
import { MediaType, isIndexType } from '../oci/media-types.js';
import { hostPlatform, type HostPlatform } from '../oci/platform.js';
import type { Descriptor, Index, Manifest } from '../oci/types.js';
import { Layout } from '../store/layout.js';
import { MAX_JSON_BLOB, blobSize, deleteBlob, openBlob } from '../store/blobs.js';
import { setTag } from '../image/tags.js';
import { TrackedStore } from '../image/tracked-store.js';
import { recordBlobSource } from './blob-sources.js';
import { eachLimit } from '../util/each-limit.js';
import { availablePlatforms, choosePlatform, dockerConfigToOci, dockerListToOci, dockerManifestToOci, formatPlatform, isDockerType, parseManifestJson } from './manifests.js';
import type { Progress } from './progress.js';
import { familiarReference, type Reference } from './reference.js';
import type { FetchedManifest, Repository } from './remote.js';
import { pathExists } from '../util/path-exists.js';

export interface PullOptions {
  /** The tag to give the image in the layout. */
  tag: string;
  /** Platform to choose from an index (default: the host's). */
  platform?: HostPlatform;
  /** Keep the whole index and every child. */
  allPlatforms?: boolean;
  /** Blobs downloaded at once (default 4). */
  parallel?: number;
  /** Re-hash blobs the layout already holds instead of trusting them. */
  validateCache?: boolean;
  /** Store the registry's manifests unchanged instead of converting Docker types to OCI. */
  preserveDigests?: boolean;
  progress?: Progress;
}

export interface PullResult {
  /** What the tag points at. */
  descriptor: Descriptor;
  fetched: number;
  present: number;
  bytes: number;
}

interface ImagePlan {
  /** The manifest as fetched. */
  fetched: FetchedManifest;
  manifest: Manifest;
  /** The platform the index gave it, if any. */
  entry?: Descriptor;
}

interface Plan {
  top: FetchedManifest;
  images: ImagePlan[];
  /** Set when the whole index is kept. */
  index?: Index;
}

/** Resolves the reference to the manifests to store, without touching the layout. */
async function plan(repo: Repository, ref: Reference, opts: PullOptions): Promise<Plan> {
  const label = familiarReference(ref);
  const top = await repo.getManifest(ref.digest ?? ref.tag!, label);
  const parsed = parseManifestJson(top.bytes, top.mediaType, `manifest ${label}`);
  if (!isIndexType(top.mediaType)) return { top, images: [{ fetched: top, manifest: parsed as Manifest }] };
  const index = parsed as Index;
  const childOf = async (entry: Descriptor): Promise<ImagePlan> => {
    const fetched = await repo.getManifest(entry.digest, `${label}@${entry.digest}`);
    if (fetched.bytes.length !== entry.size) {
      throw new OcikitError('SIZE_MISMATCH', `manifest ${label}@${entry.digest}: ${fetched.bytes.length} bytes, the index says ${entry.size}`);
    }
    if (isIndexType(fetched.mediaType)) throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `manifest ${label}@${entry.digest}: nested indexes are not supported`);
    return { fetched, manifest: parseManifestJson(fetched.bytes, fetched.mediaType, `manifest ${label}@${entry.digest}`) as Manifest, entry };
  };
  if (opts.allPlatforms) {
    const images = await Promise.all(index.manifests.map(childOf));
    return { top, images, index };
  }
  const want = opts.platform ?? hostPlatform();
  const entry = choosePlatform(index, want, opts.platform?.variant !== undefined);
  if (entry === undefined) {
    throw new OcikitError('REGISTRY', `${label} has no image for ${formatPlatform(want)} (available: ${availablePlatforms(index)})`);
  }
  return { top, images: [await childOf(entry)] };
}


/** Whether the stored blob hashes to its name (for --validate-cache): openBlob checks as it is read. */
async function blobIsIntact(layout: Layout, desc: Descriptor): Promise<boolean> {
  try {
    for await (const _ of openBlob(layout, desc) as AsyncIterable<Buffer>);
    return true;
  } catch (err) {
    if (err instanceof OcikitError && (err.code === 'DIGEST_MISMATCH' || err.code === 'SIZE_MISMATCH')) return false;
    throw err;
  }
}

export async function pullImage(repo: Repository, ref: Reference, layoutPath: string, opts: PullOptions): Promise<PullResult> {
  const progress = opts.progress;
  const p = await plan(repo, ref, opts);
  let created = false;
  if (!(await pathExists(layoutPath))) {
    try {
      await Layout.create(layoutPath);
      created = true;
    } catch (err) {
      // Another pull into the same new layout (a shared cache) made it first.
      if (!(await pathExists(layoutPath))) throw err;
    }
  }
  const layout = await Layout.open(layoutPath);
  const tracked = new TrackedStore(layout);
  let result: PullResult;
  try {
    result = await layout.withLock('content', 'shared', async () => {
      try {
        const r = await store(tracked, repo, ref, p, opts, progress);
        await setTag(layout, opts.tag, r.descriptor);
        return r;
      } catch (err) {
        await tracked.undo();
        throw err;
      }
    });
  } catch (err) {
    await layout.close().catch(() => undefined);
    if (created) await rm(layoutPath, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  await layout.close();
  return result;
}

async function store(tracked: TrackedStore, repo: Repository, ref: Reference, p: Plan, opts: PullOptions, progress: Progress | undefined): Promise<PullResult> {
  const convert = !opts.preserveDigests;
  // Configs of Docker images are converted, so they are fetched into memory
  // rather than stored as they come.
  const converting = (image: ImagePlan): boolean => convert && isDockerType(image.fetched.mediaType);
  const blobs = new Map<string, Descriptor>();
  for (const image of p.images) {
    for (const d of [...(converting(image) ? [] : [image.manifest.config]), ...image.manifest.layers]) if (!blobs.has(d.digest)) blobs.set(d.digest, d);
  }
  const counts = { fetched: 0, present: 0, bytes: 0 };
  await eachLimit([...blobs.values()], opts.parallel ?? 4, (desc) => fetchBlob(tracked, repo, ref, desc, opts, counts, progress));
  recordBlobSource(repo.client.host, repo.name, [...blobs.keys()]);

  const put = async (bytes: Buffer, mediaType: string): Promise<Descriptor> => {
    const r = await tracked.put(bytes, `${mediaType} blob`);
    return { mediaType, digest: r.digest, size: r.size };
  };
  const storedImages: Descriptor[] = [];
  for (const image of p.images) {
    let desc: Descriptor;
    if (converting(image)) {
      const raw = await fetchSmall(repo, image.manifest.config);
      const config = await put(dockerConfigToOci(raw, `config ${image.manifest.config.digest}`), MediaType.config);
      desc = await put(dockerManifestToOci(image.manifest, config), MediaType.manifest);
    } else {
      desc = await put(image.fetched.bytes, image.fetched.mediaType);
    }
    storedImages.push(image.entry !== undefined ? { ...image.entry, mediaType: desc.mediaType, digest: desc.digest, size: desc.size } : desc);
  }
  let descriptor: Descriptor;
  if (p.index !== undefined) {
    const changed = storedImages.some((d, i) => d.digest !== p.index!.manifests[i]!.digest);
    if (convert && (isDockerType(p.top.mediaType) || changed)) descriptor = await put(dockerListToOci(p.index, storedImages), MediaType.index);
    else descriptor = await put(p.top.bytes, p.top.mediaType);
  } else {
    const only = storedImages[0]!;
    descriptor = { mediaType: only.mediaType, digest: only.digest, size: only.size };
  }
  return { descriptor, ...counts };
}

/** One blob into the store: skipped when present (and intact with validateCache), else streamed and verified. */
async function fetchBlob(tracked: TrackedStore, repo: Repository, ref: Reference, desc: Descriptor, opts: PullOptions, counts: { fetched: number; present: number; bytes: number }, progress: Progress | undefined): Promise<void> {
  const layout = tracked.layout;
  const have = await blobSize(layout, desc.digest);
  if (have === desc.size && (!opts.validateCache || (await blobIsIntact(layout, desc)))) {
    counts.present++;
    progress?.blobDone(desc.digest, 'present');
    return;
  }
  if (have !== undefined) await deleteBlob(layout, desc.digest);
  progress?.blobStart(desc.digest, desc.size);
  const source = repo.blobChunks(desc);
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      progress?.blobBytes(desc.digest, chunk.length);
      yield chunk;
    }
  };
  await tracked.put(counted(), `blob ${desc.digest} of ${familiarReference(ref)}: the registry sent bytes that do not match the descriptor`, { digest: desc.digest, size: desc.size });
  counts.fetched++;
  counts.bytes += desc.size;
  progress?.blobDone(desc.digest, 'fetched');
}

/** A small blob (a config) into memory, size- and digest-checked. */
export async function fetchSmall(repo: Repository, desc: Descriptor): Promise<Buffer> {
  if (desc.size > MAX_JSON_BLOB) throw new OcikitError('REGISTRY', `blob ${desc.digest} is ${desc.size} bytes, more than the ${MAX_JSON_BLOB} allowed for a config`);
  const chunks: Buffer[] = [];
  for await (const c of repo.blobChunks(desc)) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  const got = sha256Digest(bytes);
  if (bytes.length !== desc.size || got !== desc.digest) {
    throw new OcikitError('DIGEST_MISMATCH', `blob ${desc.digest}: the registry sent ${bytes.length} bytes that hash to ${got}`);
  }
  return bytes;
}

