/**
 * `load`: a docker-archive or oci-archive file into a layout (created if
 * missing). The archive is catalogued and its manifests read first, so a
 * file that is not a tar, hostile member names, a missing layer or a broken
 * manifest.json fail before the layout is touched. Blobs go in next (each
 * verified: layers against their diff_ids, oci-archive blobs against their
 * descriptors), the manifest after them and the tag last. On any failure
 * the blobs this load added are removed again and a layout it created is
 * removed, leaving the layout as it was.
 */
import { rm } from 'node:fs/promises';
import { OcikitError } from '../errors.js';
import { refName } from '../image/resolve.js';
import { checkTagName, setTag } from '../image/tags.js';
import { DEFAULT_TAG, isValidRefName } from '../oci/refname.js';
import { ANNOTATION_REF_NAME, type Descriptor } from '../oci/types.js';
import { Layout } from '../store/layout.js';
import { ArchiveCatalog } from './catalog.js';
import { readDockerArchive, storeDockerArchive } from './docker-load.js';
import { repoTagTag } from './docker-name.js';
import { readOciArchive, storeOciArchive } from './oci-load.js';
import type { ArchiveFormat } from './save.js';
import { TrackedStore } from '../image/tracked-store.js';
import { pathExists } from '../util/path-exists.js';

export interface LoadOptions {
  /** The tag to give the image; default: the archive's (docker-archive: RepoTags[0]'s tag; oci-archive: the entry's name), else "latest". */
  tag?: string;
  /** Expect this format instead of detecting it (an archive with `oci-layout` is an oci-archive, one with `manifest.json` a docker-archive). */
  format?: ArchiveFormat;
  /** Blobs stored at once (default 4). */
  parallel?: number;
}

export interface LoadResult {
  format: ArchiveFormat;
  tag: string;
  /** What the tag now points at. */
  descriptor: Descriptor;
  /** Blobs the layout did not have before. */
  added: number;
}

function detect(catalog: ArchiveCatalog, file: string, want: ArchiveFormat | undefined): ArchiveFormat {
  const oci = catalog.has('oci-layout') && catalog.has('index.json');
  const docker = catalog.has('manifest.json');
  if (want === 'oci-archive' && !oci) throw new OcikitError('VALIDATION_FAILED', `${file}: not an oci-archive (no oci-layout or index.json)`);
  if (want === 'docker-archive' && !docker) throw new OcikitError('VALIDATION_FAILED', `${file}: not a docker-archive (no manifest.json)`);
  if (want !== undefined) return want;
  if (oci) return 'oci-archive';
  if (docker) return 'docker-archive';
  throw new OcikitError('VALIDATION_FAILED', `${file}: neither a docker-archive nor an oci-archive (no manifest.json or oci-layout)`);
}

function tagOr(candidate: string | undefined): string {
  return candidate !== undefined && isValidRefName(candidate) ? candidate : DEFAULT_TAG;
}

/** Imports the archive `file` into the layout at `layoutPath`. */
export async function loadArchive(file: string, layoutPath: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const catalog = await ArchiveCatalog.read(file);
  const format = detect(catalog, file, opts.format);
  let tag: string;
  let run: (store: TrackedStore) => Promise<Descriptor>;
  if (format === 'docker-archive') {
    const image = await readDockerArchive(catalog);
    tag = opts.tag ?? tagOr(image.repoTags.length > 0 ? repoTagTag(image.repoTags[0]!) : undefined);
    run = (store) => storeDockerArchive(catalog, image, store, opts.parallel);
  } else {
    const entry = await readOciArchive(catalog, opts.tag);
    tag = opts.tag ?? tagOr(refName(entry));
    const { annotations, ...rest } = entry;
    const kept = { ...annotations };
    delete kept[ANNOTATION_REF_NAME];
    const desc: Descriptor = Object.keys(kept).length > 0 ? { ...rest, annotations: kept } : rest;
    run = async (store) => {
      await storeOciArchive(catalog, entry, store, opts.parallel);
      return desc;
    };
  }
  checkTagName(tag); // before the layout is touched

  const created = !(await pathExists(layoutPath));
  if (created) await Layout.create(layoutPath);
  try {
    const layout = await Layout.open(layoutPath);
    try {
      const store = new TrackedStore(layout);
      const descriptor = await layout.withLock('content', 'shared', async () => {
        try {
          const d = await run(store);
          await setTag(layout, tag, d);
          return d;
        } catch (err) {
          await store.undo();
          throw err;
        }
      });
      return { format, tag, descriptor, added: store.added.size };
    } finally {
      await layout.close();
    }
  } catch (err) {
    if (created) await rm(layoutPath, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}
