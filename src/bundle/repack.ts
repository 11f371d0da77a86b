/**
 * `repack`: the changes made in a bundle's rootfs since unpack, as one new
 * layer on the image the bundle came from (named by umoci.json), tagged.
 *
 * Changes are what the mtree comparison finds (content, type, owner, mode,
 * link target, link count, mtime in seconds, xattrs); an added directory
 * brings everything under it; a deleted path becomes a whiteout unless an
 * ancestor is deleted (or replaced by a non-directory) too. `--mask-path`
 * paths, and the image's volumes unless `--no-mask-volumes`, are left out.
 */
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { OcikitError } from '../errors.js';
import { components } from '../fs/secure-join.js';
import type { Descriptor } from '../oci/types.js';
import { sourceDateEpoch, unixSeconds } from '../oci/go-time.js';
import type { Layout } from '../store/layout.js';
import { readConfig, readManifest } from '../image/json-blob.js';
import { appendLayer, chooseCompression, storeLayer, type CompressFlag } from '../image/add-layer.js';
import type { HistoryOptions } from '../image/history.js';
import { commitImage } from '../image/mutate.js';
import type { DescriptorPath } from '../image/resolve.js';
import { checkTagName, setTag } from '../image/tags.js';
import { compareTree, type MtreeDifference } from '../mtree/compare.js';
import { withOpenedTree } from '../mtree/unpriv.js';
import { LayerGenerator } from '../layer/generate.js';
import { TarWriter } from '../layer/tar-writer.js';
import type { Logger } from '../util/log.js';
import { compareUtf8 } from '../util/byte-order.js';
import { collectGarbage } from '../util/gc.js';
import { readBundleMeta, writeBundleMeta } from './meta.js';
import { readBundleMtree, removeBundleMtree, writeBundleMtree } from './mtree-file.js';

export interface RepackOptions {
  compress: CompressFlag;
  history: HistoryOptions | false;
  maskPaths?: string[];
  noMaskVolumes?: boolean;
  refreshBundle?: boolean;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Called as work goes on: the phase, and for 'archive' the entries written so far of `total`. */
  onProgress?: (p: { phase: 'compare' | 'archive'; done: number; total: number }) => void;
}

export interface RepackResult {
  path: DescriptorPath;
  /** Paths written to the new layer (whiteouts as the path they hide); empty when nothing changed. */
  changes: Change[];
}

export interface Change {
  path: string;
  kind: 'add' | 'delete';
}

/** A mask path relative to the root, cleaned ("" masks nothing). */
function cleanMask(p: string): string {
  return components(p).join('/');
}

function stripDot(p: string): string {
  if (p === '.' || p === './') return '';
  return p.startsWith('./') ? p.slice(2) : p;
}

