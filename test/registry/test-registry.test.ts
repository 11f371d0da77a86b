/**
 * The test registry itself (Debian's docker-registry): it starts, skopeo
 * pushes an ocikit-built image to it, and its 401 challenge is what our
 * parser reads. The bridge's tests build on this.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseChallenges } from '../../src/registry/challenge.js';
import { OCIKIT } from '../helpers/ocikit.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';
import { makeTmpDir } from '../helpers/tmp.js';

const skip = haveRegistry() ? false : 'docker-registry is not installed (apt-get install docker-registry)';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function image(t: Parameters<typeof makeTmpDir>[0]): Promise<string> {
  const tmp = await makeTmpDir(t);
  const layout = join(tmp.path, 'L');
  run(process.execPath, [OCIKIT, 'init', '--layout', layout]);
  run(process.execPath, [OCIKIT, 'new', '--image', `${layout}:v1`]);
  run(process.execPath, [OCIKIT, 'insert', '--image', `${layout}:v1`, join(process.cwd(), 'package.json'), '/package.json']);
  return layout;
}

test('an open registry takes an image pushed by skopeo and lists its tag', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const layout = await image(t);
  run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${reg.host}/demo/app:1`]);
  const res = await fetch(`${reg.url}/v2/demo/app/tags/list`);
  assert.deepEqual(await res.json(), { name: 'demo/app', tags: ['1'] });
});

test('an htpasswd registry answers 401 with a Basic challenge, and takes the credentials', { skip }, async (t) => {
  const reg = await startRegistry(t, { auth: true });
  const res = await fetch(`${reg.url}/v2/`);
  assert.equal(res.status, 401);
  assert.deepEqual(parseChallenges(res.headers.get('www-authenticate') ?? ''), [{ scheme: 'basic', params: { realm: 'test-realm' } }]);
  const basic = Buffer.from(`${reg.user!.username}:${reg.user!.password}`).toString('base64');
  assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: `Basic ${basic}` } })).status, 200);
  const layout = await image(t);
  run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `${reg.user!.username}:${reg.user!.password}`, `oci:${layout}:v1`, `docker://${reg.host}/private:1`]);
});
