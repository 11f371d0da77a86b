/**
 * save and load against the real consumers and producers of the archive
 * formats: skopeo reads what `save` writes (docker-archive and oci-archive)
 * and writes what `load` reads; podman loads a saved docker-archive when it
 * is installed. Images are compared by diff_ids, blobs, config and the tree
 * `ocikit unpack` makes of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ocikit } from '../helpers/ocikit.js';
import { OCIKIT } from '../helpers/ocikit.js';
import { multiImage } from '../helpers/registry-images.js';
import { gzipLayer, makeTarLayer } from '../helpers/layer-builder.js';
import { dockerArchive, fixture, have, LAYER_A, run, sha256, treeListing } from './archive-helpers.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { loadArchive } from '../../src/archive/load.js';
import { saveImage } from '../../src/archive/save.js';
import { OcikitError } from '../../src/errors.js';

const skip = have('skopeo') ? false : 'skopeo is not installed';

async function json(path: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
}

function blob(layout: string, digest: string): string {
  return join(layout, 'blobs', 'sha256', digest.slice(7));
}

/** The manifest and config of `tag` in an OCI layout (the tag's index.json entry must be a manifest). */
async function imageOf(layout: string, tag: string): Promise<{ manifest: Record<string, any>; config: Record<string, any>; configDigest: string; digest: string }> {
  const index = await json(join(layout, 'index.json'));
  const entry = index['manifests'].find((d: any) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `no tag ${tag} in ${layout}`);
  const manifest = await json(blob(layout, entry.digest));
  return { manifest, config: await json(blob(layout, manifest['config'].digest)), configDigest: manifest['config'].digest, digest: entry.digest };
}

/** sha256 of each layer's uncompressed tar. */
async function layerDiffIds(layout: string, manifest: Record<string, any>): Promise<string[]> {
  const out: string[] = [];
  for (const l of manifest['layers']) {
    const bytes = await readFile(blob(layout, l.digest));
    assert.equal(sha256(bytes), l.digest);
    out.push(sha256(l.mediaType.endsWith('+gzip') ? gunzipSync(bytes) : bytes));
  }
  return out;
}

async function unpackListing(cwd: string, image: string, bundle: string): Promise<string[]> {
  const r = await ocikit(['unpack', '--image', image, bundle], cwd);
  assert.equal(r.status, 0, r.stderr);
  return treeListing(join(cwd, bundle, 'rootfs'));
}

