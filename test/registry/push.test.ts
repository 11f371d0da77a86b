/**
 * `ocikit push`, `inspect`, `digest` and `tags` against Debian's
 * docker-registry, with skopeo as the oracle: what ocikit pushes skopeo
 * pulls back with the layout's digests; monolithic, chunked and mounted
 * uploads; a second push uploads nothing; an index with its children.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { RegistryClient } from '../../src/registry/client.js';
import { Repository } from '../../src/registry/remote.js';
import { runCommand, OCIKIT } from '../helpers/ocikit.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';
import { blobNames, haveSkopeo, multiImage, singleImage, skopeo, skopeoPush } from '../helpers/registry-images.js';
import { makeTmpDir } from '../helpers/tmp.js';

const skip = haveRegistry() && haveSkopeo() ? false : 'docker-registry or skopeo is not installed';

async function run(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCommand(process.execPath, [OCIKIT, ...args], cwd, env);
  assert.equal(r.status, 0, r.stderr);
  return r;
}

function lastEvent(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

test('push: skopeo pulls back the same digests; chunked upload; a second push uploads nothing; a known source is mounted', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await singleImage(t, 2_500_000);
  const tmp = await makeTmpDir(t);
  const env = { OCIKIT_BLOB_SOURCES: join(tmp.path, 'sources.json') };
  const out = await run(tmp.path, env, 'push', '--tls-verify=false', '--image', `${img.root}:v1`, `${reg.host}/pushed/a:1`);
  assert.equal(out.stdout, `${img.top.digest}\n`);
  assert.equal(skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/pushed/a:1`).trim(), img.top.digest);
  skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/pushed/a:1`, `oci:${tmp.path}/back:1`);
  assert.deepEqual(await blobNames(join(tmp.path, 'back')), [...img.digests].map((d) => d.slice(7)).sort());

  const again = lastEvent((await run(tmp.path, env, 'push', '--json', '--tls-verify=false', '--image', `${img.root}:v1`, `${reg.host}/pushed/a:2`)).stdout);
  assert.deepEqual([again['uploaded'], again['existed'], again['mounted']], [0, 3, 0]);

  const mounted = lastEvent((await run(tmp.path, env, 'push', '--json', '--tls-verify=false', '--image', `${img.root}:v1`, `${reg.host}/other/b:1`)).stdout);
  assert.deepEqual([mounted['uploaded'], mounted['mounted']], [0, 3]);

  const chunked = lastEvent((await run(tmp.path, { OCIKIT_BLOB_SOURCES: join(tmp.path, 'none.json') }, 'push', '--json', '--chunk-size', '1000000', '--tls-verify=false', '--image', `${img.root}:v1`, `${reg.host}/chunked:1`)).stdout);
  assert.equal(chunked['uploaded'], 3);
  skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/chunked:1`, `oci:${tmp.path}/chunked:1`);
  assert.deepEqual(await blobNames(join(tmp.path, 'chunked')), [...img.digests].map((d) => d.slice(7)).sort());
});

test('push of an index sends every child; skopeo --all pulls it back whole', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await multiImage(t);
  const tmp = await makeTmpDir(t);
  const out = await run(tmp.path, { OCIKIT_BLOB_SOURCES: join(tmp.path, 's.json') }, 'push', '--tls-verify=false', '--image', `${img.root}:multi`, `${reg.host}/multi:1`);
  assert.equal(out.stdout, `${img.top.digest}\n`);
  skopeo('copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${reg.host}/multi:1`, `oci:${tmp.path}/back:1`);
  assert.deepEqual(await blobNames(join(tmp.path, 'back')), [...img.digests].map((d) => d.slice(7)).sort());
});

test('inspect, digest and tags agree with skopeo', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await multiImage(t);
  skopeoPush(img, `${reg.host}/multi:1`, { all: true });
  skopeoPush(img, `${reg.host}/multi:2`, { all: true });
  const tmp = await makeTmpDir(t);
  const ref = `${reg.host}/multi:1`;
  const digest = (await run(tmp.path, {}, 'digest', '--tls-verify=false', ref)).stdout;
  assert.equal(digest, `${img.top.digest}\n`);
  const raw = (await run(tmp.path, {}, 'inspect', '--tls-verify=false', '--raw', ref)).stdout;
  assert.equal(raw, skopeo('inspect', '--tls-verify=false', '--raw', `docker://${ref}`));
  const arm = JSON.parse((await run(tmp.path, {}, 'inspect', '--tls-verify=false', '--platform', 'linux/arm64', ref)).stdout) as Record<string, unknown>;
  const sk = JSON.parse(skopeo('inspect', '--tls-verify=false', '--override-arch', 'arm64', `docker://${ref}`)) as Record<string, unknown>;
  // skopeo 1.9 prints no LayersData (later versions do; ocikit prints it).
  for (const key of ['Name', 'Digest', 'RepoTags', 'Created', 'DockerVersion', 'Architecture', 'Os', 'Layers', 'Env', 'Labels']) assert.deepEqual(arm[key], sk[key], key);
  const config = (await run(tmp.path, {}, 'inspect', '--tls-verify=false', '--config', '--raw', '--platform', 'linux/arm/v7', ref)).stdout;
  assert.equal(config, await readFile(join(img.root, 'blobs', 'sha256', img.digests[8]!.slice(7)), 'utf8'));
  const tags = (await run(tmp.path, {}, 'tags', '--tls-verify=false', `${reg.host}/multi`)).stdout;
  // docker-registry 2.8 lists tags in no fixed order.
  assert.deepEqual(tags.split('\n').filter(Boolean).sort(), ['1', '2']);
  const ours = JSON.parse((await run(tmp.path, {}, 'tags', '--json', '--tls-verify=false', `${reg.host}/multi`)).stdout) as { Repository: string; Tags: string[] };
  const theirs = JSON.parse(skopeo('list-tags', '--tls-verify=false', `docker://${reg.host}/multi`)) as { Repository: string; Tags: string[] };
  assert.deepEqual([ours.Repository, ours.Tags.sort()], [theirs.Repository, theirs.Tags.sort()]);
});

test('tags follows Link pages (relative and absolute), with the pages a registry sends', async (t) => {
  // docker-registry 2.8 ignores `n` and never pages, so a small server of our own sends the pages.
  const pages: Record<string, { tags: string[]; link?: string }> = {
    '/v2/paged/tags/list?n=1000': { tags: ['a', 'b'], link: '</v2/paged/tags/list?n=2&last=b>; rel="next"' },
    '/v2/paged/tags/list?n=2&last=b': { tags: ['c', 'd'], link: '<http://HOST/v2/paged/tags/list?n=2&last=d>; rel="next"' },
    '/v2/paged/tags/list?n=2&last=d': { tags: ['e'] },
  };
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url!);
    if (req.url === '/v2/') return res.end('{}');
    const page = pages[req.url!];
    if (page === undefined) {
      res.statusCode = 404;
      return res.end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
    }
    if (page.link) res.setHeader('link', page.link.replace('HOST', `127.0.0.1:${(server.address() as { port: number }).port}`));
    res.end(JSON.stringify({ name: 'paged', tags: page.tags }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const client = new RegistryClient(`127.0.0.1:${(server.address() as { port: number }).port}`, { tls: { insecure: true } });
  t.after(() => client.close());
  assert.deepEqual(await new Repository(client, 'paged').listTags(), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(seen.filter((u) => u.includes('tags')), Object.keys(pages));
});
