/**
 * `save`: one tagged image of a layout as a docker-archive or oci-archive,
 * written to a file (atomically: nothing stands under FILE until the archive
 * is complete) or to a stream. Everything that can fail on the image's side
 * (tag resolution, diff_id checks, unreadable manifests) is checked before
 * any output exists. The layout's content lock is held (shared) throughout,
 * so a concurrent gc cannot remove blobs being read.
 */
import { OcikitError } from '../errors.js';
import { resolveTag } from '../image/resolve.js';
import { TarWriter } from '../layer/tar-writer.js';
import type { Descriptor } from '../oci/types.js';
import { Layout } from '../store/layout.js';
import { planDockerArchive, writeDockerArchive } from './docker-save.js';
import { dockerRepoTag, repoTagTag } from './docker-name.js';
import { fileOutput, streamOutput, type ArchiveOutput } from './output-file.js';
import { planOciArchive, writeOciArchive } from './oci-save.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** Checks a `--format` value. */
export function parseArchiveFormat(value: string): ArchiveFormat {
  if (value === 'docker-archive' || value === 'oci-archive') return value;
  throw new OcikitError('USAGE', `invalid --format ${JSON.stringify(value)}: expected docker-archive or oci-archive`);
}

export interface SaveOptions {
  /** Default docker-archive. */
  format?: ArchiveFormat;
  /** docker-archive: the `RepoTags` entry, `<repository>:<tag>` (default: from the layout's directory name and the tag, see docker-name.ts). */
  repoTag?: string;
  /** Compressed layers measured at once (docker-archive; default 4). */
  parallel?: number;
  /** Stops the save ("interrupted"); a file target is then not created. */
  signal?: AbortSignal;
}

export interface SaveResult {
  format: ArchiveFormat;
  /** What the tag points at in the layout (docker-archive: the image manifest). */
  descriptor: Descriptor;
  /** docker-archive only. */
  repoTag?: string;
  /** Archive size. */
  bytes: number;
}

/**
 * Writes image `tag` of the layout at `layoutPath` to `target`: a file path
 * (written through a temporary file beside it and renamed) or a stream, which
 * is written to but not ended.
 */
export async function saveImage(layoutPath: string, tag: string, target: string | NodeJS.WritableStream, opts: SaveOptions = {}): Promise<SaveResult> {
  const format = opts.format ?? 'docker-archive';
  const layout = await Layout.open(layoutPath);
  try {
    return await layout.withLock('content', 'shared', async () => {
      let write: (tar: TarWriter) => Promise<void>;
      let result: Omit<SaveResult, 'bytes'>;
      if (format === 'docker-archive') {
        const path = await resolveTag(layout, tag);
        const descriptor = path[path.length - 1]!;
        const repoTag = opts.repoTag ?? dockerRepoTag(layoutPath, tag);
        if (repoTagTag(repoTag) === undefined) throw new OcikitError('USAGE', `invalid repoTag ${JSON.stringify(repoTag)}: expected <repository>:<tag>`);
        const plan = await planDockerArchive(layout, descriptor, repoTag, opts);
        write = (tar) => writeDockerArchive(layout, plan, tar, opts.signal);
        result = { format, descriptor, repoTag };
      } else {
        const plan = await planOciArchive(layout, tag);
        write = (tar) => writeOciArchive(layout, plan, tar, opts.signal);
        const { annotations: _, ...descriptor } = plan.entry;
        result = { format, descriptor };
      }
      const out: ArchiveOutput = typeof target === 'string' ? await fileOutput(target) : streamOutput(target);
      const tar = new TarWriter(out.stream);
      try {
        await write(tar);
        await tar.finish();
        await out.commit();
      } catch (err) {
        await out.abort();
        throw err;
      }
      return { ...result, bytes: tar.bytesWritten };
    });
  } finally {
    await layout.close();
  }
}
