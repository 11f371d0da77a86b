/**
 * The bundle's mtree manifest, `sha256_<manifest hex>.mtree`: written by
 * unpack (and by repack --refresh-bundle) from a walk of rootfs/, read back
 * by repack to find what changed.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { formatMtree } from '../mtree/format.js';
import { parseMtree } from '../mtree/parse.js';
import type { MtreeEntry } from '../mtree/spec.js';
import { formatMode, walkTree } from '../mtree/walk.js';
import type { WrittenFile } from '../layer/extract.js';
import { collectGarbage } from '../util/gc.js';

/** The file name for a manifest: its digest with ':' made '_', plus ".mtree". */
export function mtreeName(manifest: Descriptor): string {
  return `${manifest.digest.replace(':', '_')}.mtree`;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}

/**
 * Walks `<bundle>/rootfs` and writes the manifest (0644, never over an
 * existing file). `written` lets the walk take the digests the extractor
 * computed instead of reading those files again.
 */
export async function writeBundleMtree(bundle: string, manifest: Descriptor, extractor?: { written: Map<string, WrittenFile>; deferredModes: Map<string, number> }): Promise<string> {
  const rootfs = join(bundle, 'rootfs');
  const written = extractor?.written;
  collectGarbage();
  const entries = await walkTree(rootfs, {
    digestHint:
      written === undefined
        ? undefined
        : (rel, st) => {
            const w = written.get(rel);
            if (w === undefined) return undefined;
            return st.ino === w.ino && st.size === w.size && st.ctimeNs === w.ctimeNs ? w.sha256 : undefined;
          },
  });
  // Rootless directories still carry owner rwx for the walk; record the image's modes.
  for (const e of entries) {
    const mode = extractor?.deferredModes.get(e.path === '.' ? '' : e.path);
    if (mode !== undefined && e.keywords.has('mode')) e.keywords.set('mode', formatMode(mode));
  }
  collectGarbage();
  const text = formatMtree(entries, { user: currentUser(), machine: hostname().split('.')[0] ?? '', tree: rootfs, date: new Date() });
  const path = join(bundle, mtreeName(manifest));
  await writeFile(path, text, { flag: 'wx', mode: 0o644 });
  return path;
}

/** Reads the manifest unpack wrote for `manifest`. */
export async function readBundleMtree(bundle: string, manifest: Descriptor): Promise<MtreeEntry[]> {
  const path = join(bundle, mtreeName(manifest));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new OcikitError('VALIDATION_FAILED', `bundle ${bundle} has no mtree manifest ${mtreeName(manifest)}: it was not unpacked from this image`);
    }
    throw err;
  }
  return parseMtree(text);
}

export async function removeBundleMtree(bundle: string, manifest: Descriptor): Promise<void> {
  await rm(join(bundle, mtreeName(manifest)), { force: true });
}
