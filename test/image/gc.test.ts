import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gc } from '../../src/image/gc.js';
import type { Descriptor } from '../../src/oci/types.js';
import type { Layout } from '../../src/store/layout.js';
import {
  addRoots, addTag, blobFiles, flipByte, indexBytes, makeLayout, MT, putBytes, putImage, putIndex, putIndexCycle, removeBlobFile, rootEntries,
  type BuiltImage,
} from '../helpers/layout-builder.js';
import { hasCode } from '../helpers/assert.js';


const hex = (d: Descriptor | string): string => (typeof d === 'string' ? d : d.digest).slice('sha256:'.length);
const blobsOf = (img: BuiltImage): string[] => [img.manifest, img.config, ...img.layers].map(hex);

async function assertStored(layout: Layout, names: string[], what: string): Promise<void> {
  const files = await blobFiles(layout);
  for (const n of names) assert.ok(files.includes(n), `${what}: ${n} is gone`);
}

describe('gc', () => {
  test('removes unreachable blobs only and reports them with their bytes', async (t) => {
    const layout = await makeLayout(t);
    const kept = await putImage(layout, { layers: ['kept layer'] });
    await addTag(layout, 'kept', kept.manifest);
    const orphanImage = await putImage(layout, { layers: ['orphan layer'], config: { author: 'orphan' } });
    const orphanBlob = await putBytes(layout, 'stray bytes', MT.layer);
    const doomed = [...blobsOf(orphanImage), hex(orphanBlob)].sort();
    const doomedBytes = [orphanImage.manifest, orphanImage.config, ...orphanImage.layers, orphanBlob].reduce((n, d) => n + d.size, 0);

    const result = await gc(layout);
    assert.deepEqual(result.removedBlobs, doomed.map((h) => `sha256:${h}`));
    assert.equal(result.removedBytes, doomedBytes);
    assert.deepEqual(await blobFiles(layout), blobsOf(kept).sort());
  });

  test('treats untagged index.json entries as roots', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { layers: ['x'] });
    await addRoots(layout, img.manifest);
    assert.deepEqual((await gc(layout)).removedBlobs, []);
    await assertStored(layout, blobsOf(img), 'untagged image');
  });

  test('keeps blobs reachable through nested indexes', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout, { layers: ['a'] });
    const b = await putImage(layout, { layers: ['b'], config: { architecture: 'arm64' } });
    const inner = await putIndex(layout, [a.manifest, b.manifest]);
    const outer = await putIndex(layout, [inner]);
    await addTag(layout, 'nested', outer);
    assert.deepEqual((await gc(layout)).removedBlobs, []);
    await assertStored(layout, [...blobsOf(a), ...blobsOf(b), hex(inner), hex(outer)], 'nested');
  });

  test('keeps the subject of a manifest and of an index, and what the subject references', async (t) => {
    const layout = await makeLayout(t);
    const base = await putImage(layout, { layers: ['base'] });
    const other = await putImage(layout, { layers: ['other'], config: { author: 'other' } });
    const referrer = await putImage(layout, { subject: base.manifest, config: { author: 'sig' } });
    const indexReferrer = await putIndex(layout, [], { subject: other.manifest });
    await addRoots(layout, referrer.manifest, indexReferrer);
    assert.deepEqual((await gc(layout)).removedBlobs, []);
    await assertStored(layout, [...blobsOf(base), ...blobsOf(other), ...blobsOf(referrer), hex(indexReferrer)], 'subject');
  });

  test('keeps referenced blobs of unknown media type without parsing them', async (t) => {
    const layout = await makeLayout(t);
    const odd = await putBytes(layout, '{"manifests": "this is not parsed", "layers": 1}', MT.unknown);
    const rootOdd = await putBytes(layout, '\x00\x01 binary root', MT.unknown);
    const img = await putImage(layout, { extraLayers: [odd] });
    await addRoots(layout, img.manifest, rootOdd);
    assert.deepEqual((await gc(layout)).removedBlobs, []);
    await assertStored(layout, [hex(odd), hex(rootOdd)], 'unknown type');
  });

  test('keeps Docker images whole', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig, layerMediaType: MT.dockerLayer, layers: ['d'] });
    const list = await putIndex(layout, [img.manifest], { mediaType: MT.dockerList });
    await addTag(layout, 'docker', list);
    assert.deepEqual((await gc(layout)).removedBlobs, []);
    await assertStored(layout, [...blobsOf(img), hex(list)], 'docker');
  });

  test('tolerates a referenced layer that is missing (layers are not read)', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { layers: ['gone'] });
    await addTag(layout, 't', img.manifest);
    await removeBlobFile(layout, img.layers[0]!.digest);
    const orphan = await putBytes(layout, 'orphan', MT.layer);
    assert.deepEqual((await gc(layout)).removedBlobs, [orphan.digest]);
  });

  test('removes .ocikit-tmp-* leftovers, files and directories, and leaves other names alone', async (t) => {
    const layout = await makeLayout(t);
    await writeFile(join(layout.root, '.ocikit-tmp-0123456789abcdef'), 'half a blob');
    await mkdir(join(layout.root, '.ocikit-tmp-dir', 'sub'), { recursive: true });
    await writeFile(join(layout.root, '.ocikit-tmp-dir', 'sub', 'f'), 'x');
    await writeFile(join(layout.root, 'README'), 'not ours');
    const result = await gc(layout);
    assert.deepEqual(result.removedTemp.sort(), ['.ocikit-tmp-0123456789abcdef', '.ocikit-tmp-dir']);
    assert.deepEqual(await rootEntries(layout), ['README', 'blobs', 'index.json', 'oci-layout']);
  });

  test('removes an umoci temporary directory only once it is over an hour old', async (t) => {
    const layout = await makeLayout(t);
    await mkdir(join(layout.root, '.umoci-old'));
    await mkdir(join(layout.root, '.umoci-fresh'));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(join(layout.root, '.umoci-old'), twoHoursAgo, twoHoursAgo);
    const result = await gc(layout);
    assert.deepEqual(result.removedTemp, ['.umoci-old']);
    assert.ok((await rootEntries(layout)).includes('.umoci-fresh'));
  });

  test('leaves files in blobs/sha256 that are not blob names', async (t) => {
    const layout = await makeLayout(t);
    await writeFile(join(layout.root, 'blobs', 'sha256', 'not-a-digest'), 'x');
    assert.deepEqual((await gc(layout)).removedBlobs, []);
    assert.deepEqual(await blobFiles(layout), ['not-a-digest']);
  });

  test('does nothing to an empty layout, and a second run finds nothing left', async (t) => {
    const layout = await makeLayout(t);
    assert.deepEqual(await gc(layout), { removedBlobs: [], removedBytes: 0, removedTemp: [] });
    const img = await putImage(layout);
    await addTag(layout, 't', img.manifest);
    await putBytes(layout, 'orphan', MT.layer);
    assert.equal((await gc(layout)).removedBlobs.length, 1);
    assert.deepEqual(await gc(layout), { removedBlobs: [], removedBytes: 0, removedTemp: [] });
  });

  for (const [name, corrupt, code] of [
    ['has flipped bytes', (l: Layout, d: Descriptor) => flipByte(l, d.digest, 3), 'DIGEST_MISMATCH'],
    ['is missing', (l: Layout, d: Descriptor) => removeBlobFile(l, d.digest), 'BLOB_NOT_FOUND'],
  ] as const) {
    test(`refuses, deleting nothing, when a reachable manifest ${name}`, async (t) => {
      const layout = await makeLayout(t);
      const good = await putImage(layout, { layers: ['good'] });
      const bad = await putImage(layout, { layers: ['bad'], config: { author: 'bad' } });
      const idx = await putIndex(layout, [bad.manifest]);
      await addTag(layout, 'good', good.manifest);
      await addTag(layout, 'bad', idx);
      await putBytes(layout, 'orphan', MT.layer);
      await writeFile(join(layout.root, '.ocikit-tmp-leftover'), 'x');
      await corrupt(layout, bad.manifest);
      const blobs = await blobFiles(layout);
      const root = await rootEntries(layout);
      const index = await indexBytes(layout);
      await assert.rejects(gc(layout), hasCode(code));
      assert.deepEqual(await blobFiles(layout), blobs);
      assert.deepEqual(await rootEntries(layout), root);
      assert.deepEqual(await indexBytes(layout), index);
    });
  }

  test('refuses, deleting nothing, when index.json reaches a manifest with an embedded index media type', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { embeddedMediaType: MT.index });
    await addRoots(layout, img.manifest);
    const orphan = await putBytes(layout, 'orphan', MT.layer);
    await assert.rejects(gc(layout), hasCode('MEDIA_TYPE_UNSUPPORTED'));
    assert.ok((await blobFiles(layout)).includes(hex(orphan)));
  });

  test('refuses, deleting nothing, on a cycle of indexes', async (t) => {
    const layout = await makeLayout(t);
    const { a } = await putIndexCycle(layout);
    await addRoots(layout, a);
    const orphan = await putBytes(layout, 'orphan', MT.layer);
    await assert.rejects(gc(layout), hasCode('DIGEST_MISMATCH'));
    assert.ok((await blobFiles(layout)).includes(hex(orphan)));
  });
});
