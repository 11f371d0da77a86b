/**
 * `ocikit mount docker://…`: the image is pulled into the cache layout
 * (--cache) first, and its layer cache serves the mount, as with oci: sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cachePaths } from '../../src/mount/paths.js';
import { makeLayout } from '../helpers/layout-builder.js';
import { OCIKIT, runCommand } from '../helpers/ocikit.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';
import { haveSkopeo, skopeo } from '../helpers/registry-images.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { addMountImage, forceUnmount, overlaySkip } from './fixture.js';

const skip = overlaySkip() || (haveRegistry() && haveSkopeo() ? false : 'docker-registry or skopeo is not installed');

test('mount of a docker:// source pulls into the cache layout and mounts from its layer cache', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const layout = await makeLayout(t);
  await addMountImage(layout, 'v1');
  skopeo('copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.root}:v1`, `docker://${reg.host}/app:1`);
  const tmp = await makeTmpDir(t);
  const mnt = join(tmp.path, 'mnt');
  t.after(() => forceUnmount(mnt));
  const env = { OCIKIT_BLOB_SOURCES: join(tmp.path, 'sources.json') };
  const m = await runCommand(process.execPath, [OCIKIT, 'mount', '--tls-verify=false', '--cache', 'cache', `docker://${reg.host}/app:1`, 'mnt'], tmp.path, env);
  assert.equal(m.status, 0, m.stderr);
  assert.equal(await readFile(join(mnt, 'top'), 'utf8'), 'top\n');
  assert.ok((await readdir(cachePaths(join(tmp.path, 'cache')).layers)).length > 0, 'the layers are cached in the cache layout');
  const u = await runCommand(process.execPath, [OCIKIT, 'umount', 'mnt'], tmp.path, env);
  assert.equal(u.status, 0, u.stderr);
});
