/**
 * `insert` and `raw add-layer`: a new layer made from files on the host, or
 * a tar taken verbatim, appended to a tagged image.
 */
import { createReadStream } from 'node:fs';
import { access, lstat, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { OcikitError, errnoCode } from '../errors.js';
import { sourceDateEpoch, unixSeconds } from '../oci/go-time.js';
import type { Layout } from '../store/layout.js';
import type { MapOptions } from '../runtime/id-map.js';
import { LayerGenerator } from '../layer/generate.js';
import { TarWriter } from '../layer/tar-writer.js';
import type { Logger } from '../util/log.js';
import { compareUtf8 } from '../util/byte-order.js';
import { appendToTag, chooseCompression, readTagged, storeLayer, type CompressFlag } from './add-layer.js';
import type { HistoryOptions } from './history.js';
import type { DescriptorPath } from './resolve.js';
import { checkTagName } from './tags.js';

export interface InsertOptions {
  /** Host path to add; undefined with `whiteout`. */
  source?: string;
  /** Path inside the image. */
  target: string;
  whiteout?: boolean;
  opaque?: boolean;
  tag?: string;
  compress: CompressFlag;
  history: HistoryOptions | false;
  mapOptions: MapOptions;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
}

/** TARGET relative to the image root, cleaned; ".." may not climb above it. */
export function cleanTarget(target: string): string {
  const out: string[] = [];
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw new OcikitError('USAGE', `insert target ${JSON.stringify(target)} escapes the image root`);
      out.pop();
    } else out.push(c);
  }
  return out.join('/');
}

async function addTree(gen: LayerGenerator, host: string, name: string): Promise<void> {
  await gen.addPath(host, name);
  const st = await lstat(host);
  if (!st.isDirectory()) return;
  const names = (await readdir(host)).sort(compareUtf8);
  for (const n of names) await addTree(gen, join(host, n), name === '.' ? n : `${name}/${n}`);
}

export async function insertLayer(layout: Layout, fromTag: string, opts: InsertOptions): Promise<DescriptorPath> {
  const target = cleanTarget(opts.target);
  const tag = opts.tag ?? fromTag;
  checkTagName(tag, 'new tag');
  if (opts.whiteout && target === '') throw new OcikitError('USAGE', 'insert --whiteout: the image root cannot be whited out');
  if (!opts.whiteout) {
    if (opts.source === undefined) throw new OcikitError('USAGE', 'insert: missing SOURCE');
    try {
      await lstat(opts.source);
    } catch (err) {
      throw new OcikitError('USAGE', `cannot read source ${opts.source}: ${errnoCode(err) ?? (err as Error).message}`);
    }
  }
  const sde = sourceDateEpoch(opts.env);
  return layout.withLock('content', 'shared', async () => {
    const base = await readTagged(layout, fromTag);
    const layer = await storeLayer(layout, chooseCompression(opts.compress, base.manifest), async (out: Writable) => {
      const writer = new TarWriter(out);
      const gen = new LayerGenerator(writer, { mapOptions: opts.mapOptions, clampMtime: sde === undefined ? undefined : Number(unixSeconds(sde)), log: opts.log });
      if (opts.whiteout) await gen.addWhiteout(target);
      else {
        if (opts.opaque) await gen.addOpaque(target);
        await addTree(gen, opts.source!, target === '' ? '.' : target);
      }
      await writer.finish();
    });
    return appendToTag(layout, fromTag, tag, { layer, history: opts.history, createdBy: 'umoci insert', authorFromImage: false, env: opts.env });
  });
}

export interface AddLayerOptions {
  tag?: string;
  compress: CompressFlag;
  history: HistoryOptions | false;
  env?: NodeJS.ProcessEnv;
}

/** `raw add-layer`: an uncompressed tar appended verbatim (not checked, as umoci does). */
export async function addTarLayer(layout: Layout, fromTag: string, tarPath: string, opts: AddLayerOptions): Promise<DescriptorPath> {
  const tag = opts.tag ?? fromTag;
  checkTagName(tag, 'new tag');
  try {
    await access(tarPath, constants.R_OK);
  } catch (err) {
    throw new OcikitError('USAGE', `cannot read layer archive ${tarPath}: ${errnoCode(err) ?? (err as Error).message}`);
  }
  return layout.withLock('content', 'shared', async () => {
    const base = await readTagged(layout, fromTag);
    const layer = await storeLayer(layout, chooseCompression(opts.compress, base.manifest), (out) => pipeline(createReadStream(tarPath), out));
    return appendToTag(layout, fromTag, tag, { layer, history: opts.history, createdBy: 'umoci raw add-layer', authorFromImage: true, env: opts.env });
  });
}
