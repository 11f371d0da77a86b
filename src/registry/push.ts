/**
 * `push`: a tagged image (a manifest, or an index and all its children) from
 * a layout to a registry. Blobs first, `parallel` at a time: a HEAD says
 * whether the registry already has one; else a cross-repository mount from a
 * repository of the same registry known to hold it (blob-sources.ts); else an
 * upload (one PUT, or PATCHes of `chunkSize` bytes). Then child manifests
 * by digest, and the top manifest by tag (or digest) last, with the stored
 * bytes unchanged, so the pushed digest is the layout's.
 */
import { OcikitError } from '../errors.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { readBlob } from '../store/blobs.js';
import { readIndex } from '../store/index-file.js';
import { Layout } from '../store/layout.js';
import { refName } from '../image/resolve.js';
import { blobSources, recordBlobSource } from './blob-sources.js';
import { eachLimit } from '../util/each-limit.js';
import { parseManifestJson } from './manifests.js';
import type { Progress } from './progress.js';
import type { Reference } from './reference.js';
import type { Repository } from './remote.js';

export interface PushOptions {
  /** Bytes per PATCH; 0 uploads each blob in one PUT (default). */
  chunkSize?: number;
  /** Blobs uploaded at once (default 4). */
  parallel?: number;
  progress?: Progress;
}

export interface PushResult {
  descriptor: Descriptor;
  uploaded: number;
  mounted: number;
  existed: number;
}

interface Stored {
  desc: Descriptor;
  bytes: Buffer;
}

/** The tag's manifests (children before their index) and the blobs they name. */
async function collect(layout: Layout, tag: string): Promise<{ top: Descriptor; manifests: Stored[]; blobs: Descriptor[] }> {
  const entries = (await readIndex(layout)).manifests.filter((d) => refName(d) === tag);
  if (entries.length === 0) throw new OcikitError('TAG_NOT_FOUND', `tag not found: ${tag}`);
  if (entries.length > 1) throw new OcikitError('TAG_AMBIGUOUS', `tag is ambiguous: ${tag} (${entries.length} entries in index.json)`);
  const top = entries[0]!;
  const manifests: Stored[] = [];
  const blobs = new Map<string, Descriptor>();
  const visit = async (desc: Descriptor, depth: number): Promise<void> => {
    if (depth > 8) throw new OcikitError('DESCRIPTOR_INVALID', `push ${tag}: indexes nested too deep`);
    const bytes = await readBlob(layout, desc);
    const what = `blob ${desc.digest}`;
    if (isIndexType(desc.mediaType)) {
      const index = parseManifestJson(bytes, desc.mediaType, what) as { manifests: Descriptor[] };
      for (const child of index.manifests) await visit(child, depth + 1);
    } else if (isManifestType(desc.mediaType)) {
      const m = parseManifestJson(bytes, desc.mediaType, what) as { config: Descriptor; layers: Descriptor[] };
      for (const b of [m.config, ...m.layers]) if (!blobs.has(b.digest)) blobs.set(b.digest, b);
    } else {
      throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `push ${tag}: ${desc.digest} has media type ${desc.mediaType}, not a manifest or index`);
    }
    if (!manifests.some((s) => s.desc.digest === desc.digest)) manifests.push({ desc, bytes });
  };
  await visit(top, 0);
  return { top, manifests, blobs: [...blobs.values()] };
}

export async function pushImage(repo: Repository, ref: Reference, layoutPath: string, tag: string, opts: PushOptions = {}): Promise<PushResult> {
  const progress = opts.progress;
  const layout = await Layout.open(layoutPath);
  try {
    return await layout.withLock('content', 'shared', async () => {
      const { top, manifests, blobs } = await collect(layout, tag);
      if (ref.digest !== undefined && ref.digest !== top.digest) {
        throw new OcikitError('DIGEST_MISMATCH', `push ${tag}: the image's digest is ${top.digest}, not the ${ref.digest} the reference names`);
      }
      const host = repo.client.host;
      const counts = { uploaded: 0, mounted: 0, existed: 0 };
      await eachLimit(blobs, opts.parallel ?? 4, async (desc) => {
        if (await repo.hasBlob(desc.digest)) {
          counts.existed++;
          progress?.blobDone(desc.digest, 'exists');
          return;
        }
        for (const from of blobSources(host, desc.digest, repo.name).slice(0, 2)) {
          if (await repo.mountBlob(desc.digest, from).catch(() => false)) {
            counts.mounted++;
            progress?.blobDone(desc.digest, 'mounted');
            return;
          }
        }
        progress?.blobStart(desc.digest, desc.size);
        await repo.uploadBlob(desc, layout.blobPath(desc.digest), opts.chunkSize ?? 0, (n) => progress?.blobBytes(desc.digest, n));
        counts.uploaded++;
        progress?.blobDone(desc.digest, 'uploaded');
      });
      for (const m of manifests) {
        const isTop = m.desc.digest === top.digest;
        const reference = isTop ? (ref.tag ?? m.desc.digest) : m.desc.digest;
        progress?.note(`Writing manifest ${isTop ? reference : m.desc.digest}`);
        await repo.putManifest(reference, m.bytes, m.desc.mediaType);
      }
      recordBlobSource(host, repo.name, blobs.map((b) => b.digest));
      return { descriptor: { mediaType: top.mediaType, digest: top.digest, size: top.size }, ...counts };
    });
  } finally {
    await layout.close();
  }
}