function under(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * Turns mtree differences into the sorted list of layer entries. The
 * comparison reports everything under an added directory as `extra` too, so
 * the differences alone name every path to archive.
 */
function changesFrom(diffs: MtreeDifference[], excluded: (rel: string) => boolean): Change[] {
  const adds = new Set<string>();
  const deletes: string[] = [];
  for (const d of diffs) {
    const rel = stripDot(d.path);
    if (rel === '' || excluded(rel)) {
      if (rel === '' && d.kind === 'modified') adds.add('');
      continue;
    }
    if (d.kind === 'missing') deletes.push(rel);
    else adds.add(rel);
  }
  deletes.sort(compareUtf8); // parents before children
  // Paths that were directories and are something else now: what was below them is gone with them.
  const notDirs = new Set<string>();
  for (const d of diffs) {
    const t = d.kind === 'modified' ? d.keys.find((k) => k.keyword === 'type') : undefined;
    if (t !== undefined && t.got !== 'dir') notDirs.add(stripDot(d.path));
  }
  const kept = new Set<string>();
  for (const del of deletes) {
    // Only the top-most deletion: a deleted ancestor, or one that is no longer a directory, already hides it.
    let hidden = false;
    for (let i = del.indexOf('/'); i > 0 && !hidden; i = del.indexOf('/', i + 1)) {
      const up = del.slice(0, i);
      hidden = kept.has(up) || (adds.has(up) && notDirs.has(up));
    }
    if (!hidden) kept.add(del);
  }
  const out: Change[] = [...[...adds].map((path) => ({ path, kind: 'add' as const })), ...[...kept].map((path) => ({ path, kind: 'delete' as const }))];
  return out.sort((a, b) => compareUtf8(a.path, b.path));
}

export async function repackBundle(layout: Layout, tag: string, bundle: string, opts: RepackOptions): Promise<RepackResult> {
  checkTagName(tag, 'tag');
  const meta = await readBundleMeta(bundle);
  const from = meta.from;
  const manifestDesc = from[from.length - 1];
  if (manifestDesc === undefined) throw new OcikitError('VALIDATION_FAILED', `bundle ${bundle}: umoci.json names no manifest`);
  const rootfs = join(bundle, 'rootfs');
  return layout.withLock('content', 'shared', async () => {
    let manifest;
    try {
      manifest = (await readManifest(layout, manifestDesc)).value;
    } catch (err) {
      if (err instanceof OcikitError && err.code === 'BLOB_NOT_FOUND') {
        throw new OcikitError('BLOB_NOT_FOUND', `bundle ${bundle} was unpacked from manifest ${manifestDesc.digest}, which is not in this layout (another layout, or removed by gc)`);
      }
      throw err;
    }
    const config = (await readConfig(layout, manifest.config)).value;
    const entries = await readBundleMtree(bundle, manifestDesc);
    collectGarbage();
    const masks = [...(opts.maskPaths ?? [])];
    if (!opts.noMaskVolumes) masks.push(...Object.keys(config.config?.Volumes ?? {}));
    const cleanMasks = masks.map(cleanMask).filter((m) => m !== '');
    const excluded = (rel: string): boolean => cleanMasks.some((m) => under(rel, m));
    // A rootless bundle owned by an unprivileged user may hold directories it
    // cannot read: open them up for the diff and the archive (not as root).
    const { changes, layer } = await withOpenedTree(rootfs, async (modeOverride) => {
      opts.onProgress?.({ phase: 'compare', done: 0, total: entries.length });
      const diffs = await compareTree(rootfs, entries, { exclude: excluded, modeOverride });
      const changes = changesFrom(diffs, excluded);
      collectGarbage();
      const sde = sourceDateEpoch(opts.env);
      const compression = chooseCompression(opts.compress, manifest);
      const layer =
        changes.length === 0
          ? undefined
          : await storeLayer(layout, compression, async (out: Writable) => {
              const writer = new TarWriter(out);
              const gen = new LayerGenerator(writer, { mapOptions: meta.mapOptions, clampMtime: sde === undefined ? undefined : Number(unixSeconds(sde)), log: opts.log, modeOverride });
              for (const [i, c] of changes.entries()) {
                if (i % 100 === 0) opts.onProgress?.({ phase: 'archive', done: i, total: changes.length });
                if (c.kind === 'delete') await gen.addWhiteout(c.path);
                else await gen.addPath(c.path === '' ? rootfs : join(rootfs, c.path), c.path === '' ? '.' : c.path);
              }
              await writer.finish();
            });
      return { changes, layer };
    });
    const edited = appendLayer(manifest, config, { layer, history: opts.history, createdBy: 'umoci repack', authorFromImage: true, env: opts.env });
    const fresh = await commitImage(layout, from as DescriptorPath, edited.manifest, edited.config);
    await setTag(layout, tag, fresh[0]!);
    if (opts.refreshBundle) {
      const newManifest: Descriptor = fresh[fresh.length - 1]!;
      if (newManifest.digest !== manifestDesc.digest) {
        await writeBundleMtree(bundle, newManifest);
        await removeBundleMtree(bundle, manifestDesc);
      }
      await writeBundleMeta(bundle, { ...meta, from: fresh });
    }
    return { path: fresh, changes };
  });
}
