/**
 * unpack → edit → repack through the library: which changes land in the new
 * layer (as tar entries and whiteouts), masks and volumes, an unchanged
 * rootfs, --refresh-bundle, and insert's layers. Each new image is unpacked
 * again to check the result as a tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, rm, symlink, writeFile, lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { Layout } from '../../src/store/layout.js';
import { readBlob } from '../../src/store/blobs.js';
import { resolveImage, unpackBundle } from '../../src/bundle/unpack.js';
import { repackBundle } from '../../src/bundle/repack.js';
import { readBundleMeta } from '../../src/bundle/meta.js';
import { insertLayer } from '../../src/image/insert.js';
import { TarReader } from '../../src/layer/tar-reader.js';
import type { MapOptions } from '../../src/runtime/id-map.js';
import { addImage, makeTarLayer, gzipLayer } from '../helpers/layer-builder.js';
import { makeLayout } from '../helpers/layout-builder.js';
import { makeTmpDir } from '../helpers/tmp.js';

const MAPS: MapOptions = { uidMappings: [], gidMappings: [], rootless: false };
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

async function base(layout: Layout, volumes: Record<string, object> = {}): Promise<void> {
  const tar = await makeTarLayer([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/keep', body: 'keep\n' },
    { name: 'etc/change', body: 'old\n' },
    { name: 'etc/gone', body: 'gone\n' },
    { name: 'tree/', type: 'directory' },
    { name: 'tree/a', body: 'a' },
    { name: 'tree/sub/', type: 'directory' },
    { name: 'tree/sub/b', body: 'b' },
    { name: 'vol/', type: 'directory' },
    { name: 'vol/data', body: 'd' },
    { name: 'link', type: 'symlink', linkname: 'etc/keep' },
  ]);
  await addImage(layout, 'base', [{ bytes: gzipLayer(tar), compression: 'gzip' }], { config: { Volumes: volumes } } as never);
}

/** The entries of the image's last layer: name → type (or 'whiteout'). */
async function lastLayer(layout: Layout, tag: string): Promise<Map<string, string>> {
  const img = await resolveImage(layout, tag);
  const desc = img.manifest.layers[img.manifest.layers.length - 1]!;
  const bytes = gunzipSync(await readBlob(layout, desc, 1 << 30));
  const r = new TarReader(Readable.from([bytes]));
  const out = new Map<string, string>();
  for (let h = await r.next(); h !== null; h = await r.next()) {
    const base = h.name.split('/').filter(Boolean).at(-1) ?? h.name;
    out.set(h.name, base.startsWith('.wh.') ? 'whiteout' : h.type);
  }
  return out;
}

test('repack writes exactly the changes, with whiteouts only at the top of a deleted tree', async (t) => {
  const layout = await makeLayout(t);
  const tmp = await makeTmpDir(t);
  await base(layout);
  const bundle = join(tmp.path, 'b');
  await unpackBundle(layout, 'base', bundle, { mapOptions: MAPS });
  const rootfs = join(bundle, 'rootfs');
  await writeFile(join(rootfs, 'etc/change'), 'new content\n');
  await rm(join(rootfs, 'etc/gone'));
  await rm(join(rootfs, 'tree'), { recursive: true });
  await mkdir(join(rootfs, 'added/deep'), { recursive: true });
  await writeFile(join(rootfs, 'added/deep/f'), 'f');
  await rm(join(rootfs, 'link'));
  await symlink('etc/change', join(rootfs, 'link'));
  const r = await repackBundle(layout, 'next', bundle, { compress: 'gzip', history: {}, env: ENV });
  const layer = await lastLayer(layout, 'next');
  assert.deepEqual(
    [...layer.entries()].filter(([n]) => n !== '.').sort(),
    [
      ['added/', 'dir'],
      ['added/deep/', 'dir'],
      ['added/deep/f', 'file'],
      ['etc/', 'dir'],
      ['etc/.wh.gone', 'whiteout'],
      ['etc/change', 'file'],
      ['link', 'symlink'],
      ['.wh.tree', 'whiteout'],
    ].sort(),
  );
  assert.equal(r.changes.some((c) => c.path.startsWith('tree/')), false);
  // The new image unpacks to the edited tree; the source tag is untouched.
  const again = join(tmp.path, 'again');
  await unpackBundle(layout, 'next', again, { mapOptions: MAPS });
  assert.equal(await readFile(join(again, 'rootfs/etc/change'), 'utf8'), 'new content\n');
  assert.equal(await readlink(join(again, 'rootfs/link')), 'etc/change');
  await assert.rejects(lstat(join(again, 'rootfs/tree')));
  await assert.rejects(lstat(join(again, 'rootfs/etc/gone')));
  assert.equal((await resolveImage(layout, 'base')).manifest.layers.length, 1);
  const img = await resolveImage(layout, 'next');
  assert.equal(img.config.history?.at(-1)?.created_by, 'umoci repack');
  assert.equal(img.config.history?.at(-1)?.created, '2023-11-14T22:13:20Z');
  assert.equal(img.config.rootfs.diff_ids?.length, 2);
});

