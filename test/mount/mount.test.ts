import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttributeSync } from '@napi-rs/xattr';
import { mountImage, umountImage } from '../../src/mount/mount.js';
import { mountAt } from '../../src/mount/mountinfo.js';
import { cachePaths, layerKey, mountPaths } from '../../src/mount/paths.js';
import { mapOptionsFrom } from '../../src/runtime/id-map.js';
import { makeLayout } from '../helpers/layout-builder.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';
import { addMountImage, forceUnmount, overlaySkip } from './fixture.js';

const skip = overlaySkip();
const mapOptions = mapOptionsFrom({ rootless: false, uidMap: [], gidMap: [] });
const kind = { mapOptions, opaqueXattr: 'trusted.overlay.opaque' };

/** A directory for mount points; everything mounted under it is unmounted when the test ends, even on failure. */
async function mountArea(t: AfterHook): Promise<string> {
  const tmp = await makeTmpDir();
  const mounted: string[] = [];
  t.after(async () => {
    for (const d of mounted) forceUnmount(d);
    await tmp.cleanup();
  });
  for (const n of ['mnt', 'mnt2']) mounted.push(join(tmp.path, n));
  return tmp.path;
}

async function ls(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('mount', { skip }, () => {
  test('shows the merged image: lower files, whiteouts and opaque directories', async (t) => {
    const area = await mountArea(t);
    const layout = await makeLayout(t);
    const img = await addMountImage(layout);
    const mnt = join(area, 'mnt');
    const r = await mountImage(layout, 'latest', mnt, { mapOptions });
    assert.equal(r.layers, 3);
    assert.equal(r.extracted, 3);
    assert.equal(r.driver, 'overlay');
    assert.equal(r.manifest, img.manifest.digest);
    assert.ok(await mountAt(mnt), 'nothing mounted on DIR');
    assert.deepEqual(await ls(mnt), ['etc', 'keep', 'late', 'opq', 'top']);
    assert.deepEqual(await ls(join(mnt, 'etc')), ['added', 'hello'], 'the whiteout hides etc/gone');
    assert.equal(await readFile(join(mnt, 'etc/hello'), 'utf8'), 'hello\n');
    assert.deepEqual(await ls(join(mnt, 'opq')), ['new'], 'opaque marker after its directory');
    assert.deepEqual(await ls(join(mnt, 'late')), ['new'], 'opaque marker before its directory');
    assert.equal((await stat(join(mnt, 'late'))).mode & 0o7777, 0o750);
    assert.deepEqual(await ls(join(mnt, 'keep')), ['x', 'y'], 'plain directories merge');
    assert.equal((await stat(join(mnt, 'top'))).mode & 0o7777, 0o600);

    // The layers on disk: whiteouts in overlay form, nothing applied.
    const cache = cachePaths(layout.root);
    const diff = (i: number): string => join(cache.layers, layerKey(img.diffIds[i]!, kind), 'diff');
    const wh = await lstat(join(diff(1), 'etc/gone'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'etc/gone is a 0/0 whiteout in layer 2');
    assert.equal(getAttributeSync(join(diff(1), 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(getAttributeSync(join(diff(2), 'late'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(getAttributeSync(join(diff(2), 'keep'), 'trusted.overlay.opaque'), null);
    assert.deepEqual(await ls(diff(0)), ['etc', 'keep', 'late', 'opq']);

    // A write lands in the upper directory, never in a layer.
    const paths = mountPaths(r.mountpoint);
    assert.equal(r.upper, paths.upper);
    await writeFile(join(mnt, 'written'), 'w');
    await unlink(join(mnt, 'etc/hello'));
    assert.equal(await readFile(join(paths.upper, 'written'), 'utf8'), 'w');
    assert.ok((await lstat(join(paths.upper, 'etc/hello'))).isCharacterDevice(), 'deleting a lower file makes a whiteout in upper');
    assert.equal(await readFile(join(diff(0), 'etc/hello'), 'utf8'), 'hello\n');

    const u = await umountImage(mnt);
    assert.equal(u.wasMounted, true);
    assert.equal(await mountAt(r.mountpoint), undefined);
    assert.equal(await lstat(paths.state).catch(() => undefined), undefined, 'upper, work and state are gone');
    assert.equal(await lstat(mnt).catch(() => undefined), undefined, 'the mount point it created is gone');
    assert.deepEqual(await ls(cache.mounts), [], 'the cache record is gone');
  });

  test('a second mount reuses every cached layer, and a layer without its marker is extracted again', async (t) => {
    const area = await mountArea(t);
    const layout = await makeLayout(t);
    const img = await addMountImage(layout);
    const mnt = join(area, 'mnt');
    await mountImage(layout, 'latest', mnt, { mapOptions });
    await umountImage(mnt);
    const cache = cachePaths(layout.root);
    const keys = img.diffIds.map((d) => layerKey(d, kind));
    const before = await Promise.all(keys.map((k) => stat(join(cache.layers, k, 'diff'), { bigint: true })));
    const start = process.hrtime.bigint();
    const r = await mountImage(layout, 'latest', mnt, { mapOptions });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    t.diagnostic(`second mount: ${ms.toFixed(1)} ms`);
    assert.equal(r.extracted, 0);
    const after = await Promise.all(keys.map((k) => stat(join(cache.layers, k, 'diff'), { bigint: true })));
    assert.deepEqual(after.map((s) => [s.ino, s.mtimeNs]), before.map((s) => [s.ino, s.mtimeNs]), 'layer directories untouched');
    assert.ok(ms < 500, `second mount took ${ms} ms`);
    await umountImage(mnt);

    await unlink(join(cache.layers, keys[1]!, 'complete'));
    const again = await mountImage(layout, 'latest', mnt, { mapOptions });
    assert.equal(again.extracted, 1);
    assert.deepEqual(await ls(join(mnt, 'etc')), ['added', 'hello']);
    await umountImage(mnt);
    assert.deepEqual((await ls(cache.layers)).sort(), [...keys].sort(), 'no temporary directory left');
  });

  test('read-only: no upper directory, writes are refused; one layer is padded to the two lowers the kernel needs', async (t) => {
    const area = await mountArea(t);
    const layout = await makeLayout(t);
    await addMountImage(layout);
    const mnt = join(area, 'mnt');
    const r = await mountImage(layout, 'latest', mnt, { mapOptions, readOnly: true });
    assert.equal(r.upper, undefined);
    await assert.rejects(writeFile(join(mnt, 'x'), 'x'), { code: 'EROFS' });
    assert.deepEqual(await ls(mountPaths(r.mountpoint).state), ['state.json']);
    await umountImage(mnt);

    const { addImage, makeTarLayer } = await import('../helpers/layer-builder.js');
    await addImage(layout, 'one', [{ bytes: await makeTarLayer([{ name: 'only', body: '1' }]), compression: 'none' }]);
    await mountImage(layout, 'one', mnt, { mapOptions, readOnly: true });
    assert.deepEqual(await ls(mnt), ['only']);
    await umountImage(mnt);
  });

  test('130 layers fit in the mount options through the short links', async (t) => {
    const area = await mountArea(t);
    const layout = await makeLayout(t);
    const { addImage, makeTarLayer } = await import('../helpers/layer-builder.js');
    const layers = [];
    for (let i = 0; i < 130; i++) layers.push({ bytes: await makeTarLayer([{ name: `f${i}`, body: String(i) }, { name: 'same', body: String(i) }]), compression: 'none' as const });
    await addImage(layout, 'many', layers);
    const mnt = join(area, 'mnt');
    const r = await mountImage(layout, 'many', mnt, { mapOptions });
    assert.equal(r.layers, 130);
    assert.equal((await readdir(mnt)).length, 131);
    assert.equal(await readFile(join(mnt, 'same'), 'utf8'), '129', 'the top layer wins');
    await umountImage(mnt);
  });

  test('keepUpper keeps the changes and refuses a new mount over them', async (t) => {
    const area = await mountArea(t);
    const layout = await makeLayout(t);
    await addMountImage(layout);
    const mnt = join(area, 'mnt');
    const r = await mountImage(layout, 'latest', mnt, { mapOptions });
    await writeFile(join(mnt, 'kept'), 'k');
    const u = await umountImage(mnt, { keepUpper: true });
    const paths = mountPaths(r.mountpoint);
    assert.equal(u.upper, paths.upper);
    assert.equal(await readFile(join(paths.upper, 'kept'), 'utf8'), 'k');
    assert.equal(await lstat(paths.stateFile).catch(() => undefined), undefined);
    await assert.rejects(mountImage(layout, 'latest', mnt, { mapOptions }), { code: 'USAGE' });
    assert.equal(await mountAt(r.mountpoint), undefined);
  });
});
