import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findTag, refName, resolveTag } from '../../src/image/resolve.js';
import type { Descriptor } from '../../src/oci/types.js';
import {
  addRoots, addTag, fakeDigest, makeLayout, MT, onPlatform, putBytes, putImage, putIndex, putIndexCycle, tagged,
} from '../helpers/layout-builder.js';
import { hasCode } from '../helpers/assert.js';


const digests = (path: Descriptor[]): string[] => path.map((d) => d.digest);

describe('refName', () => {
  test('reads the ref.name annotation, undefined when there is none', () => {
    const d: Descriptor = { mediaType: MT.manifest, digest: fakeDigest('x'), size: 1 };
    assert.equal(refName(tagged(d, 'v1')), 'v1');
    assert.equal(refName(d), undefined);
    assert.equal(refName({ ...d, annotations: { other: 'v1' } }), undefined);
  });
});

describe('resolveTag', () => {
  test('resolves a tag on a manifest to a one-step path holding the index.json entry', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    await addTag(layout, 'v1', img.manifest);
    const path = await resolveTag(layout, 'v1');
    assert.deepEqual(path, [tagged(img.manifest, 'v1')]);
  });

  test('resolves through two levels of nested indexes, keeping every descriptor on the path', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const m = onPlatform(img.manifest, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    const inner = await putIndex(layout, [m], { descriptor: { annotations: { level: 'inner' } } });
    const outer = await putIndex(layout, [inner]);
    await addTag(layout, 'nested', outer);
    const path = await resolveTag(layout, 'nested');
    assert.deepEqual(path, [tagged(outer, 'nested'), inner, m]);
  });

  test('resolves through Docker manifest lists to Docker manifests', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig });
    const list = await putIndex(layout, [img.manifest], { mediaType: MT.dockerList });
    await addTag(layout, 'docker', list);
    assert.deepEqual(digests(await resolveTag(layout, 'docker')), [list.digest, img.manifest.digest]);
  });

  test('ignores entries of other names and untagged entries', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout, { config: { author: 'a' } });
    const b = await putImage(layout, { config: { author: 'b' } });
    await addRoots(layout, b.manifest, tagged(b.manifest, 'other'), tagged(a.manifest, 'want'), tagged(b.manifest, 'want2'));
    assert.deepEqual(digests(await resolveTag(layout, 'want')), [a.manifest.digest]);
  });

  test('reports a tag nothing carries as TAG_NOT_FOUND', async (t) => {
    const layout = await makeLayout(t);
    await assert.rejects(resolveTag(layout, 'missing'), hasCode('TAG_NOT_FOUND', /^tag not found: missing$/));
  });

  test('does not look for ref names below index.json (umoci only reads top-level entries)', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const idx = await putIndex(layout, [tagged(img.manifest, 'deep')]);
    await addTag(layout, 'top', idx);
    await assert.rejects(resolveTag(layout, 'deep'), hasCode('TAG_NOT_FOUND'));
  });

  test('reports a tag on an index with no manifest below it as TAG_NOT_FOUND', async (t) => {
    const layout = await makeLayout(t);
    await addTag(layout, 'empty', await putIndex(layout, []));
    await assert.rejects(resolveTag(layout, 'empty'), hasCode('TAG_NOT_FOUND'));
  });

  test('reports two index.json entries of one name as TAG_AMBIGUOUS', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout, { config: { author: 'a' } });
    const b = await putImage(layout, { config: { author: 'b' } });
    await addRoots(layout, tagged(a.manifest, 'dup'), tagged(b.manifest, 'dup'));
    await assert.rejects(resolveTag(layout, 'dup'), hasCode('TAG_AMBIGUOUS', /^tag is ambiguous: dup/));
  });

  test('reports two entries of one name on the same manifest as TAG_AMBIGUOUS', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout);
    await addRoots(layout, tagged(a.manifest, 'dup'), tagged(a.manifest, 'dup'));
    await assert.rejects(resolveTag(layout, 'dup'), hasCode('TAG_AMBIGUOUS'));
  });

  test('reports a multi-platform index as TAG_AMBIGUOUS', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout, { config: { architecture: 'amd64' } });
    const b = await putImage(layout, { config: { architecture: 'arm64' } });
    const idx = await putIndex(layout, [onPlatform(a.manifest, { os: 'linux', architecture: 'amd64' }), onPlatform(b.manifest, { os: 'linux', architecture: 'arm64' })]);
    await addTag(layout, 'multi', idx);
    await assert.rejects(resolveTag(layout, 'multi'), hasCode('TAG_AMBIGUOUS', /2 manifests/));
  });

  test('reports a manifest reached by two index.json entries through one index as TAG_AMBIGUOUS, as it does for a manifest', async (t) => {
    // umoci walks each entry on its own (no memory of what another entry
    // reached) and so finds two paths here, exactly as for two entries on one
    // manifest.
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const idx = await putIndex(layout, [img.manifest]);
    await addRoots(layout, tagged(idx, 'dup'), tagged(idx, 'dup'));
    await assert.rejects(resolveTag(layout, 'dup'), hasCode('TAG_AMBIGUOUS'));
  });

  test('reports an index listing one child index twice as TAG_AMBIGUOUS', { todo: 'within one entry ocikit walks a shared index once (resolve.ts `seen`, which also bounds the walk); umoci walks it twice and finds two paths' }, async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const inner = await putIndex(layout, [img.manifest]);
    const outer = await putIndex(layout, [inner, { ...inner, annotations: { copy: '2' } }]);
    await addTag(layout, 'diamond', outer);
    await assert.rejects(resolveTag(layout, 'diamond'), hasCode('TAG_AMBIGUOUS'));
  });

  test('uses a given index instead of reading index.json', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const path = await resolveTag(layout, 'given', { schemaVersion: 2, manifests: [tagged(img.manifest, 'given')] });
    assert.deepEqual(digests(path), [img.manifest.digest]);
  });
});

