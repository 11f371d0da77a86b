/**
 * Bad input to save and load: each fails with exit 1 and one stderr line
 * naming the problem; load leaves an existing layout exactly as it was and
 * does not create a missing one, and save leaves no file (and no temporary
 * file) behind and an existing FILE untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ocikit } from '../helpers/ocikit.js';
import { contentSnapshot } from '../helpers/registry-images.js';
import { makeTarLayer } from '../helpers/layer-builder.js';
import { archiveOf, dockerArchive, fixture, LAYER_B, LAYER_C, sha256 } from './archive-helpers.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';

/** Loads `archive` into the fixture's layout and into a new path; both must fail alike and change nothing. */
async function loadFails(t: AfterHook, archive: Buffer | null, message: RegExp, args: string[] = []): Promise<void> {
  const f = await fixture(t);
  if (archive !== null) await writeFile(join(f.dir, 'bad.tar'), archive);
  const before = await contentSnapshot(f.dir);
  for (const image of ['My_Images:x', 'new:x']) {
    const r = await ocikit(['load', ...(args.length > 0 ? args : ['--image', image, 'bad.tar'])], f.dir);
    assert.equal(r.status, 1, `${image}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
    assert.equal(r.stdout, '');
    assert.deepEqual(await contentSnapshot(f.dir), before);
  }
}

const layerB = await makeTarLayer(LAYER_B);
const layerC = await makeTarLayer(LAYER_C);

test('load: a layer manifest.json lists is missing', async (t) => {
  const name = `${sha256(layerC).slice(7)}/layer.tar`;
  await loadFails(t, await dockerArchive({ layers: [layerB, layerC], omit: [name] }), /^ocikit load: archive .* has no file "[0-9a-f]{64}\/layer\.tar"$/);
});

test('load: a layer whose content is not its diff_id (the layer before it is removed again)', async (t) => {
  await loadFails(t, await dockerArchive({ layers: [layerB, layerC], diffIds: [sha256(layerB), sha256(layerB)] }), /^ocikit load: layer [0-9a-f]{64}\/layer\.tar: its sha256 is not the diff_id sha256:[0-9a-f]{64} that the config gives it$/);
});

test('load: hostile member names', async (t) => {
  const ok = await dockerArchive({ layers: [layerC] });
  const cases: Array<[string, Parameters<typeof archiveOf>[0], RegExp]> = [
    ['../ name', [{ name: '../evil', body: 'x' }], /archive member "\.\.\/evil": has a '\.\.' component$/],
    ['nested ../', [{ name: 'a/../../evil', body: 'x' }], /'\.\.' component$/],
    ['absolute name', [{ name: '/etc/evil', body: 'x' }], /"\/etc\/evil": is an absolute path$/],
    ['link out of the archive', [{ name: 'x/layer.tar', type: 'symlink', linkname: '../../etc/passwd' }], /links outside the archive/],
    ['absolute link', [{ name: 'x/layer.tar', type: 'symlink', linkname: '/etc/passwd' }], /links to an absolute path/],
  ];
  for (const [what, members, message] of cases) {
    await t.test(what, async (t2) => {
      // The hostile member comes first, then a complete, valid docker-archive.
      const tar = Buffer.concat([(await archiveOf(members)).subarray(0, -1024), ok]);
      await loadFails(t2, tar, message);
    });
  }
});

test('load: manifest.json naming a path outside the archive', async (t) => {
  await loadFails(t, await dockerArchive({ layers: [layerC], layerNames: ['../layer.tar'] }), /"\.\.\/layer\.tar": has a '\.\.' component$/);
});

test('load: not a tar, an empty file, a tar of something else', async (t) => {
  await t.test('random bytes', (t2) => loadFails(t2, randomBytes(4096), /^ocikit load: bad\.tar: not a valid tar archive \(.*\)$/));
  await t.test('empty', (t2) => loadFails(t2, Buffer.alloc(0), /neither a docker-archive nor an oci-archive/));
  await t.test('plain tar', async (t2) => loadFails(t2, await archiveOf([{ name: 'hello', body: 'x' }]), /neither a docker-archive nor an oci-archive/));
  await t.test('broken manifest.json', async (t2) => loadFails(t2, await archiveOf([{ name: 'manifest.json', body: '{' }]), /manifest\.json: invalid JSON/));
});

test('load: an oci-archive blob that does not match its descriptor', async (t) => {
  const f = await fixture(t);
  assert.equal((await ocikit(['save', '--image', 'My_Images:v1', '--format', 'oci-archive', 'o.tar'], f.dir)).status, 0);
  const tar = await readFile(join(f.dir, 'o.tar'));
  // The plain layer's body ("plain layer\n" inside its tar) altered in place.
  const at = tar.indexOf('plain layer');
  assert.ok(at > 0);
  tar[at] = 'P'.charCodeAt(0);
  await loadFails(t, tar, /^ocikit load: oci-archive: blobs\/sha256\/[0-9a-f]{64}: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}$/);
});

test('load: usage errors', async (t) => {
  await loadFails(t, null, /^ocikit load: missing mandatory argument: --image$/, ['bad.tar']);
  await loadFails(t, null, /^ocikit load: invalid number of positional arguments/, ['--image', 'x']);
  await loadFails(t, null, /^ocikit load: open archive: no such file: nothing\.tar$/, ['--image', 'x', 'nothing.tar']);
  await loadFails(t, await dockerArchive({ layers: [layerC] }), /^ocikit load: invalid --format "tar"/, ['--image', 'x', '--format', 'tar', 'bad.tar']);
  await loadFails(t, await dockerArchive({ layers: [layerC] }), /not an oci-archive/, ['--image', 'x', '--format', 'oci-archive', 'bad.tar']);
});

/** A save that must fail, create no file and leave an existing one alone. */
async function saveFails(t: AfterHook, args: string[], message: RegExp, corrupt?: (layout: string, digest: string) => Promise<void>): Promise<void> {
  const f = await fixture(t);
  if (corrupt) await corrupt(f.layout, f.image.layers[0]!.digest);
  await writeFile(join(f.dir, 'keep.tar'), 'old');
  const before = await contentSnapshot(f.dir);
  const r = await ocikit(['save', ...args], f.dir);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, message);
  assert.deepEqual(await contentSnapshot(f.dir), before);
}

test('save: bad input leaves no archive', async (t) => {
  await saveFails(t, ['out.tar'], /^ocikit save: missing mandatory argument: --image$/);
  await saveFails(t, ['--image', 'My_Images:nope', 'keep.tar'], /^ocikit save: tag not found: nope$/);
  await saveFails(t, ['--image', 'My_Images:v1', '--format', 'zip', 'keep.tar'], /^ocikit save: invalid --format "zip"/);
  await saveFails(t, ['--image', 'My_Images:v1', 'a.tar', 'b.tar'], /^ocikit save: invalid number of positional arguments/);
  await saveFails(t, ['--image', 'My_Images:v1', 'no/such/dir/x.tar'], /^ocikit save: write archive: no such directory: no\/such\/dir$/);
  await saveFails(t, ['--image', 'missing:v1', 'keep.tar'], /^ocikit save: open layout: no such directory: missing$/);
});

test('save: a corrupt layer blob fails before or while writing, and nothing is left', async (t) => {
  const flip = async (layout: string, digest: string): Promise<void> => {
    const p = join(layout, 'blobs', 'sha256', digest.slice(7));
    const b = await readFile(p);
    b[b.length - 10] = b[b.length - 10]! ^ 0xff;
    await writeFile(p, b);
  };
  for (const format of ['docker-archive', 'oci-archive']) {
    await t.test(format, (t2) => saveFails(t2, ['--image', 'My_Images:v1', '--format', format, 'keep.tar'], /^ocikit save: (layer|blob) sha256:[0-9a-f]{64}: .*/, flip));
  }
  const tmp = await makeTmpDir(t);
  assert.deepEqual(await readdir(tmp.path), []);
});