test('save writes a docker-archive that skopeo reads, named after the layout and tag', { skip }, async (t) => {
  const f = await fixture(t);
  const r = await ocikit(['save', '--image', 'My_Images:v1'], f.dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
  const file = join(f.dir, 'my_images-v1.tar');
  const names = run('tar', ['tf', file]).trim().split('\n');
  assert.ok(names.includes('manifest.json') && names.includes('repositories'));
  assert.equal(names.filter((n) => n.startsWith('.ocikit')).length, 0);
  const manifest = JSON.parse(run('tar', ['xOf', file, 'manifest.json'])) as Array<Record<string, any>>;
  assert.deepEqual(manifest[0]!['RepoTags'], ['my_images:v1']);
  assert.deepEqual(manifest[0]!['Layers'], f.image.diffIds.map((d) => `${d.slice(7)}.tar`));
  assert.equal(manifest[0]!['Config'], `${f.image.config.digest.slice(7)}.json`);
  // Layer entries are the uncompressed tars: their sha256 is the diff_id.
  for (const d of f.image.diffIds) assert.equal(sha256(spawnSync('tar', ['xOf', file, `${d.slice(7)}.tar`], { maxBuffer: 64 << 20 }).stdout), d);
  // No temporary file is left beside it.
  assert.deepEqual((await readdir(f.dir)).sort(), ['My_Images', 'my_images-v1.tar']);

  const inspected = JSON.parse(run('skopeo', ['inspect', `docker-archive:${file}`])) as Record<string, any>;
  assert.deepEqual(inspected['Layers'], f.image.diffIds);
  assert.deepEqual(inspected['Env'], ['A=1']);

  run('skopeo', ['copy', '--quiet', `docker-archive:${file}`, `oci:${join(f.dir, 'out')}:t`]);
  const copied = await imageOf(join(f.dir, 'out'), 't');
  assert.deepEqual(await layerDiffIds(join(f.dir, 'out'), copied.manifest), f.image.diffIds);
  assert.deepEqual(copied.config['rootfs'].diff_ids, f.image.diffIds);
  const original = await imageOf(f.layout, 'v1');
  for (const k of ['architecture', 'os', 'config', 'created']) assert.deepEqual(copied.config[k], original.config[k], k);
  assert.deepEqual(await unpackListing(f.dir, 'out:t', 'b-copy'), await unpackListing(f.dir, 'My_Images:v1', 'b-orig'));
});

test('load takes the docker-archive skopeo writes: same diff_ids, same tree', { skip }, async (t) => {
  const f = await fixture(t);
  const file = join(f.dir, 'sk.tar');
  run('skopeo', ['copy', '--quiet', `oci:${f.layout}:v1`, `docker-archive:${file}:example.com/team/app:2.1`]);
  const r = await ocikit(['load', '--image', 'loaded', file], f.dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
  // The tag comes from the archive's RepoTags.
  const img = await imageOf(join(f.dir, 'loaded'), '2.1');
  assert.equal(img.manifest['mediaType'], 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(img.manifest['config'].mediaType, 'application/vnd.oci.image.config.v1+json');
  assert.ok(img.manifest['layers'].every((l: any) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar'));
  assert.deepEqual(img.manifest['layers'].map((l: any) => l.digest), f.image.diffIds);
  assert.deepEqual(await layerDiffIds(join(f.dir, 'loaded'), img.manifest), f.image.diffIds);
  assert.deepEqual(img.config['rootfs'].diff_ids, f.image.diffIds);
  const v = await ocikit(['validate', '--layout', 'loaded'], f.dir);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  run('umoci', ['stat', '--image', `${join(f.dir, 'loaded')}:2.1`]);
  assert.deepEqual(await unpackListing(f.dir, 'loaded:2.1', 'b-loaded'), await unpackListing(f.dir, 'My_Images:v1', 'b-orig'));
});

test('save then load keeps the config bytes and the layers; an explicit tag wins', { skip }, async (t) => {
  const f = await fixture(t);
  assert.equal((await ocikit(['save', '--image', 'My_Images:v1', 'a.tar'], f.dir)).status, 0);
  const r = await ocikit(['load', '--image', 'L:mine', 'a.tar'], f.dir);
  assert.equal(r.status, 0, r.stderr);
  const img = await imageOf(join(f.dir, 'L'), 'mine');
  assert.equal(img.configDigest, f.image.config.digest);
  assert.deepEqual(img.manifest['layers'].map((l: any) => l.digest), f.image.diffIds);
  // Loading again into the same layout adds nothing and keeps both tags.
  assert.equal((await ocikit(['load', '--image', 'L', 'a.tar'], f.dir)).status, 0);
  const tags = (await json(join(f.dir, 'L', 'index.json')))['manifests'].map((d: any) => d.annotations['org.opencontainers.image.ref.name']);
  assert.deepEqual(tags, ['mine', 'v1']);
});

test('save - writes the archive to standard output', { skip }, async (t) => {
  const f = await fixture(t);
  assert.equal((await ocikit(['save', '--image', 'My_Images:v1', 'file.tar'], f.dir)).status, 0);
  const r = spawnSync(process.execPath, [OCIKIT, 'save', '--image', 'My_Images:v1', '-'], { cwd: f.dir, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.ok(r.stdout.equals(await readFile(join(f.dir, 'file.tar'))));
});

test('oci-archive round trip: skopeo reads it, load restores the same manifest', { skip }, async (t) => {
  const f = await fixture(t);
  const r = await ocikit(['save', '--image', 'My_Images:v1', '--format', 'oci-archive', 'o.tar'], f.dir);
  assert.equal(r.status, 0, r.stderr);
  const original = await imageOf(f.layout, 'v1');
  run('skopeo', ['copy', '--quiet', `oci-archive:${join(f.dir, 'o.tar')}`, `oci:${join(f.dir, 'sk')}:x`]);
  // skopeo gzips the plain layer on its way to oci:, so compare content, not the manifest digest.
  const copied = await imageOf(join(f.dir, 'sk'), 'x');
  assert.equal(copied.configDigest, f.image.config.digest);
  assert.deepEqual(await layerDiffIds(join(f.dir, 'sk'), copied.manifest), f.image.diffIds);
  const l = await ocikit(['load', '--image', 'back', 'o.tar'], f.dir);
  assert.equal(l.status, 0, l.stderr);
  assert.equal((await imageOf(join(f.dir, 'back'), 'v1')).digest, original.digest);
  const blobs = (await readdir(join(f.dir, 'back', 'blobs', 'sha256'))).sort();
  assert.deepEqual(blobs, [original.digest, f.image.config.digest, ...f.image.layers.map((d) => d.digest)].map((d) => d.slice(7)).sort());
  // And an oci-archive skopeo wrote.
  run('skopeo', ['copy', '--quiet', `oci:${f.layout}:v1`, `oci-archive:${join(f.dir, 'sk.tar')}:named`]);
  assert.equal((await ocikit(['load', '--image', 'back', 'sk.tar'], f.dir)).status, 0);
  const named = await imageOf(join(f.dir, 'back'), 'named');
  assert.equal(named.configDigest, f.image.config.digest);
  assert.deepEqual(await layerDiffIds(join(f.dir, 'back'), named.manifest), f.image.diffIds);
});

test('oci-archive keeps a multi-platform index whole', { skip }, async (t) => {
  const img = await multiImage(t);
  const tmp = await makeTmpDir(t);
  const r = await ocikit(['save', '--image', `${img.root}:multi`, '--format', 'oci-archive', 'm.tar'], tmp.path);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await ocikit(['load', '--image', 'N:m', 'm.tar'], tmp.path)).status, 0);
  assert.equal((await imageOf(join(tmp.path, 'N'), 'm').catch(() => null)), null); // the entry is an index, not a manifest
  const index = await json(join(tmp.path, 'N', 'index.json'));
  assert.equal(index['manifests'][0].digest, img.top.digest);
  assert.deepEqual((await readdir(join(tmp.path, 'N', 'blobs', 'sha256'))).sort(), img.digests.map((d) => d.slice(7)).sort());
  // docker-archive needs a single image.
  const d = await ocikit(['save', '--image', `${img.root}:multi`, 'd.tar'], tmp.path);
  assert.equal(d.status, 1);
  assert.match(d.stderr, /ambiguous/);
});

test('load stores a gzip layer of a docker-archive compressed, checked against its diff_id', async (t) => {
  const tmp = await makeTmpDir(t);
  const tar = await makeTarLayer(LAYER_A);
  // manifest.json last, layers in docker's <id>/layer.tar form, one gzip.
  await writeFile(join(tmp.path, 'd.tar'), await dockerArchive({ layers: [gzipLayer(tar)], diffIds: [sha256(tar)] }));
  const r = await ocikit(['load', '--image', 'L', 'd.tar'], tmp.path);
  assert.equal(r.status, 0, r.stderr);
  const img = await imageOf(join(tmp.path, 'L'), '7');
  assert.equal(img.manifest['layers'][0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.deepEqual(await layerDiffIds(join(tmp.path, 'L'), img.manifest), [sha256(tar)]);
});

test('loading a gzip docker-archive again adds nothing', async (t) => {
  const tmp = await makeTmpDir(t);
  const tar = await makeTarLayer(LAYER_A);
  const file = join(tmp.path, 'd.tar');
  await writeFile(file, await dockerArchive({ layers: [gzipLayer(tar)], diffIds: [sha256(tar)] }));
  const first = await loadArchive(file, join(tmp.path, 'L'));
  assert.equal(first.added, 3); // config, layer, manifest
  const again = await loadArchive(file, join(tmp.path, 'L'), { tag: 'again' });
  assert.equal(again.added, 0);
  assert.equal(again.descriptor.digest, first.descriptor.digest);
});

test('save refuses a repoTag without a tag', async (t) => {
  const f = await fixture(t);
  await assert.rejects(saveImage(f.layout, 'v1', join(f.dir, 'x.tar'), { repoTag: 'localhost:5000/app' }), (e: unknown) => e instanceof OcikitError && e.code === 'USAGE');
  assert.deepEqual((await readdir(f.dir)).sort(), ['My_Images']);
});

test('podman loads a saved docker-archive', { skip: have('podman') ? false : 'podman is not installed' }, async (t) => {
  const f = await fixture(t);
  assert.equal((await ocikit(['save', '--image', 'My_Images:v1', 'p.tar'], f.dir)).status, 0);
  const root = join(f.dir, 'podman-root');
  const out = run('podman', ['--root', root, '--runroot', join(f.dir, 'podman-run'), '--storage-driver', 'vfs', 'load', '-i', join(f.dir, 'p.tar')]);
  assert.match(out, /my_images:v1/);
});
