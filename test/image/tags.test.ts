import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { checkTagName, listTags, removeTag, setTag, withTag } from '../../src/image/tags.js';
import { readIndex } from '../../src/store/index-file.js';
import type { Descriptor, Index } from '../../src/oci/types.js';
import { addRoots, fakeDigest, indexBytes, makeLayout, MT, putImage, tagged } from '../helpers/layout-builder.js';
import { hasCode } from '../helpers/assert.js';


function desc(seed: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType: MT.manifest, digest: fakeDigest(seed), size: 10, ...extra };
}

const REF = 'org.opencontainers.image.ref.name';

describe('checkTagName', () => {
  for (const good of ['latest', 'v1.0', 'a/b', 'x--y', 'a:b@c+d']) {
    test(`accepts ${JSON.stringify(good)}`, () => {
      assert.doesNotThrow(() => checkTagName(good));
    });
  }
  for (const bad of ['', 'a b', '-x', 'x/', 'a//b', 'é']) {
    test(`refuses ${JSON.stringify(bad)} as TAG_INVALID`, () => {
      assert.throws(() => checkTagName(bad, 'new tag'), hasCode('TAG_INVALID', /^new tag is an invalid reference/));
    });
  }
});

describe('withTag', () => {
  test('removes every entry of that name and appends the new one last, as umoci does', () => {
    const index: Index = {
      schemaVersion: 2,
      manifests: [tagged(desc('a'), 't'), tagged(desc('b'), 'other'), desc('untagged'), tagged(desc('c'), 't'), tagged(desc('d'), 'z')],
    };
    const out = withTag(index, 't', desc('new'));
    assert.deepEqual(out.manifests, [tagged(desc('b'), 'other'), desc('untagged'), tagged(desc('d'), 'z'), tagged(desc('new'), 't')]);
  });

  test('keeps the descriptor\'s own annotations and platform, overriding only ref.name', () => {
    const d = desc('x', { annotations: { keep: 'me', [REF]: 'old' }, platform: { os: 'linux', architecture: 'arm64' } });
    const out = withTag({ schemaVersion: 2, manifests: [] }, 'new', d);
    assert.deepEqual(out.manifests, [{ ...d, annotations: { keep: 'me', [REF]: 'new' } }]);
  });

  test('keeps the index\'s other fields and changes neither input', () => {
    const index: Index = { schemaVersion: 2, mediaType: MT.index, annotations: { i: '1' }, manifests: [tagged(desc('a'), 't')] };
    const d = desc('b', { annotations: { k: 'v' } });
    const frozenIndex = structuredClone(index);
    const frozenDesc = structuredClone(d);
    const out = withTag(index, 't', d);
    assert.equal(out.mediaType, MT.index);
    assert.deepEqual(out.annotations, { i: '1' });
    assert.deepEqual(index, frozenIndex);
    assert.deepEqual(d, frozenDesc);
  });
});

describe('setTag', () => {
  test('adds a new tag at the end of index.json', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('a'), 'a'));
    assert.equal(await setTag(layout, 'b', desc('b')), true);
    assert.deepEqual((await readIndex(layout)).manifests, [tagged(desc('a'), 'a'), tagged(desc('b'), 'b')]);
  });

  test('replaces every entry of the same name', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('a'), 't'), tagged(desc('x'), 'x'), tagged(desc('b'), 't'));
    assert.equal(await setTag(layout, 't', desc('c')), true);
    assert.deepEqual((await readIndex(layout)).manifests, [tagged(desc('x'), 'x'), tagged(desc('c'), 't')]);
  });

  test('refuses an invalid tag name and leaves index.json byte-identical', async (t) => {
    const layout = await makeLayout(t);
    const before = await indexBytes(layout);
    await assert.rejects(setTag(layout, 'bad tag', desc('a')), hasCode('TAG_INVALID'));
    assert.deepEqual(await indexBytes(layout), before);
  });

  test('with ifCurrent, moves the tag when its one entry still has that digest', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('old'), 't'));
    assert.equal(await setTag(layout, 't', desc('new'), desc('old').digest), true);
    assert.deepEqual((await readIndex(layout)).manifests, [tagged(desc('new'), 't')]);
  });

  test('with ifCurrent, returns false and leaves index.json byte-identical when the tag moved', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    await addRoots(layout, tagged(img.manifest, 'other'), tagged(desc('moved'), 't'));
    const before = await indexBytes(layout);
    const inode = (await stat(layout.indexPath)).ino;
    assert.equal(await setTag(layout, 't', desc('mine'), desc('read-earlier').digest), false);
    assert.deepEqual(await indexBytes(layout), before);
    assert.equal((await stat(layout.indexPath)).ino, inode, 'index.json was rewritten');
  });

  test('with ifCurrent, returns false when the tag was removed meanwhile', async (t) => {
    const layout = await makeLayout(t);
    const before = await indexBytes(layout);
    assert.equal(await setTag(layout, 't', desc('mine'), desc('read-earlier').digest), false);
    assert.deepEqual(await indexBytes(layout), before);
  });

  test('with ifCurrent, returns false when the name now has two entries, even if one matches', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('old'), 't'), tagged(desc('other'), 't'));
    const before = await indexBytes(layout);
    assert.equal(await setTag(layout, 't', desc('mine'), desc('old').digest), false);
    assert.deepEqual(await indexBytes(layout), before);
  });

  test('concurrent compare-and-swaps from the same state: exactly one wins', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('base'), 't'));
    const results = await Promise.all(['p', 'q', 'r', 's'].map((s) => setTag(layout, 't', desc(s), desc('base').digest)));
    assert.equal(results.filter(Boolean).length, 1);
    const winner = ['p', 'q', 'r', 's'][results.indexOf(true)]!;
    assert.deepEqual((await readIndex(layout)).manifests, [tagged(desc(winner), 't')]);
  });
});

describe('removeTag', () => {
  test('removes every entry of the name and returns how many there were', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('a'), 't'), desc('untagged'), tagged(desc('b'), 'keep'), tagged(desc('c'), 't'));
    assert.equal(await removeTag(layout, 't'), 2);
    assert.deepEqual((await readIndex(layout)).manifests, [desc('untagged'), tagged(desc('b'), 'keep')]);
  });

  test('returns 0 for an absent tag and does not rewrite index.json', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('a'), 'a'));
    const before = await indexBytes(layout);
    const inode = (await stat(layout.indexPath)).ino;
    assert.equal(await removeTag(layout, 'absent'), 0);
    assert.deepEqual(await indexBytes(layout), before);
    assert.equal((await stat(layout.indexPath)).ino, inode);
  });
});

describe('listTags', () => {
  test('lists names in index.json order, duplicates kept and untagged entries skipped', async (t) => {
    const layout = await makeLayout(t);
    await addRoots(layout, tagged(desc('a'), 'z'), desc('untagged'), tagged(desc('b'), 'a'), tagged(desc('c'), 'z'));
    assert.deepEqual(await listTags(layout), ['z', 'a', 'z']);
  });

  test('lists nothing for a new layout', async (t) => {
    const layout = await makeLayout(t);
    assert.deepEqual(await listTags(layout), []);
  });
});
