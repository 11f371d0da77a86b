/**
 * `ocikit pull` against Debian's docker-registry, with skopeo as the oracle:
 * the same reference pulled by both tools gives the same blobs (Docker
 * images converted to OCI byte for byte as skopeo converts them), platforms
 * are chosen as asked, a second pull fetches nothing, and --validate-cache
 * repairs a corrupted blob.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ocikit } from '../helpers/ocikit.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';
import { blobNames, haveSkopeo, multiImage, singleImage, skopeo, skopeoPush } from '../helpers/registry-images.js';
import { makeTmpDir } from '../helpers/tmp.js';

const skip = haveRegistry() && haveSkopeo() ? false : 'docker-registry or skopeo is not installed';

async function pull(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await ocikit(['pull', '--tls-verify=false', ...args], cwd);
  assert.equal(r.status, 0, r.stderr);
  return r;
}

function indexOf(root: string): Promise<{ manifests: Array<{ digest: string; mediaType: string; annotations?: Record<string, string> }> }> {
  return readFile(join(root, 'index.json'), 'utf8').then((s) => JSON.parse(s));
}

test('an OCI image pulls to the same blobs and manifest digest as skopeo, tagged with the reference tag', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await singleImage(t);
  skopeoPush(img, `${reg.host}/app/oci:1.0`);
  const tmp = await makeTmpDir(t);
  skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/app/oci:1.0`, `oci:${tmp.path}/sk:1.0`);
  await pull(tmp.path, `${reg.host}/app/oci:1.0`, '--image', 'oc');
  assert.deepEqual(await blobNames(join(tmp.path, 'oc')), await blobNames(join(tmp.path, 'sk')));
  const index = await indexOf(join(tmp.path, 'oc'));
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0]!.digest, img.top.digest);
  assert.equal(index.manifests[0]!.annotations?.['org.opencontainers.image.ref.name'], '1.0');
  const v = await ocikit(['validate', '--layout', 'oc'], tmp.path);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('a Docker schema 2 image is converted to OCI exactly as skopeo converts it; --preserve-digests keeps the registry bytes', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await singleImage(t);
  skopeoPush(img, `${reg.host}/app/docker:1`, { format: 'v2s2' });
  const tmp = await makeTmpDir(t);
  skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/app/docker:1`, `oci:${tmp.path}/sk:1`);
  await pull(tmp.path, `${reg.host}/app/docker:1`, '--image', 'oc:converted');
  assert.deepEqual(await blobNames(join(tmp.path, 'oc')), await blobNames(join(tmp.path, 'sk')));
  assert.equal((await indexOf(join(tmp.path, 'oc'))).manifests[0]!.digest, (await indexOf(join(tmp.path, 'sk'))).manifests[0]!.digest);

  const remote = skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/app/docker:1`).trim();
  await pull(tmp.path, `${reg.host}/app/docker:1`, '--image', 'raw:kept', '--preserve-digests');
  const kept = (await indexOf(join(tmp.path, 'raw'))).manifests[0]!;
  assert.equal(kept.digest, remote);
  assert.equal(kept.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
});

test('from an index: the host platform by default, --platform on request, --all-platforms keeps everything as skopeo --all does', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await multiImage(t);
  skopeoPush(img, `${reg.host}/multi:1`, { all: true });
  const tmp = await makeTmpDir(t);
  await pull(tmp.path, `${reg.host}/multi:1`, '--image', 'arm', '--platform', 'linux/arm64');
  assert.equal((await indexOf(join(tmp.path, 'arm'))).manifests[0]!.digest, img.children[1]!.digest);
  await pull(tmp.path, `${reg.host}/multi:1`, '--image', 'v7', '--platform', 'linux/arm/v7');
  assert.equal((await indexOf(join(tmp.path, 'v7'))).manifests[0]!.digest, img.children[2]!.digest);
  if (process.arch === 'x64') {
    await pull(tmp.path, `${reg.host}/multi:1`, '--image', 'host');
    assert.equal((await indexOf(join(tmp.path, 'host'))).manifests[0]!.digest, img.children[0]!.digest);
  }
  await pull(tmp.path, `${reg.host}/multi:1`, '--image', 'all', '--all-platforms');
  skopeo('copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${reg.host}/multi:1`, `oci:${tmp.path}/sk:1`);
  assert.equal((await indexOf(join(tmp.path, 'all'))).manifests[0]!.digest, img.top.digest);
  assert.deepEqual(await blobNames(join(tmp.path, 'all')), await blobNames(join(tmp.path, 'sk')));
  assert.deepEqual(await blobNames(join(tmp.path, 'all')), [...img.digests].map((d) => d.slice(7)).sort());
});

test('a second pull into the same layout fetches nothing; --validate-cache re-fetches a corrupted blob', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await singleImage(t);
  skopeoPush(img, `${reg.host}/app:1`);
  const tmp = await makeTmpDir(t);
  const first = await pull(tmp.path, `${reg.host}/app:1`, '--image', 'L', '--json');
  const done1 = JSON.parse(first.stdout.trim().split('\n').pop()!);
  assert.equal(done1.event, 'done');
  assert.equal(done1.fetched, 3);
  const second = await pull(tmp.path, `${reg.host}/app:1`, '--image', 'L', '--json');
  const done2 = JSON.parse(second.stdout.trim().split('\n').pop()!);
  assert.deepEqual([done2.fetched, done2.present], [0, 3]);

  // Corrupt the big layer in place (same size): trusted without, replaced with --validate-cache.
  const layer = join(tmp.path, 'L', 'blobs', 'sha256', img.digests[2]!.slice(7));
  const bytes = await readFile(layer);
  bytes[100] = bytes[100]! ^ 0xff;
  await writeFile(layer, bytes);
  const trusted = JSON.parse((await pull(tmp.path, `${reg.host}/app:1`, '--image', 'L', '--json')).stdout.trim().split('\n').pop()!);
  assert.equal(trusted.fetched, 0);
  const checked = JSON.parse((await pull(tmp.path, `${reg.host}/app:1`, '--image', 'L', '--json', '--validate-cache')).stdout.trim().split('\n').pop()!);
  assert.deepEqual([checked.fetched, checked.present], [1, 2]);
  const v = await ocikit(['validate', '--layout', 'L'], tmp.path);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('pull by digest, into an explicit tag; progress lines when not a terminal, nothing with --quiet', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await singleImage(t);
  skopeoPush(img, `${reg.host}/app:1`);
  const tmp = await makeTmpDir(t);
  const r = await pull(tmp.path, `docker://${reg.host}/app@${img.top.digest}`, '--image', 'L:pinned');
  assert.match(r.stderr, /^Copying blob [0-9a-f]{12} done$/m);
  assert.match(r.stderr, /Stored .* as L:pinned/);
  const index = await indexOf(join(tmp.path, 'L'));
  assert.equal(index.manifests[0]!.annotations?.['org.opencontainers.image.ref.name'], 'pinned');
  const q = await pull(tmp.path, `${reg.host}/app:1`, '--image', 'Q', '--quiet');
  assert.equal(q.stderr, '');
  assert.equal(q.stdout, '');
});

test('a Docker manifest list with --all-platforms becomes the OCI index skopeo --all makes, byte for byte', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await multiImage(t);
  skopeo('copy', '--quiet', '--all', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${img.root}:${img.tag}`, `docker://${reg.host}/list:1`);
  const raw = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/list:1`)) as { mediaType: string };
  assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
  const tmp = await makeTmpDir(t);
  skopeo('copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${reg.host}/list:1`, `oci:${tmp.path}/sk:1`);
  await pull(tmp.path, `${reg.host}/list:1`, '--image', 'oc', '--all-platforms');
  assert.deepEqual(await blobNames(join(tmp.path, 'oc')), await blobNames(join(tmp.path, 'sk')));
  assert.equal((await indexOf(join(tmp.path, 'oc'))).manifests[0]!.digest, (await indexOf(join(tmp.path, 'sk'))).manifests[0]!.digest);
  await pull(tmp.path, `${reg.host}/list:1`, '--image', 'one', '--platform', 'linux/arm/v7');
  skopeo('copy', '--quiet', '--override-arch', 'arm', '--override-variant', 'v7', '--src-tls-verify=false', `docker://${reg.host}/list:1`, `oci:${tmp.path}/skone:1`);
  assert.deepEqual(await blobNames(join(tmp.path, 'one')), await blobNames(join(tmp.path, 'skone')));
});
