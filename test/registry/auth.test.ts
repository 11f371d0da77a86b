/**
 * Registry authentication through the real CLI: a registry behind Bearer
 * tokens (test/helpers/token-server.ts) and one behind htpasswd Basic auth.
 * Anonymous pulls, pushes with credentials from the flags, standard input,
 * an auth file (--authfile, $REGISTRY_AUTH_FILE, $DOCKER_CONFIG), an
 * identity token (OAuth2 refresh_token) and a credsStore helper; how many
 * tokens a pull costs; and, through the library, token renewal on expiry
 * and after a 401. Every failure is exit 1 with one stderr line, and the
 * password never shows in the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryClient } from '../../src/registry/client.js';
import { Repository } from '../../src/registry/remote.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import type { RunResult } from '../helpers/ocikit.js';
import { cleanEnv, cliWithEnv } from '../helpers/registry-cli.js';
import { haveOpenssl, haveRegistry, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { blobNames, haveSkopeo, singleImage, skopeo, skopeoPush, type TestImage } from '../helpers/registry-images.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';

const skip = haveRegistry() && haveSkopeo() && haveOpenssl() ? false : 'docker-registry, skopeo or openssl is not installed';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const cli = cliWithEnv;

/** The command succeeded and did not print the password. */
function succeeded(r: RunResult, password?: string): void {
  assert.equal(r.status, 0, r.stderr);
  if (password !== undefined) assert.ok(!`${r.stdout}${r.stderr}`.includes(password), 'the password was printed');
}

/** The command failed with exit 1 and exactly one stderr line matching `message`, without the password. */
function failed(r: RunResult, message: RegExp, password?: string): void {
  assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, message);
  if (password !== undefined) assert.ok(!`${r.stdout}${r.stderr}`.includes(password), 'the password was printed');
}

interface Setup {
  reg: TestRegistry;
  img: TestImage;
  dir: string;
  env: NodeJS.ProcessEnv;
  user: { username: string; password: string };
}

/** A registry (with `auth`) holding `app:1` (pushed by skopeo with the test user) and a temp dir. */
async function setup(t: AfterHook, auth: 'token' | 'basic', tokenExpiresIn?: number): Promise<Setup> {
  const reg = await startRegistry(t, { auth, ...(tokenExpiresIn === undefined ? {} : { tokenExpiresIn }) });
  const img = await singleImage(t, 50_000);
  const user = reg.user!;
  skopeoPush(img, `${reg.host}/app:1`, { creds: `${user.username}:${user.password}` });
  const dir = (await makeTmpDir(t)).path;
  await mkdir(join(dir, 'docker'));
  return { reg, img, dir, env: cleanEnv(dir), user };
}

/** `ocikit push` of the test image to REPO:TAG on the registry, with `args` (plain HTTP). */
function push(s: Setup, dest: string, args: string[], env = s.env, input?: string): Promise<RunResult> {
  return cli(['push', '--tls-verify=false', '--retry-times', '1', ...args, '--image', `${s.img.root}:${s.img.tag}`, `${s.reg.host}/${dest}`], s.dir, env, input);
}

function pull(s: Setup, src: string, image: string, args: string[] = [], env = s.env): Promise<RunResult> {
  return cli(['pull', '--tls-verify=false', '--retry-times', '1', ...args, `${s.reg.host}/${src}`, '--image', image], s.dir, env);
}

/** skopeo reads the pushed image back (anonymous pull is allowed on the token registry). */
function checkPushed(s: Setup, dest: string): void {
  assert.equal(skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${s.reg.host}/${dest}`).trim(), s.img.top.digest);
}

/** The token server's requests since `from` that were made as the test user. */
function userRequests(s: Setup, from: number): number {
  return s.reg.token!.requests.slice(from).filter((r) => r.user === s.user.username && r.status === 200).length;
}

/** A `docker-credential-NAME` program (node) in `dir`/bin that answers `get` for `host` and logs every call to `dir`/helper.log. */
async function credentialHelper(dir: string, name: string, host: string, user: { username: string; password: string }): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const log = join(dir, 'helper.log');
  const script = `#!${process.execPath}
const fs = require('node:fs');
const input = fs.readFileSync(0, 'utf8');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ verb: process.argv[2], input }) + '\\n');
if (process.argv[2] === 'get' && input.trim() === ${JSON.stringify(host)}) {
  process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: ${JSON.stringify(user.username)}, Secret: ${JSON.stringify(user.password)} }));
} else if (process.argv[2] === 'get') {
  process.stdout.write('credentials not found in native keychain\\n');
  process.exit(1);
}
`;
  const path = join(bin, `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return bin;
}

