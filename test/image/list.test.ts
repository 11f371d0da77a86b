import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { listImages } from '../../src/image/list.js';
import {
  addRoots, addTag, flipByte, makeLayout, MT, onPlatform, putBytes, putImage, putIndex, removeBlobFile, tagged,
} from '../helpers/layout-builder.js';

describe('listImages', () => {
  test('lists nothing for an empty layout', async (t) => {
    const layout = await makeLayout(t);
    assert.deepEqual(await listImages(layout), []);
  });

  test('sums manifest, config and layer sizes and reads created and platform from the config', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, {
      layers: ['first layer', 'second, longer layer'],
      config: { created: '2021-02-03T04:05:06.789Z', os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    await addTag(layout, 'v1', img.manifest);
    const size = img.manifest.size + img.config.size + img.layers.reduce((n, l) => n + l.size, 0);
    assert.deepEqual(await listImages(layout), [
      { tag: 'v1', digest: img.manifest.digest, mediaType: MT.manifest, size, created: '2021-02-03T04:05:06.789Z', platform: 'linux/arm64/v8' },
    ]);
  });

  test('leaves out created when the config has none, and the variant when there is none', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { rawConfig: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } });
    await addTag(layout, 'bare', img.manifest);
    const [s] = await listImages(layout);
    assert.equal(s?.created, undefined);
    assert.ok(!('created' in s!));
    assert.equal(s?.platform, 'linux/amd64');
  });

  test('sums an index and its manifests and lists each platform, "?" for one without', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout, { config: { architecture: 'amd64' } });
    const b = await putImage(layout, { config: { architecture: 'arm' } });
    const c = await putImage(layout, { config: { architecture: 'riscv64' } });
    const idx = await putIndex(layout, [
      onPlatform(a.manifest, { os: 'linux', architecture: 'amd64' }),
      onPlatform(b.manifest, { os: 'linux', architecture: 'arm', variant: 'v7' }),
      c.manifest,
    ]);
    await addTag(layout, 'multi', idx);
    const [s] = await listImages(layout);
    assert.deepEqual(s, {
      tag: 'multi',
      digest: idx.digest,
      mediaType: MT.index,
      size: idx.size + a.manifest.size + b.manifest.size + c.manifest.size,
      platform: 'linux/amd64,linux/arm/v7,?',
    });
  });

  test('lists tags in index.json order, duplicates kept, untagged entries skipped', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout, { config: { author: 'a' } });
    const b = await putImage(layout, { config: { author: 'b' } });
    await addRoots(layout, tagged(b.manifest, 'z'), a.manifest, tagged(a.manifest, 'a'), tagged(b.manifest, 'z'));
    assert.deepEqual((await listImages(layout)).map((s) => [s.tag, s.digest]), [
      ['z', b.manifest.digest],
      ['a', a.manifest.digest],
      ['z', b.manifest.digest],
    ]);
  });

  test('lists a Docker manifest and manifest list like their OCI equivalents', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig, layerMediaType: MT.dockerLayer, layers: ['d'] });
    const list = await putIndex(layout, [onPlatform(img.manifest, { os: 'linux', architecture: 'amd64' })], { mediaType: MT.dockerList });
    await addRoots(layout, tagged(img.manifest, 'm'), tagged(list, 'l'));
    const [m, l] = await listImages(layout);
    assert.equal(m?.size, img.manifest.size + img.config.size + img.layers[0]!.size);
    assert.equal(m?.platform, 'linux/amd64');
    assert.equal(l?.platform, 'linux/amd64');
    assert.equal(m?.error, undefined);
    assert.equal(l?.error, undefined);
  });

  test('lists an entry of unknown media type with its own size only', async (t) => {
    const layout = await makeLayout(t);
    const odd = await putBytes(layout, 'opaque', MT.unknown);
    await addTag(layout, 'odd', odd);
    assert.deepEqual(await listImages(layout), [{ tag: 'odd', digest: odd.digest, mediaType: MT.unknown, size: odd.size }]);
  });

  test('reports an unreadable entry in `error` and goes on with the others', async (t) => {
    const layout = await makeLayout(t);
    const good = await putImage(layout, { config: { author: 'good' } });
    const missing = await putImage(layout, { config: { author: 'missing' } });
    const flipped = await putImage(layout, { config: { author: 'flipped' } });
    const hostile = await putImage(layout, { embeddedMediaType: MT.index, config: { author: 'hostile' } });
    await removeBlobFile(layout, missing.manifest.digest);
    await flipByte(layout, flipped.config.digest, 2);
    await addRoots(
      layout,
      tagged(missing.manifest, 'missing'),
      tagged(flipped.manifest, 'flipped'),
      tagged(hostile.manifest, 'hostile'),
      tagged(good.manifest, 'good'),
    );
    const list = await listImages(layout);
    assert.deepEqual(list.map((s) => s.tag), ['missing', 'flipped', 'hostile', 'good']);
    const [m, f, h, g] = list;
    assert.match(m?.error ?? '', /blob not found/);
    assert.match(f?.error ?? '', /digest mismatch/);
    assert.match(h?.error ?? '', /differs from its descriptor/);
    assert.equal(g?.error, undefined);
    assert.equal(g?.platform, 'linux/amd64');
    // An entry that failed keeps what index.json said about it.
    assert.equal(m?.size, missing.manifest.size);
    assert.equal(m?.digest, missing.manifest.digest);
  });
});
