import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { commitAndTag, commitImage } from '../../src/image/mutate.js';
import { readConfig, readIndexBlob, readManifest } from '../../src/image/json-blob.js';
import { findTag } from '../../src/image/resolve.js';
import { encodeGo } from '../../src/oci/go-json.js';
import type { Descriptor, ImageConfig, Manifest } from '../../src/oci/types.js';
import { readIndex } from '../../src/store/index-file.js';
import type { Layout } from '../../src/store/layout.js';
import {
  addRoots, addTag, blobBytes, blobFiles, indexBytes, makeLayout, MT, onPlatform, putImage, putIndex, setRoots, tagged,
} from '../helpers/layout-builder.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

/**
 * index.json "t" (annotated) -> outer index (its own annotations, a sibling
 * manifest) -> inner index (annotated, with a platform) -> the manifest
 * (annotated, amd64), next to an arm64 sibling.
 */
async function nestedLayout(layout: Layout) {
  const target = await putImage(layout, { layers: ['target layer'], annotations: { m: 'target' }, config: { author: 'before' } });
  const armSibling = await putImage(layout, { config: { architecture: 'arm64' } });
  const outerSibling = await putImage(layout, { config: { os: 'freebsd' } });
  const targetRef = onPlatform({ ...target.manifest, annotations: { 'ref.in.inner': 'target' } }, AMD64);
  const armRef = onPlatform(armSibling.manifest, ARM64);
  const inner = await putIndex(layout, [targetRef, armRef], {
    annotations: { level: 'inner' },
    descriptor: { annotations: { 'ref.in.outer': 'inner' }, platform: { os: 'linux', architecture: 'multi' } },
  });
  const outerSiblingRef = { ...outerSibling.manifest, annotations: { sibling: 'outer' } };
  const outer = await putIndex(layout, [outerSiblingRef, inner], { annotations: { level: 'outer' }, subject: armSibling.manifest });
  const entry = tagged({ ...outer, annotations: { 'entry.note': 'kept' } }, 't');
  await setRoots(layout, [entry]);
  const path: Descriptor[] = [entry, inner, targetRef];
  return { target, armRef, outerSiblingRef, inner, outer, entry, path };
}