/** A refresh token from the token server's OAuth2 password grant. */
async function refreshToken(reg: TestRegistry): Promise<string> {
  const token = reg.token!;
  const form = new URLSearchParams({ grant_type: 'password', username: token.user.username, password: token.user.password, service: token.service, client_id: 'test', access_type: 'offline' });
  const res = await fetch(token.realm, { method: 'POST', body: form });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { refresh_token?: string };
  assert.equal(typeof body.refresh_token, 'string');
  return body.refresh_token!;
}

test('token registry: anonymous pull works and costs at most 2 tokens', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const before = s.reg.token!.requests.length;
  succeeded(await pull(s, 'app:1', 'L'));
  const tokens = s.reg.token!.requests.slice(before);
  assert.ok(tokens.length >= 1 && tokens.length <= 2, `${tokens.length} token requests: ${JSON.stringify(tokens)}`);
  assert.ok(tokens.every((r) => r.user === undefined && r.status === 200));
  assert.deepEqual(await blobNames(join(s.dir, 'L')), [...s.img.digests].map((d) => d.slice(7)).sort());
});

test('token registry: push with --username/--password, skopeo pulls it back; anonymous push is refused', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const before = s.reg.token!.requests.length;
  succeeded(await push(s, 'pushed:1', ['--username', s.user.username, '--password', s.user.password]), s.user.password);
  assert.ok(userRequests(s, before) >= 1);
  checkPushed(s, 'pushed:1');

  failed(await push(s, 'anon:1', []), /denied|authentication/i);
  const r = await cli(['inspect', '--tls-verify=false', `${s.reg.host}/anon:1`], s.dir, s.env);
  assert.notEqual(r.status, 0, 'the anonymous push left a manifest behind');
});

test('token registry: concurrent requests share one token per scope set (one push of a single image)', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const creds = ['--username', s.user.username, '--password', s.user.password];
  let before = s.reg.token!.requests.length;
  succeeded(await push(s, 'once:1', creds), s.user.password);
  const scopeSets = (from: number): string[] => s.reg.token!.requests.slice(from).map((r) => [...r.scopes].sort().join(' '));
  let sets = scopeSets(before);
  assert.ok(sets.length <= 2, `${sets.length} token requests: ${sets.join(' | ')}`);
  assert.equal(new Set(sets).size, sets.length, `the same scopes were fetched twice: ${sets.join(' | ')}`);
  // A push that mounts from another repository: still once per scope set.
  before = s.reg.token!.requests.length;
  succeeded(await push(s, 'twice:1', creds), s.user.password);
  sets = scopeSets(before);
  assert.equal(new Set(sets).size, sets.length, `the same scopes were fetched twice: ${sets.join(' | ')}`);
});

test('token registry: wrong password → exit 1, "authentication failed", password not printed', { skip }, async (t) => {
  const s = await setup(t, 'token');
  failed(await push(s, 'bad:1', ['--username', s.user.username, '--password', 'not-the-pa55']), /authentication failed/, 'not-the-pa55');
  failed(await pull(s, 'app:1', 'W', ['-u', s.user.username, '--password', 'not-the-pa55']), /authentication failed/, 'not-the-pa55');
});

test('token registry: --password-stdin', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const before = s.reg.token!.requests.length;
  succeeded(await push(s, 'stdin:1', ['-u', s.user.username, '--password-stdin'], s.env, `${s.user.password}\n`), s.user.password);
  assert.ok(userRequests(s, before) >= 1);
  checkPushed(s, 'stdin:1');
});

