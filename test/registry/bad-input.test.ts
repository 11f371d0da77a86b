/**
 * Bad input to the registry commands: each fails with exit 1 and one line
 * naming the problem, and leaves the layout as it was (a layout that did not
 * exist is not created).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ocikit } from '../helpers/ocikit.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';
import { contentSnapshot, haveSkopeo, multiImage, singleImage, skopeoPush } from '../helpers/registry-images.js';
import { makeTmpDir } from '../helpers/tmp.js';

const skip = haveRegistry() && haveSkopeo() ? false : 'docker-registry or skopeo is not installed';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a pull into an existing layout and into a new path; both must fail alike and change nothing. */
async function pullFails(t: Parameters<typeof makeTmpDir>[0], ref: string, message: RegExp, ...extra: string[]): Promise<void> {
  const tmp = await makeTmpDir(t);
  const init = await ocikit(['init', '--layout', 'L'], tmp.path);
  assert.equal(init.status, 0);
  const before = await contentSnapshot(tmp.path);
  for (const image of ['L:t', 'new:t']) {
    const r = await ocikit(['pull', '--tls-verify=false', '--retry-times', '1', ...extra, ref, '--image', image], tmp.path);
    assert.equal(r.status, 1, `${image}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(await contentSnapshot(tmp.path), before);
}

test('an unknown host', { skip }, async (t) => {
  await pullFails(t, 'no-such-host.invalid/app:1', /^ocikit pull: no-such-host\.invalid(:443)?: unknown host$/);
});

test('a refused connection', { skip }, async (t) => {
  await pullFails(t, `127.0.0.1:${await freePort()}/app:1`, /127\.0\.0\.1:\d+: connection refused$/);
});

test('wrong credentials', { skip }, async (t) => {
  const reg = await startRegistry(t, { auth: true });
  await pullFails(t, `${reg.host}/app:1`, /authentication failed/, '--username', 'tester', '--password', 'wrong');
  await pullFails(t, `${reg.host}/app:1`, /authentication required/);
});

test('a manifest the registry does not have', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await singleImage(t, 1000);
  skopeoPush(img, `${reg.host}/app:1`);
  await pullFails(t, `${reg.host}/app:nope`, /manifest .*app:nope: not found: 404 Not Found \(manifest_unknown/);
  await pullFails(t, `${reg.host}/nobody:1`, /not found: 404/);
});

test('a platform the index does not offer lists those it does', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await multiImage(t);
  skopeoPush(img, `${reg.host}/multi:1`, { all: true });
  await pullFails(t, `${reg.host}/multi:1`, /has no image for linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)$/, '--platform', 'linux/s390x');
  await pullFails(t, `${reg.host}/multi:1`, /has no image for linux\/arm\/v6/, '--platform', 'linux/arm/v6');
});

test('bad arguments are refused before any network traffic', async (t) => {
  await pullFails(t, 'app/UPPER:1', /invalid reference format/);
  await pullFails(t, 'app:1', /invalid platform "linux"/, '--platform', 'linux');
  await pullFails(t, 'app:1', /mutually exclusive/, '--platform', 'linux/amd64', '--all-platforms');
  await pullFails(t, 'app:1', /--parallel-downloads/, '--parallel-downloads', '0');
  await pullFails(t, 'app:1', /--ca-file .*no such file/, '--ca-file', join('/nonexistent', 'ca.pem'));
});
