/**
 * Mark and sweep: every blob not reachable from an `index.json` entry (tagged
 * or not) is removed, and so are temporary files left by killed writers.
 * Runs holding the layout's content lock exclusively, so no ocikit writer is
 * between putting a blob and referencing it while gc sweeps.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { wrap } from '../errors.js';
import { listBlobs, sweepBlobs } from '../store/blobs.js';
import { readIndex } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';
import { TEMP_PREFIX } from '../util/fsync.js';
import { walkReachable } from './walk.js';

export interface GcResult {
  removedBlobs: string[];
  removedBytes: number;
  removedTemp: string[];
}

/** umoci's temporary directories are only alive for one command; older ones are leftovers. */
const UMOCI_TEMP_AGE_MS = 60 * 60 * 1000;

export async function gc(layout: Layout): Promise<GcResult> {
  return layout.withLock('content', 'exclusive', () =>
    layout.withLock('index', 'exclusive', async () => {
      const index = await readIndex(layout);
      const reachable = await walkReachable(layout, index.manifests);
      const result: GcResult = { removedBlobs: [], removedBytes: 0, removedTemp: [] };
      const doomed = (await listBlobs(layout)).filter((d) => !reachable.has(d));
      const swept = sweepBlobs(layout, doomed);
      result.removedBlobs = swept.removed;
      result.removedBytes = swept.bytes;
      result.removedBlobs.sort();
      result.removedTemp = await removeTemp(layout.root);
      return result;
    }),
  );
}

async function removeTemp(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root)) {
    const path = join(root, name);
    try {
      if (name.startsWith(TEMP_PREFIX)) {
        await rm(path, { recursive: true, force: true });
        removed.push(name);
      } else if (name.startsWith('.umoci-')) {
        const st = await lstat(path);
        if (Date.now() - st.mtimeMs > UMOCI_TEMP_AGE_MS) {
          await rm(path, { recursive: true, force: true });
          removed.push(name);
        }
      }
    } catch (err) {
      throw wrap(`remove temporary ${name}`, err);
    }
  }
  return removed;
}