test('token registry: credentials from --authfile, $REGISTRY_AUTH_FILE and $DOCKER_CONFIG', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const authText = JSON.stringify({ auths: { [s.reg.host]: { auth: b64(`${s.user.username}:${s.user.password}`) } } });
  const authfile = join(s.dir, 'auth.json');
  await writeFile(authfile, authText);

  let before = s.reg.token!.requests.length;
  succeeded(await push(s, 'authfile:1', ['--authfile', authfile]), s.user.password);
  assert.ok(userRequests(s, before) >= 1, 'not pushed as the user of --authfile');
  checkPushed(s, 'authfile:1');

  before = s.reg.token!.requests.length;
  succeeded(await push(s, 'envfile:1', [], cleanEnv(s.dir, { REGISTRY_AUTH_FILE: authfile })), s.user.password);
  assert.ok(userRequests(s, before) >= 1, 'not pushed as the user of $REGISTRY_AUTH_FILE');
  checkPushed(s, 'envfile:1');

  const dockerConfig = join(s.dir, 'other-docker');
  await mkdir(dockerConfig);
  await writeFile(join(dockerConfig, 'config.json'), authText);
  before = s.reg.token!.requests.length;
  succeeded(await push(s, 'dockerconfig:1', [], cleanEnv(s.dir, { DOCKER_CONFIG: dockerConfig })), s.user.password);
  assert.ok(userRequests(s, before) >= 1, 'not pushed as the user of $DOCKER_CONFIG/config.json');
  checkPushed(s, 'dockerconfig:1');

  // A wrong password in the file is named with its source, the secret is not.
  await writeFile(authfile, JSON.stringify({ auths: { [`https://${s.reg.host}`]: { auth: b64(`${s.user.username}:wr0ng-secret`) } } }));
  failed(await push(s, 'wrong:1', ['--authfile', authfile]), /authentication failed/, 'wr0ng-secret');
});

test('token registry: an identity token in the auth file is used as an OAuth2 refresh_token', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const refresh = await refreshToken(s.reg);
  const authfile = join(s.dir, 'auth.json');
  await writeFile(authfile, JSON.stringify({ auths: { [s.reg.host]: { auth: b64('<token>:'), identitytoken: refresh } } }));
  const before = s.reg.token!.requests.length;
  succeeded(await push(s, 'oauth:1', ['--authfile', authfile]), refresh);
  const used = s.reg.token!.requests.slice(before);
  assert.ok(used.length >= 1);
  assert.ok(used.every((r) => r.method === 'POST' && r.grant === 'refresh_token' && r.status === 200 && r.user === s.user.username), JSON.stringify(used));
  checkPushed(s, 'oauth:1');

  // A refresh token the server does not know is a one-line authentication error.
  await writeFile(authfile, JSON.stringify({ auths: { [s.reg.host]: { identitytoken: 'no-such-refresh-token' } } }));
  failed(await push(s, 'oauth:2', ['--authfile', authfile]), /authentication failed/, 'no-such-refresh-token');
});

test('token registry: a credsStore helper program gives the credentials', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const bin = await credentialHelper(s.dir, 'testhelper', s.reg.host, s.user);
  await writeFile(join(s.dir, 'docker', 'config.json'), JSON.stringify({ credsStore: 'testhelper' }));
  const env = cleanEnv(s.dir, { PATH: `${bin}:${process.env['PATH']}` });
  const before = s.reg.token!.requests.length;
  succeeded(await push(s, 'helper:1', [], env), s.user.password);
  assert.ok(userRequests(s, before) >= 1, 'not pushed as the user the helper gave');
  checkPushed(s, 'helper:1');
});