describe('commitImage', () => {
  test('rewrites each level of a 2-level nested index, keeping the referencing descriptors\' annotations and platform', async (t) => {
    const layout = await makeLayout(t);
    const n = await nestedLayout(layout);
    const manifest = (await readManifest(layout, n.target.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    const edited: ImageConfig = { ...config, author: 'after' };

    const out = await commitImage(layout, n.path, manifest, edited);
    assert.equal(out.length, 3);
    const [entry, inner, leaf] = out as [Descriptor, Descriptor, Descriptor];

    // Each new descriptor is the old one with only mediaType/digest/size changed.
    for (const [fresh, old] of [[entry, n.entry], [inner, n.inner], [leaf, n.path[2]!]] as const) {
      assert.notEqual(fresh.digest, old.digest);
      const { digest: _d, size: _s, ...freshRest } = fresh;
      const { digest: _od, size: _os, ...oldRest } = old;
      assert.deepEqual(freshRest, oldRest);
    }
    assert.deepEqual(leaf.platform, AMD64);
    assert.deepEqual(leaf.annotations, { 'ref.in.inner': 'target' });
    assert.equal(entry.annotations?.['org.opencontainers.image.ref.name'], 't');

    // The new manifest: same layers and annotations, new config.
    const newManifest = (await readManifest(layout, leaf)).value;
    assert.deepEqual(newManifest.layers, manifest.layers);
    assert.deepEqual(newManifest.annotations, { m: 'target' });
    assert.equal((await readConfig(layout, newManifest.config)).value.author, 'after');

    // Inner index: the target repointed (its annotations and platform kept), the sibling untouched.
    const newInner = (await readIndexBlob(layout, inner)).value;
    assert.deepEqual(newInner.manifests, [leaf, n.armRef]);
    assert.deepEqual(newInner.annotations, { level: 'inner' });
    assert.equal(newInner.mediaType, MT.index);

    // Outer index: the inner index repointed, the sibling and subject untouched.
    const newOuter = (await readIndexBlob(layout, entry)).value;
    assert.deepEqual(newOuter.manifests, [n.outerSiblingRef, inner]);
    assert.deepEqual(newOuter.annotations, { level: 'outer' });
    assert.deepEqual(newOuter.subject, (await readIndexBlob(layout, n.outer)).value.subject);
  });

  test('writes every new blob Go-encoded', async (t) => {
    const layout = await makeLayout(t);
    const n = await nestedLayout(layout);
    const manifest = (await readManifest(layout, n.target.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    const out = await commitImage(layout, n.path, manifest, { ...config, author: 'after' });
    const leafManifest = (await readManifest(layout, out[2]!)).value;
    for (const [kind, d] of [['index', out[0]!], ['index', out[1]!], ['manifest', out[2]!], ['config', leafManifest.config]] as const) {
      const bytes = (await blobBytes(layout, d.digest)).toString('utf8');
      assert.equal(bytes, encodeGo(kind, JSON.parse(bytes)), `${kind} ${d.digest}`);
    }
  });

  test('neither touches index.json nor deletes the old blobs', async (t) => {
    const layout = await makeLayout(t);
    const n = await nestedLayout(layout);
    const before = await indexBytes(layout);
    const blobsBefore = await blobFiles(layout);
    const manifest = (await readManifest(layout, n.target.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    await commitImage(layout, n.path, manifest, { ...config, author: 'after' });
    assert.deepEqual(await indexBytes(layout), before);
    const blobsAfter = await blobFiles(layout);
    for (const b of blobsBefore) assert.ok(blobsAfter.includes(b), `${b} was deleted`);
    assert.equal(blobsAfter.length, blobsBefore.length + 4); // config, manifest, two indexes
  });

  test('commits a manifest named directly by index.json as a one-step path', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { descriptor: { annotations: { x: 'y' } } });
    const entry = tagged(img.manifest, 'flat');
    await setRoots(layout, [entry]);
    const manifest = (await readManifest(layout, img.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    const out = await commitImage(layout, [entry], manifest, { ...config, os: 'plan9' });
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.annotations, entry.annotations);
    const m = (await readManifest(layout, out[0]!)).value;
    assert.equal((await readConfig(layout, m.config)).value.os, 'plan9');
  });

  test('keeps Docker media types on every rewritten descriptor, so the result reads back', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig, layerMediaType: MT.dockerLayer, layers: ['d'] });
    const list = await putIndex(layout, [onPlatform(img.manifest, AMD64)], { mediaType: MT.dockerList });
    const entry = tagged(list, 'docker');
    await setRoots(layout, [entry]);
    const path = [entry, onPlatform(img.manifest, AMD64)];
    const manifest = (await readManifest(layout, img.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    const out = await commitImage(layout, path, manifest, { ...config, author: 'after' });
    assert.deepEqual(out.map((d) => d.mediaType), [MT.dockerList, MT.dockerManifest]);
    const newList = (await readIndexBlob(layout, out[0]!)).value;
    assert.equal(newList.mediaType, MT.dockerList);
    const newManifest = (await readManifest(layout, out[1]!)).value;
    assert.equal(newManifest.mediaType, MT.dockerManifest);
    assert.equal(newManifest.config.mediaType, MT.dockerConfig);
    assert.equal((await readConfig(layout, newManifest.config)).value.author, 'after');
  });

  test('keeps the manifest\'s other fields (annotations, subject) as given', async (t) => {
    const layout = await makeLayout(t);
    const base = await putImage(layout);
    const img = await putImage(layout, { subject: base.manifest, annotations: { a: '1' } });
    const entry = tagged(img.manifest, 'x');
    const manifest: Manifest = { ...(await readManifest(layout, img.manifest)).value, annotations: { b: '2' } };
    const config = (await readConfig(layout, manifest.config)).value;
    const out = await commitImage(layout, [entry], manifest, config);
    const m = (await readManifest(layout, out[0]!)).value;
    assert.deepEqual(m.annotations, { b: '2' });
    assert.deepEqual(m.subject, base.manifest);
  });
});

describe('commitAndTag', () => {
  test('moves the tag to the new root and keeps the rest of index.json', async (t) => {
    const layout = await makeLayout(t);
    const n = await nestedLayout(layout);
    const other = await putImage(layout, { config: { author: 'other' } });
    await addTag(layout, 'other', other.manifest);
    const manifest = (await readManifest(layout, n.target.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    const out = await commitAndTag(layout, n.path, manifest, { ...config, author: 'after' }, 't', 't');
    assert.ok(out !== undefined);
    assert.deepEqual((await readIndex(layout)).manifests, [tagged(other.manifest, 'other'), out[0]]);
    // "t" names three manifests (the target and two siblings); the new path is one of them.
    assert.ok((await findTag(layout, 't')).some((p) => isDeepStrictEqual(p, out)));
  });

  test('returns undefined and leaves index.json alone when the source tag moved meanwhile', async (t) => {
    const layout = await makeLayout(t);
    const n = await nestedLayout(layout);
    const manifest = (await readManifest(layout, n.target.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    // Another writer moves "t" after this one resolved it.
    const intruder = await putImage(layout, { config: { author: 'intruder' } });
    await setRoots(layout, [tagged(intruder.manifest, 't')]);
    const before = await indexBytes(layout);
    assert.equal(await commitAndTag(layout, n.path, manifest, { ...config, author: 'after' }, 't', 't'), undefined);
    assert.deepEqual(await indexBytes(layout), before);
  });

  test('writes a different tag unconditionally and leaves the source tag as it was', async (t) => {
    const layout = await makeLayout(t);
    const n = await nestedLayout(layout);
    const manifest = (await readManifest(layout, n.target.manifest)).value;
    const config = (await readConfig(layout, manifest.config)).value;
    await addRoots(layout, tagged(n.target.manifest, 'new')); // replaced, whatever it was
    const out = await commitAndTag(layout, n.path, manifest, { ...config, author: 'after' }, 'new', 't');
    assert.ok(out !== undefined);
    assert.deepEqual((await readIndex(layout)).manifests, [n.entry, tagged(out[0]!, 'new')]);
  });
});
