/**
 * `ocikit extract`: the flattened tree equals what `umoci raw unpack` (and
 * ocikit's own) gives; DIR is replaced only with --force and only once the
 * new tree is complete; platforms; docker:// sources through a cache
 * layout (or none); hostile layers write nothing outside and leave no
 * temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipLayer, makeTarLayer, addImage } from '../helpers/layer-builder.js';
import { makeLayout, onPlatform, putIndex, addTag } from '../helpers/layout-builder.js';
import { ocikit, runCommand, OCIKIT } from '../helpers/ocikit.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';
import { contentSnapshot, haveSkopeo, skopeo } from '../helpers/registry-images.js';
import { makeTmpDir } from '../helpers/tmp.js';

const asRoot = process.getuid?.() === 0;
const haveUmoci = spawnSync('umoci', ['--version']).status === 0;

/** path type mode uid:gid mtime content-or-target, for every entry under dir. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? dir : join(dir, rel);
    const st = await lstat(abs, { bigint: true });
    let what = '';
    if (st.isFile()) what = createHash('sha256').update(await readFile(abs)).digest('hex');
    else if (st.isSymbolicLink()) what = `-> ${await readlink(abs)}`;
    out.push(`${rel || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeNs} ${what}`);
    if (st.isDirectory()) for (const name of (await readdir(abs)).sort()) await walk(rel === '' ? name : join(rel, name));
  };
  await walk('');
  return out;
}

async function twoLayerImage(t: Parameters<typeof makeLayout>[0], tag = 'v1'): Promise<string> {
  const layout = await makeLayout(t);
  const l1 = await makeTarLayer([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hostname', body: 'base\n' },
    { name: 'etc/gone', body: 'to be removed\n' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/old/', type: 'directory' },
    { name: 'opt/old/file', body: 'hidden by an opaque whiteout\n' },
    { name: 'bin/', type: 'directory' },
    { name: 'bin/tool', body: '#!/bin/sh\n', mode: 0o755, uid: 1000, gid: 1000 },
    { name: 'bin/link', type: 'symlink', linkname: 'tool' },
  ]);
  const l2 = await makeTarLayer([
    { name: 'etc/.wh.gone' },
    { name: 'opt/old/', type: 'directory' },
    { name: 'opt/old/.wh..wh..opq' },
    { name: 'opt/old/new', body: 'new\n' },
    { name: 'etc/hostname', body: 'top\n', mode: 0o600 },
  ]);
  await addImage(layout, tag, [{ bytes: gzipLayer(l1), compression: 'gzip' }, { bytes: gzipLayer(l2), compression: 'gzip' }]);
  return layout.root;
}

test('extract oci: gives the tree umoci raw unpack gives', { skip: asRoot && haveUmoci ? false : 'needs root and umoci' }, async (t) => {
  const root = await twoLayerImage(t);
  const tmp = await makeTmpDir(t);
  const r = await ocikit(['extract', `oci:${root}:v1`, join(tmp.path, 'out')], tmp.path);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
  const u = spawnSync('umoci', ['raw', 'unpack', '--image', `${root}:v1`, join(tmp.path, 'umoci')], { encoding: 'utf8' });
  assert.equal(u.status, 0, u.stderr);
  assert.deepEqual(await listing(join(tmp.path, 'out')), await listing(join(tmp.path, 'umoci')));
  assert.equal(await readFile(join(tmp.path, 'out', 'etc', 'hostname'), 'utf8'), 'top\n');
  assert.deepEqual((await readdir(join(tmp.path, 'out', 'opt', 'old'))).sort(), ['new']);
  assert.deepEqual((await readdir(tmp.path)).sort(), ['out', 'umoci'], 'no temporary directory is left');
});

test('a non-empty DIR is kept without --force and replaced whole with it; an empty one is used', async (t) => {
  const root = await twoLayerImage(t);
  const tmp = await makeTmpDir(t);
  const dir = join(tmp.path, 'out');
  await mkdir(dir);
  await writeFile(join(dir, 'mine'), 'keep me\n');
  const before = await contentSnapshot(tmp.path);
  const refused = await ocikit(['extract', `oci:${root}:v1`, dir], tmp.path);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^ocikit extract: .*out is not empty \(use --force to replace it\)\n$/);
  assert.deepEqual(await contentSnapshot(tmp.path), before);
  const forced = await ocikit(['extract', '--force', `oci:${root}:v1`, dir], tmp.path);
  assert.equal(forced.status, 0, forced.stderr);
  assert.deepEqual((await readdir(dir)).sort(), ['bin', 'etc', 'opt']);
  assert.deepEqual(await readdir(tmp.path), ['out']);
  const empty = join(tmp.path, 'empty');
  await mkdir(empty);
  assert.equal((await ocikit(['extract', `oci:${root}:v1`, empty], tmp.path)).status, 0);
  assert.deepEqual((await readdir(empty)).sort(), ['bin', 'etc', 'opt']);
});

test('bad input: DIR is a file, an unknown tag, a bad source, a layer climbing out', async (t) => {
  const root = await twoLayerImage(t);
  const layout = await makeLayout(t);
  const evil = await makeTarLayer([{ name: 'ok', body: 'x' }, { name: '../../escaped', body: 'pwned\n' }]);
  await addImage(layout, 'evil', [{ bytes: evil, compression: 'none' }]);
  const tmp = await makeTmpDir(t);
  await writeFile(join(tmp.path, 'file'), 'x');
  const before = await contentSnapshot(tmp.path);
  const layoutBefore = await contentSnapshot(root);
  for (const [args, message] of [
    [[`oci:${root}:v1`, 'file'], /file exists and is not a directory/],
    [[`oci:${root}:nope`, 'out'], /tag not found: nope/],
    [[`${root}:v1`, 'out'], /invalid source .*expected oci:LAYOUT\[:TAG\] or docker:\/\/REFERENCE/],
    [[`oci:${layout.root}:evil`, 'out'], /\.\./],
  ] as const) {
    const r = await ocikit(['extract', ...args], tmp.path);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(await contentSnapshot(tmp.path), before, 'nothing written beside the targets');
  assert.deepEqual(await contentSnapshot(root), layoutBefore);
  await assert.rejects(lstat(join(tmp.path, '..', 'escaped')));
});

test('from a multi-platform tag: the host platform by default, --platform on request, the available ones listed', async (t) => {
  const layout = await makeLayout(t);
  const children = [];
  for (const [arch, body] of [['amd64', 'x86'], ['arm64', 'arm']] as const) {
    const img = await addImage(layout, `only-${arch}`, [{ bytes: await makeTarLayer([{ name: 'arch', body }]), compression: 'none' }], { architecture: arch });
    children.push(onPlatform(img.manifest, { os: 'linux', architecture: arch, ...(arch === 'arm64' ? { variant: 'v8' } : {}) }));
  }
  await addTag(layout, 'multi', await putIndex(layout, children));
  const tmp = await makeTmpDir(t);
  assert.equal((await ocikit(['extract', '--platform', 'linux/arm64', `oci:${layout.root}:multi`, 'a'], tmp.path)).status, 0);
  assert.equal(await readFile(join(tmp.path, 'a', 'arch'), 'utf8'), 'arm');
  if (process.arch === 'x64') {
    assert.equal((await ocikit(['extract', `oci:${layout.root}:multi`, 'h'], tmp.path)).status, 0);
    assert.equal(await readFile(join(tmp.path, 'h', 'arch'), 'utf8'), 'x86');
  }
  const r = await ocikit(['extract', '--platform', 'linux/s390x', `oci:${layout.root}:multi`, 'z'], tmp.path);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no image for linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8\)/);
});

test('docker:// sources go through a cache layout (--cache), or none (--cache=no); two at once are safe', { skip: haveRegistry() && haveSkopeo() ? false : 'docker-registry or skopeo is not installed' }, async (t) => {
  const reg = await startRegistry(t);
  const root = await twoLayerImage(t);
  skopeo('copy', '--quiet', '--dest-tls-verify=false', `oci:${root}:v1`, `docker://${reg.host}/app:1`);
  const tmp = await makeTmpDir(t);
  const env = { OCIKIT_BLOB_SOURCES: join(tmp.path, 'sources.json') };
  const run = (...args: string[]) => runCommand(process.execPath, [OCIKIT, 'extract', '--tls-verify=false', ...args], tmp.path, env);
  const [a, b] = await Promise.all([run('--cache', 'cache', `docker://${reg.host}/app:1`, 'a'), run('--cache', 'cache', `docker://${reg.host}/app:1`, 'b')]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(await listing(join(tmp.path, 'a')), await listing(join(tmp.path, 'b')));
  const tags = await ocikit(['ls', '--layout', 'cache'], tmp.path);
  assert.match(tags.stdout, new RegExp(`^${reg.host.replace(/\./g, '\\.')}/app:1\\+linux-`));
  const oci = await ocikit(['extract', `oci:${root}:v1`, 'c'], tmp.path);
  assert.equal(oci.status, 0);
  assert.deepEqual(await listing(join(tmp.path, 'a')), await listing(join(tmp.path, 'c')));
  const none = await run('--cache=no', `docker://${reg.host}/app:1`, 'd');
  assert.equal(none.status, 0, none.stderr);
  assert.deepEqual((await readdir(tmp.path)).sort(), ['a', 'b', 'c', 'cache', 'd', 'sources.json']);
});