describe('findTag', () => {
  test('returns every path, in index.json order then child order', async (t) => {
    const layout = await makeLayout(t);
    const a = await putImage(layout, { config: { author: 'a' } });
    const b = await putImage(layout, { config: { author: 'b' } });
    const c = await putImage(layout, { config: { author: 'c' } });
    const idx = await putIndex(layout, [b.manifest, c.manifest]);
    await addRoots(layout, tagged(a.manifest, 't'), tagged(idx, 't'));
    const paths = await findTag(layout, 't');
    assert.deepEqual(paths.map(digests), [[a.manifest.digest], [idx.digest, b.manifest.digest], [idx.digest, c.manifest.digest]]);
  });

  test('returns [] for an unknown tag', async (t) => {
    const layout = await makeLayout(t);
    assert.deepEqual(await findTag(layout, 'nope'), []);
  });

  test('does not follow or read blobs of unknown media type', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    // Not JSON at all, and a second one whose blob is not even stored:
    // reading either would fail the walk.
    const odd = await putBytes(layout, '\x00not json', MT.unknown);
    const gone: Descriptor = { mediaType: MT.unknown, digest: fakeDigest('absent'), size: 3 };
    const idx = await putIndex(layout, [odd, img.manifest, gone]);
    await addTag(layout, 'mixed', idx);
    assert.deepEqual((await findTag(layout, 'mixed')).map(digests), [[idx.digest, img.manifest.digest]]);
    await addTag(layout, 'only-unknown', odd);
    assert.deepEqual(await findTag(layout, 'only-unknown'), []);
  });

  test('does not descend into configs or layers named in index.json', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { layers: ['x'] });
    await addRoots(layout, tagged(img.config, 'cfg'), tagged(img.layers[0]!, 'layer'));
    assert.deepEqual(await findTag(layout, 'cfg'), []);
    assert.deepEqual(await findTag(layout, 'layer'), []);
  });

  test('ends on a cycle of indexes with DIGEST_MISMATCH instead of looping', async (t) => {
    // A real cycle cannot be content-addressed, so at least one index of it
    // is stored under a name its bytes do not hash to; the verified read
    // stops the walk there.
    const layout = await makeLayout(t);
    const { a } = await putIndexCycle(layout);
    await addTag(layout, 'loop', a);
    await assert.rejects(findTag(layout, 'loop'), hasCode('DIGEST_MISMATCH'));
  });

  test('refuses an index whose embedded media type is a manifest', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const idx = await putIndex(layout, [img.manifest], { embeddedMediaType: MT.manifest });
    await addTag(layout, 'x', idx);
    await assert.rejects(findTag(layout, 'x'), hasCode('MEDIA_TYPE_UNSUPPORTED'));
  });

  test('refuses an index that contains "layers"', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const idx = await putIndex(layout, [img.manifest], { extra: { layers: [] } });
    await addTag(layout, 'x', idx);
    await assert.rejects(findTag(layout, 'x'), hasCode('SCHEMA_INVALID'));
  });
});
