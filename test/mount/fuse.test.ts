/**
 * The fuse-overlayfs fallback (used when the kernel refuses an overlay
 * mount, e.g. for an unprivileged user), forced with OCIKIT_OVERLAY so it
 * runs as root here: the same view as kernel overlayfs, writes in the upper
 * directory, and umount through fusermount.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeLayout } from '../helpers/layout-builder.js';
import { OCIKIT, runCommand } from '../helpers/ocikit.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { addMountImage, forceUnmount } from './fixture.js';

const skip =
  process.geteuid?.() !== 0 ? 'needs root (for /dev/fuse here)'
  : spawnSync('fuse-overlayfs', ['--version']).status !== 0 ? 'fuse-overlayfs is not installed'
  : false;

test('mount through fuse-overlayfs shows the image, takes writes in the upper directory, and umounts', { skip }, async (t) => {
  const layout = await makeLayout(t);
  await addMountImage(layout, 'v1');
  const tmp = await makeTmpDir(t);
  const mnt = join(tmp.path, 'mnt');
  t.after(() => {
    spawnSync('fusermount3', ['-u', mnt]);
    forceUnmount(mnt);
  });
  const env = { OCIKIT_OVERLAY: 'fuse-overlayfs' };
  const m = await runCommand(process.execPath, [OCIKIT, '--verbose', 'mount', `oci:${layout.root}:v1`, 'mnt'], tmp.path, env);
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stderr, /fuse-overlayfs\)/);
  assert.equal(await readFile(join(mnt, 'top'), 'utf8'), 'top\n');
  assert.deepEqual((await readdir(join(mnt, 'etc'))).sort(), ['added', 'hello'], 'the whiteout hides etc/gone');
  assert.deepEqual(await readdir(join(mnt, 'opq')), ['new'], 'the opaque directory hides the lower files');
  assert.deepEqual(await readdir(join(mnt, 'late')), ['new']);
  assert.deepEqual((await readdir(join(mnt, 'keep'))).sort(), ['x', 'y']);
  await writeFile(join(mnt, 'written'), 'w');
  assert.equal(await readFile(join(tmp.path, '.mnt.ocikit', 'upper', 'written'), 'utf8'), 'w');
  const u = await runCommand(process.execPath, [OCIKIT, 'umount', 'mnt'], tmp.path, env);
  assert.equal(u.status, 0, u.stderr);
  assert.deepEqual(await readdir(tmp.path), [], 'the mount point it made and the upper and work directories are gone');
});
