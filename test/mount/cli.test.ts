import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mountAt } from '../../src/mount/mountinfo.js';
import { cachePaths } from '../../src/mount/paths.js';
import { makeLayout } from '../helpers/layout-builder.js';
import { ocikit, runCommand } from '../helpers/ocikit.js';
import { snapshot } from '../helpers/sandbox.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';
import { addMountImage, forceUnmount, overlaySkip } from './fixture.js';

const skip = overlaySkip();

async function area(t: AfterHook, mounts: string[]): Promise<string> {
  const tmp = await makeTmpDir();
  t.after(async () => {
    for (const m of mounts) forceUnmount(join(tmp.path, m));
    await tmp.cleanup();
  });
  return tmp.path;
}

function oneLine(stderr: string): void {
  assert.equal(stderr.trimEnd().split('\n').length, 1, `one stderr line, got: ${stderr}`);
}

describe('ocikit mount and umount', { skip }, () => {
  test('mount, write, umount through the CLI; umoci and skopeo still read the layout', async (t) => {
    const dir = await area(t, ['mnt']);
    const layout = await makeLayout(t);
    await addMountImage(layout, 'v1');
    const mnt = join(dir, 'mnt');
    const m = await ocikit(['mount', `oci:${layout.root}:v1`, mnt], dir);
    assert.equal(m.status, 0, m.stderr);
    assert.equal(m.stderr, '');
    assert.equal(await readFile(join(mnt, 'top'), 'utf8'), 'top\n');
    await writeFile(join(mnt, 'new'), 'n');

    const umoci = await runCommand('umoci', ['ls', '--layout', layout.root], dir);
    assert.equal(umoci.status, 0, umoci.stderr);
    assert.equal(umoci.stdout.trim(), 'v1');
    const skopeo = await runCommand('skopeo', ['inspect', `oci:${layout.root}:v1`], dir);
    assert.equal(skopeo.status, 0, skopeo.stderr);
    assert.equal((JSON.parse(skopeo.stdout) as { Layers: string[] }).Layers.length, 3);

    const u = await ocikit(['umount', mnt], dir);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(await mountAt(mnt), undefined);
    assert.deepEqual(await readdir(dir), []);
  });

  test('--read-only refuses writes; --keep-upper keeps the upper directory', async (t) => {
    const dir = await area(t, ['ro', 'rw']);
    const layout = await makeLayout(t);
    await addMountImage(layout);
    const ro = join(dir, 'ro');
    assert.equal((await ocikit(['mount', '--read-only', `oci:${layout.root}`, ro], dir)).status, 0);
    assert.throws(() => execFileSync('touch', [join(ro, 'x')], { stdio: 'ignore' }));
    assert.equal((await ocikit(['umount', ro], dir)).status, 0);

    const rw = join(dir, 'rw');
    assert.equal((await ocikit(['mount', `oci:${layout.root}`, rw], dir)).status, 0);
    await writeFile(join(rw, 'change'), 'c');
    const u = await ocikit(['umount', '--keep-upper', rw], dir);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(await readFile(join(dir, '.rw.ocikit', 'upper', 'change'), 'utf8'), 'c');
    assert.deepEqual((await readdir(join(dir, '.rw.ocikit'))).sort(), ['upper', 'work']);
  });

  test('two mounts of one image in parallel both succeed and share the extracted layers', async (t) => {
    const dir = await area(t, ['a', 'b']);
    const layout = await makeLayout(t);
    await addMountImage(layout);
    const [a, b] = await Promise.all(['a', 'b'].map((n) => ocikit(['mount', `oci:${layout.root}`, join(dir, n)], dir)));
    assert.equal(a!.status, 0, a!.stderr);
    assert.equal(b!.status, 0, b!.stderr);
    for (const n of ['a', 'b']) assert.deepEqual((await readdir(join(dir, n, 'opq'))), ['new']);
    assert.equal((await readdir(cachePaths(layout.root).layers)).length, 3, 'one directory per layer, no leftovers');
    for (const n of ['a', 'b']) assert.equal((await ocikit(['umount', join(dir, n)], dir)).status, 0);
  });

  test('bad input: exit 1, one stderr line, nothing written', async (t) => {
    const dir = await area(t, ['other']);
    const layout = await makeLayout(t);
    await addMountImage(layout);
    await writeFile(join(dir, 'file'), 'f');
    await mkdir(join(dir, 'plain'));
    await mkdir(join(dir, 'other'));
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(dir, 'other')]);
    const before = await snapshot(dir);
    const layoutBefore = await snapshot(layout.root);
    const cases: Array<[string[], RegExp]> = [
      [['mount', `oci:${layout.root}`, join(dir, 'file')], /is not a directory/],
      [['mount', `oci:${layout.root}:nope`, join(dir, 'new')], /tag not found: nope/],
      [['mount', `oci:${join(dir, 'nolayout')}`, join(dir, 'new')], /layout/],
      [['mount', '--cache=no', 'docker://example.org/x', join(dir, 'new')], /--cache=no is not possible here/],
      [['mount', layout.root, join(dir, 'new')], /invalid source .*expected oci:LAYOUT\[:TAG\] or docker:\/\/REFERENCE/],
      [['mount', `oci:${layout.root}`, join(dir, 'a,b')], /overlayfs options cannot hold/],
      [['umount', join(dir, 'plain')], /is not an ocikit mount/],
      [['umount', join(dir, 'other')], /is not an ocikit mount/],
      [['umount', join(dir, 'missing')], /is not an ocikit mount/],
      [['mount', `oci:${layout.root}`], /invalid number of positional arguments/],
    ];
    for (const [args, re] of cases) {
      const r = await ocikit(args, dir);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      oneLine(r.stderr);
    }
    assert.deepEqual(await snapshot(dir), before);
    assert.equal((await mountAt(join(dir, 'other')))?.fsType, 'tmpfs', 'the foreign mount is still there');
    const layoutAfter = await snapshot(layout.root);
    assert.deepEqual(layoutAfter, layoutBefore, 'the layout is unchanged (no tag: nothing extracted)');
  });
});
