/** The extractor's overlayWhiteouts option (src/layer/extract.ts): whiteouts kept in overlayfs form. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { RootfsExtractor } from '../../src/layer/extract.js';
import { TarReader } from '../../src/layer/tar-reader.js';
import { mapOptionsFrom } from '../../src/runtime/id-map.js';
import { makeTarLayer, type LayerEntry } from '../helpers/layer-builder.js';
import { hasCode } from '../helpers/assert.js';
import { makeTmpDir } from '../helpers/tmp.js';

const OPAQUE = 'trusted.overlay.opaque';
const skip = process.geteuid?.() === 0 ? undefined : 'needs root (mknod, trusted.* xattrs)';

async function extract(t: { after(fn: () => Promise<void>): void }, entries: LayerEntry[]): Promise<string> {
  const tmp = await makeTmpDir(t);
  const root = join(tmp.path, 'diff');
  const ex = new RootfsExtractor(root, { mapOptions: mapOptionsFrom({ rootless: false, uidMap: [], gidMap: [] }), overlayWhiteouts: { opaqueXattr: OPAQUE } });
  await ex.prepareRoot();
  const tar = await makeTarLayer(entries);
  await ex.applyLayer(new TarReader((async function* () { yield tar; })()));
  return root;
}

async function isWhiteout(p: string): Promise<boolean> {
  const st = await lstat(p).catch(() => undefined);
  return st !== undefined && st.isCharacterDevice() && st.rdev === 0;
}

describe('extractor with overlayWhiteouts', { skip }, () => {
  test('.wh.NAME becomes a 0/0 device NAME (parents created); later ones are links to the first', async (t) => {
    const root = await extract(t, [
      { name: '.wh.a', body: '' },
      { name: 'deep/er/.wh.b', body: '' },
      { name: 'deep/.wh.c', body: '' },
    ]);
    for (const p of ['a', 'deep/er/b', 'deep/c']) assert.ok(await isWhiteout(join(root, p)), p);
    assert.equal((await lstat(join(root, 'a'))).nlink, 3);
    assert.deepEqual((await readdir(root)).sort(), ['a', 'deep']);
  });

  test('the same layer: a whiteout never hides what the layer wrote, and a later entry replaces a whiteout', async (t) => {
    const root = await extract(t, [
      { name: 'kept', body: 'kept' },
      { name: '.wh.kept', body: '' },
      { name: '.wh.later', body: '' },
      { name: 'later', body: 'later' },
      { name: '.wh.next', body: '' },
      { name: 'dir/child', body: 'c' },
      { name: '.wh.dir', body: '' },
    ]);
    assert.equal(await readFile(join(root, 'kept'), 'utf8'), 'kept');
    assert.equal(await readFile(join(root, 'later'), 'utf8'), 'later');
    // The first whiteout ("later") was replaced by a file: the next one is a new device, not a link to the file.
    assert.ok(await isWhiteout(join(root, 'next')));
    assert.equal((await lstat(join(root, 'later'))).nlink, 1);
    // A whiteout of a directory the layer wrote into hides only the lower layers' content: opaque.
    assert.equal(getAttributeSync(join(root, 'dir'), OPAQUE)?.toString(), 'y');
    assert.equal(await readFile(join(root, 'dir/child'), 'utf8'), 'c');
  });

  test('.wh..wh..opq marks its directory opaque, before or after the directory entry', async (t) => {
    const root = await extract(t, [
      { name: 'a/', type: 'directory' },
      { name: 'a/.wh..wh..opq', body: '' },
      { name: 'b/.wh..wh..opq', body: '' },
      { name: 'b/', type: 'directory', mode: 0o700, xattrs: { 'user.k': 'v' } },
      { name: '.wh..wh.plnk', body: '' },
    ]);
    assert.equal(getAttributeSync(join(root, 'a'), OPAQUE)?.toString(), 'y');
    assert.equal(getAttributeSync(join(root, 'b'), OPAQUE)?.toString(), 'y');
    assert.equal(getAttributeSync(join(root, 'b'), 'user.k')?.toString(), 'v');
    assert.equal((await lstat(join(root, 'b'))).mode & 0o777, 0o700);
    assert.deepEqual((await readdir(root)).sort(), ['a', 'b'], 'no whiteout file and no AUFS metadata lands');
  });

  test("overlay xattrs from the layer itself are never restored", async (t) => {
    const root = await extract(t, [
      { name: 'd/', type: 'directory', xattrs: { [OPAQUE]: 'y', 'user.overlay.opaque': 'y', 'user.ok': '1' } },
    ]);
    assert.deepEqual(listAttributesSync(join(root, 'd')).filter((n) => n.includes('overlay')), []);
    assert.equal(getAttributeSync(join(root, 'd'), 'user.ok')?.toString(), '1');
  });

  test('a bare .wh. is refused', async (t) => {
    await assert.rejects(extract(t, [{ name: 'x/.wh.', body: '' }]), hasCode('UNSAFE_ENTRY'));
  });
});
