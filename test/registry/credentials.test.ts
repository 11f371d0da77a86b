/** Stored credentials: file order, key forms, credHelpers/credsStore through real helper programs on PATH. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authFiles, findCredentials } from '../../src/registry/credentials.js';
import { hasCode } from '../helpers/assert.js';
import { makeTmpDir } from '../helpers/tmp.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function setup(t: Parameters<typeof makeTmpDir>[0]): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const tmp = await makeTmpDir(t);
  const dir = tmp.path;
  await mkdir(join(dir, 'docker'));
  await mkdir(join(dir, 'bin'));
  // A credential helper: answers for one server, "not found" otherwise, and records what it was asked.
  await writeFile(
    join(dir, 'bin', 'docker-credential-fake'),
    `#!/bin/sh\nread server\necho "$server" >> "${dir}/asked"\nif [ "$server" = "helped.example" ] || [ "$server" = "https://index.docker.io/v1/" ]; then echo '{"ServerURL":"x","Username":"hu","Secret":"hs"}'; elif [ "$server" = "token.example" ]; then echo '{"Username":"<token>","Secret":"tok"}'; else echo "credentials not found in native keychain"; exit 1; fi\n`,
  );
  await chmod(join(dir, 'bin', 'docker-credential-fake'), 0o755);
  const env = { HOME: dir, DOCKER_CONFIG: join(dir, 'docker'), PATH: `${join(dir, 'bin')}:${process.env['PATH']}` };
  return { dir, env };
}

test('auths: base64 auth, username/password, URL keys, Docker Hub key', async (t) => {
  const { dir, env } = await setup(t);
  await writeFile(
    join(dir, 'docker', 'config.json'),
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:pw:with:colons') },
        'https://reg.example:5000/v2/': { username: 'u', password: 'p' },
        'plain.example': { auth: b64('a:b') },
      },
    }),
  );
  assert.deepEqual(await findCredentials('docker.io', env), { username: 'hub', password: 'pw:with:colons', source: join(dir, 'docker', 'config.json') });
  assert.equal((await findCredentials('reg.example:5000', env))?.username, 'u');
  assert.equal((await findCredentials('plain.example', env))?.password, 'b');
  assert.equal(await findCredentials('other.example', env), undefined);
});

test('REGISTRY_AUTH_FILE (or --authfile) is the only file read when set; else the containers files, then the docker config', async (t) => {
  const { dir, env } = await setup(t);
  await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { 'r.example': { auth: b64('docker:1') } } }));
  await writeFile(join(dir, 'auth.json'), JSON.stringify({ auths: { 'r.example': { auth: b64('podman:2') } } }));
  assert.equal((await findCredentials('r.example', { ...env, REGISTRY_AUTH_FILE: join(dir, 'auth.json') }))?.username, 'podman');
  assert.equal((await findCredentials('r.example', env))?.username, 'docker');
  assert.equal(await findCredentials('r.example', { ...env, REGISTRY_AUTH_FILE: join(dir, 'missing.json') }), undefined);
  assert.deepEqual(authFiles({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/1' }), ['/run/user/1/containers/auth.json', '/h/.config/containers/auth.json', '/h/.docker/config.json']);
  assert.deepEqual(authFiles({ HOME: '/h', REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/user/1' }), ['/a.json']);
});

test('credHelpers and credsStore run docker-credential-<name> get', async (t) => {
  const { dir, env } = await setup(t);
  await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ credHelpers: { 'helped.example': 'fake' }, credsStore: 'fake' }));
  assert.deepEqual(await findCredentials('helped.example', env), { username: 'hu', password: 'hs', source: 'docker-credential-fake' });
  assert.equal((await findCredentials('token.example', env))?.identityToken, 'tok');
  assert.equal((await findCredentials('docker.io', env))?.username, 'hu');
  assert.equal(await findCredentials('nothing.example', env), undefined);
});

test('broken files and helpers fail with one line, never with the secret', async (t) => {
  const { dir, env } = await setup(t);
  await writeFile(join(dir, 'docker', 'config.json'), '{"auths": ');
  await assert.rejects(findCredentials('x', env), hasCode('AUTH', /not valid JSON/));
  await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { x: { auth: b64('secretwithoutcolon') } } }));
  await assert.rejects(findCredentials('x', env), (e: Error) => /not base64 of user:password/.test(e.message) && !e.message.includes('secretwithoutcolon'));
  await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ credHelpers: { x: 'missing' } }));
  await assert.rejects(findCredentials('x', env), hasCode('AUTH', /docker-credential-missing.*program not found/));
});