test('repack leaves out --mask-path and the image volumes (unless --no-mask-volumes)', async (t) => {
  const layout = await makeLayout(t);
  const tmp = await makeTmpDir(t);
  await base(layout, { '/vol': {} });
  const bundle = join(tmp.path, 'b');
  await unpackBundle(layout, 'base', bundle, { mapOptions: MAPS });
  await writeFile(join(bundle, 'rootfs/vol/data'), 'changed');
  await writeFile(join(bundle, 'rootfs/etc/keep'), 'changed');
  await writeFile(join(bundle, 'rootfs/etc/change'), 'changed');
  await repackBundle(layout, 'masked', bundle, { compress: 'gzip', history: {}, maskPaths: ['/etc/keep'], env: ENV });
  const masked = await lastLayer(layout, 'masked');
  assert.ok(masked.has('etc/change'));
  assert.ok(!masked.has('etc/keep'));
  assert.ok(!masked.has('vol/data'));
  await repackBundle(layout, 'all', bundle, { compress: 'gzip', history: {}, noMaskVolumes: true, env: ENV });
  const all = await lastLayer(layout, 'all');
  assert.ok(all.has('vol/data'));
  assert.ok(all.has('etc/keep'));
});

test('an unchanged rootfs adds no layer, only an empty_layer history entry', async (t) => {
  const layout = await makeLayout(t);
  const tmp = await makeTmpDir(t);
  await base(layout);
  const bundle = join(tmp.path, 'b');
  await unpackBundle(layout, 'base', bundle, { mapOptions: MAPS });
  const r = await repackBundle(layout, 'same', bundle, { compress: 'gzip', history: {}, env: ENV });
  assert.equal(r.changes.length, 0);
  const img = await resolveImage(layout, 'same');
  assert.equal(img.manifest.layers.length, 1);
  assert.equal(img.config.history?.at(-1)?.empty_layer, true);
});

test('the same edits give the same layer digest (deterministic)', async (t) => {
  const layout = await makeLayout(t);
  const tmp = await makeTmpDir(t);
  await base(layout);
  const digests: string[] = [];
  for (const n of ['x', 'y']) {
    const bundle = join(tmp.path, n);
    await unpackBundle(layout, 'base', bundle, { mapOptions: MAPS });
    await writeFile(join(bundle, 'rootfs/etc/change'), 'same edit\n');
    await chmod(join(bundle, 'rootfs/etc/keep'), 0o600);
    await repackBundle(layout, n, bundle, { compress: 'gzip', history: {}, env: ENV });
    digests.push((await resolveImage(layout, n)).manifest.layers.at(-1)!.digest);
  }
  assert.equal(digests[0], digests[1]);
});

test('--refresh-bundle points the bundle at the new image', async (t) => {
  const layout = await makeLayout(t);
  const tmp = await makeTmpDir(t);
  await base(layout);
  const bundle = join(tmp.path, 'b');
  await unpackBundle(layout, 'base', bundle, { mapOptions: MAPS });
  await writeFile(join(bundle, 'rootfs/new'), 'n');
  const r = await repackBundle(layout, 'next', bundle, { compress: 'gzip', history: {}, refreshBundle: true, env: ENV });
  const meta = await readBundleMeta(bundle);
  assert.equal(meta.from.at(-1)!.digest, r.path.at(-1)!.digest);
  const mtrees = (await readdir(bundle)).filter((n) => n.endsWith('.mtree'));
  assert.deepEqual(mtrees, [`${r.path.at(-1)!.digest.replace(':', '_')}.mtree`]);
  // Nothing changed since the refresh: the next repack finds no change.
  const again = await repackBundle(layout, 'next2', bundle, { compress: 'gzip', history: {}, env: ENV });
  assert.equal(again.changes.length, 0);
});

test('insert adds a directory tree, a whiteout, or an opaque directory', async (t) => {
  const layout = await makeLayout(t);
  const tmp = await makeTmpDir(t);
  await base(layout);
  const src = join(tmp.path, 'src');
  await mkdir(join(src, 'd'), { recursive: true });
  await writeFile(join(src, 'd/x'), 'x');
  await insertLayer(layout, 'base', { source: src, target: '/tree', opaque: true, compress: 'auto', history: {}, mapOptions: MAPS, tag: 'ins', env: ENV });
  await insertLayer(layout, 'ins', { target: '/etc/keep', whiteout: true, compress: 'auto', history: {}, mapOptions: MAPS, env: ENV });
  const bundle = join(tmp.path, 'b');
  await unpackBundle(layout, 'ins', bundle, { mapOptions: MAPS });
  const rootfs = join(bundle, 'rootfs');
  assert.deepEqual((await readdir(join(rootfs, 'tree'))).sort(), ['d']);
  assert.equal(await readFile(join(rootfs, 'tree/d/x'), 'utf8'), 'x');
  await assert.rejects(lstat(join(rootfs, 'etc/keep')));
  const img = await resolveImage(layout, 'ins');
  assert.equal(img.config.history?.at(-1)?.created_by, 'umoci insert');
  assert.equal(img.manifest.layers.length, 3);
});
