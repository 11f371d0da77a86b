import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gc } from '../../src/image/gc.js';
import { removeTag } from '../../src/image/tags.js';
import { mountImage, umountImage } from '../../src/mount/mount.js';
import { cachePaths, layerKey } from '../../src/mount/paths.js';
import { mapOptionsFrom } from '../../src/runtime/id-map.js';
import { addImage, makeTarLayer } from '../helpers/layer-builder.js';
import { makeLayout } from '../helpers/layout-builder.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { addMountImage, forceUnmount, overlaySkip } from './fixture.js';

const skip = overlaySkip();
const mapOptions = mapOptionsFrom({ rootless: false, uidMap: [], gidMap: [] });
const key = (diffId: string): string => layerKey(diffId, { mapOptions, opaqueXattr: 'trusted.overlay.opaque' });

describe('gc of the mount layer cache', { skip }, () => {
  test('removes layers no image references, keeps those a live mount uses, sweeps temporaries and dangling links', async (t) => {
    const tmp = await makeTmpDir();
    t.after(async () => {
      for (const n of ['a', 'b']) forceUnmount(join(tmp.path, n));
      await tmp.cleanup();
    });
    const layout = await makeLayout(t);
    const cache = cachePaths(layout.root);
    const a = await addMountImage(layout, 'a');
    const b = await addImage(layout, 'b', [{ bytes: await makeTarLayer([{ name: 'b', body: 'b' }]), compression: 'none' }]);
    const c = await addImage(layout, 'c', [{ bytes: await makeTarLayer([{ name: 'c', body: 'c' }]), compression: 'none' }]);
    await mountImage(layout, 'a', join(tmp.path, 'a'), { mapOptions });
    await umountImage(join(tmp.path, 'a'));
    await mountImage(layout, 'b', join(tmp.path, 'b'), { mapOptions });
    await umountImage(join(tmp.path, 'b'));
    await mountImage(layout, 'c', join(tmp.path, 'b'), { mapOptions });
    await mkdir(join(cache.layers, '.ocikit-tmp-0123456789abcdef-dead'));
    assert.equal((await readdir(cache.links)).length, 5);

    await removeTag(layout, 'b');
    await removeTag(layout, 'c');
    const r = await gc(layout);
    assert.deepEqual(r.removedLayerDirs, [key(b.diffIds[0]!)], 'c is mounted: its layer stays');
    assert.deepEqual((await readdir(cache.layers)).sort(), [...a.diffIds, c.diffIds[0]!].map(key).sort());
    const targets = await Promise.all((await readdir(cache.links)).map((n) => readlink(join(cache.links, n))));
    assert.equal(targets.length, 4, 'the link to the removed layer is gone');
    assert.deepEqual(await readdir(join(tmp.path, 'b')), ['c'], 'the live mount still works');

    await umountImage(join(tmp.path, 'b'));
    const r2 = await gc(layout);
    assert.deepEqual(r2.removedLayerDirs, [key(c.diffIds[0]!)]);
    assert.deepEqual(await readdir(cache.mounts), []);
    assert.deepEqual((await gc(layout)).removedLayerDirs, []);
  });

  test('a layout without a cache: nothing to sweep', async (t) => {
    const layout = await makeLayout(t);
    await addMountImage(layout);
    assert.equal((await gc(layout)).removedLayerDirs, undefined);
  });
});