test('library: a token is renewed when it expires, and fetched again after a 401', { skip }, async (t) => {
  const s = await setup(t, 'token', 2);
  const credentials = { ...s.user, source: 'test' };
  // 2 s tokens: the client keeps each for max(1, 2 - min(10, 2/4)) = 1.5 s.
  const client = new RegistryClient(s.reg.host, { credentials, tls: { insecure: true }, retries: 0 });
  t.after(() => client.close());
  const repo = new Repository(client, 'app');
  let before = s.reg.token!.requests.length;
  const first = await repo.getManifest('1', 'app:1');
  assert.equal(first.digest, s.img.top.digest);
  await repo.getManifest('1', 'app:1');
  assert.equal(s.reg.token!.requests.length - before, 1, 'a second request within the lifetime fetched a new token');
  await sleep(1800);
  await repo.getManifest('1', 'app:1');
  const fetched = s.reg.token!.requests.slice(before);
  assert.equal(fetched.length, 2, JSON.stringify(fetched));
  assert.ok(fetched.every((r) => r.user === s.user.username && r.status === 200));

  // A 401 from the registry while the cached token is still fresh: one new token, then success.
  s.reg.token!.expiresIn = 300;
  const proxy = await startFaultProxy(t, s.reg.url);
  const viaProxy = new RegistryClient(proxy.host, { credentials, tls: { insecure: true }, retries: 0 });
  t.after(() => viaProxy.close());
  const repo2 = new Repository(viaProxy, 'app');
  before = s.reg.token!.requests.length;
  await repo2.getManifest('1', 'app:1');
  assert.equal(s.reg.token!.requests.length - before, 1);
  const challenge = `Bearer realm="${s.reg.token!.realm}",service="${s.reg.token!.service}",scope="repository:app:pull",error="invalid_token"`;
  proxy.add({ method: 'GET', path: /\/manifests\//, kind: { type: 'status', status: 401, headers: { 'www-authenticate': challenge }, body: '{"errors":[{"code":"UNAUTHORIZED","message":"token revoked"}]}' } });
  const again = await repo2.getManifest('1', 'app:1');
  assert.equal(again.digest, s.img.top.digest);
  assert.equal(proxy.pending(), 0);
  const refetched = s.reg.token!.requests.slice(before);
  assert.equal(refetched.length, 2, JSON.stringify(refetched));
  const manifestGets = proxy.log.filter((e) => e.method === 'GET' && /\/manifests\//.test(e.path));
  assert.deepEqual(manifestGets.map((e) => e.status), [200, 401, 200]);
  assert.ok(manifestGets.every((e) => e.authorization));

  // Two 401s in a row are not retried forever: one line, authentication failed.
  proxy.add({ method: 'GET', path: /\/manifests\//, times: 2, kind: { type: 'status', status: 401, headers: { 'www-authenticate': challenge } } });
  await assert.rejects(repo2.getManifest('1', 'app:1'), (err: Error) => /authentication failed/.test(err.message) && !err.message.includes('\n'));
});

test('basic registry: pull and push with credentials; wrong password and none fail in one line', { skip }, async (t) => {
  const s = await setup(t, 'basic');
  const creds = ['--username', s.user.username, '--password', s.user.password];
  succeeded(await pull(s, 'app:1', 'L', creds), s.user.password);
  assert.deepEqual(await blobNames(join(s.dir, 'L')), [...s.img.digests].map((d) => d.slice(7)).sort());
  succeeded(await push(s, 'pushed:1', creds), s.user.password);
  assert.equal(skopeo('inspect', '--tls-verify=false', '--creds', `${s.user.username}:${s.user.password}`, '--format', '{{.Digest}}', `docker://${s.reg.host}/pushed:1`).trim(), s.img.top.digest);

  const wrong = ['--username', s.user.username, '--password', 'not-the-pa55'];
  failed(await pull(s, 'app:1', 'W', wrong), /authentication failed/, 'not-the-pa55');
  failed(await push(s, 'wrong:1', wrong), /authentication failed/, 'not-the-pa55');
  failed(await pull(s, 'app:1', 'N'), /authentication required/);
  failed(await push(s, 'anon:1', []), /authentication required/);

  // From an auth file too.
  const authfile = join(s.dir, 'auth.json');
  await writeFile(authfile, JSON.stringify({ auths: { [s.reg.host]: { auth: b64(`${s.user.username}:${s.user.password}`) } } }));
  succeeded(await pull(s, 'app:1', 'F', ['--authfile', authfile]), s.user.password);
});
