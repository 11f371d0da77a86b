/**
 * The test registry itself (Debian's docker-registry): it starts open, behind
 * Basic auth, behind the test token server, and over TLS; skopeo pushes an
 * ocikit-built image to it, and its 401 challenges are what our parser reads.
 * The bridge's tests build on this.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { get as httpsGet } from 'node:https';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseChallenges } from '../../src/registry/challenge.js';
import { OCIKIT } from '../helpers/ocikit.js';
import { haveOpenssl, haveRegistry, startRegistry } from '../helpers/registry.js';
import { makeTmpDir } from '../helpers/tmp.js';

const skip = haveRegistry() ? false : 'docker-registry is not installed (apt-get install docker-registry)';
const skipCerts = skip || (haveOpenssl() ? false : 'openssl is not installed');

function runFails(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.notEqual(r.status, 0, `${cmd} ${args.join(' ')} should have failed`);
  return r.stderr;
}

/** The status of an HTTPS GET, trusting only `ca` (Node's default roots when absent). */
function httpsStatus(url: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(url, ca === undefined ? {} : { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

function jwtPart(token: string, i: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[i] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

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

test('a token registry challenges with Bearer, lets the user push and anyone pull, and refuses anonymous push', { skip: skipCerts }, async (t) => {
  const reg = await startRegistry(t, { auth: 'token' });
  const token = reg.token!;
  const res = await fetch(`${reg.url}/v2/`);
  assert.equal(res.status, 401);
  assert.deepEqual(parseChallenges(res.headers.get('www-authenticate') ?? ''), [
    { scheme: 'bearer', params: { realm: token.realm, service: token.service } },
  ]);
  const layout = await image(t);
  const creds = `${reg.user!.username}:${reg.user!.password}`;
  run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout}:v1`, `docker://${reg.host}/demo/app:1`]);
  assert.ok(token.requests.some((r) => r.user === 'tester' && r.scopes.includes('repository:demo/app:pull,push')), JSON.stringify(token.requests));
  const before = token.requests.length;
  const inspect = JSON.parse(run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/demo/app:1`])) as { Name: string };
  assert.equal(inspect.Name, `${reg.host}/demo/app`);
  assert.ok(token.requests.slice(before).some((r) => r.user === undefined && r.status === 200));
  const err = runFails('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${reg.host}/demo/other:1`]);
  assert.match(err, /denied|unauthorized/i);
  const bad = runFails('skopeo', ['inspect', '--tls-verify=false', '--creds', 'tester:wrong', `docker://${reg.host}/demo/app:1`]);
  assert.match(bad, /401|unauthorized|invalid username/i);
});

test('the token server issues RS256 JWTs with x5c, grants by credentials, and answers OAuth2 POSTs', { skip: skipCerts }, async (t) => {
  const reg = await startRegistry(t, { auth: 'token', tokenExpiresIn: 2 });
  const token = reg.token!;
  const q = `service=${token.service}&scope=repository:demo/app:pull,push&scope=repository:other:pull`;
  const basic = `Basic ${Buffer.from('tester:pa55-w0rd').toString('base64')}`;
  const user = (await (await fetch(`${token.realm}?${q}&account=tester`, { headers: { authorization: basic } })).json()) as Record<string, unknown>;
  assert.equal(user.expires_in, 2);
  assert.equal(user.token, user.access_token);
  assert.equal(typeof user.issued_at, 'string');
  const header = jwtPart(String(user.token), 0);
  assert.equal(header.alg, 'RS256');
  assert.equal((header.x5c as string[]).length, 1);
  const claims = jwtPart(String(user.token), 1);
  assert.equal(claims.aud, token.service);
  assert.equal(claims.iss, token.issuer);
  assert.equal(claims.sub, 'tester');
  assert.equal((claims.exp as number) - (claims.iat as number), 2);
  assert.deepEqual(claims.access, [
    { type: 'repository', name: 'demo/app', actions: ['pull', 'push'] },
    { type: 'repository', name: 'other', actions: ['pull'] },
  ]);
  const anon = (await (await fetch(`${token.realm}?${q}`)).json()) as Record<string, unknown>;
  assert.deepEqual(jwtPart(String(anon.token), 1).access, [
    { type: 'repository', name: 'demo/app', actions: ['pull'] },
    { type: 'repository', name: 'other', actions: ['pull'] },
  ]);
  const wrong = await fetch(`${token.realm}?${q}`, { headers: { authorization: `Basic ${Buffer.from('tester:nope').toString('base64')}` } });
  assert.equal(wrong.status, 401);
  assert.equal(((await wrong.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNAUTHORIZED');
  assert.deepEqual(
    token.requests.map((r) => [r.method, r.user, r.account, r.status, r.scopes.length]),
    [['GET', 'tester', 'tester', 200, 2], ['GET', undefined, undefined, 200, 2], ['GET', undefined, undefined, 401, 2]],
  );

  // the registry takes the token (a tag list needs pull)
  const tags = await fetch(`${reg.url}/v2/demo/app/tags/list`, { headers: { authorization: `Bearer ${String(user.token)}` } });
  assert.equal(tags.status, 404); // authorized; the repository does not exist yet
  // distribution 2.8 allows 60 s of leeway past `exp`: this one expired long ago
  const expired = token.mint([{ type: 'repository', name: 'demo/app', actions: ['pull'] }], { now: Date.now() - 3_600_000 });
  assert.equal((await fetch(`${reg.url}/v2/demo/app/tags/list`, { headers: { authorization: `Bearer ${expired}` } })).status, 401);

  const form = (f: Record<string, string>): RequestInit => ({ method: 'POST', body: new URLSearchParams(f) });
  const pw = await fetch(token.realm, form({ grant_type: 'password', username: 'tester', password: 'pa55-w0rd', service: token.service, scope: 'repository:demo/app:pull,push', client_id: 'ocikit', access_type: 'offline' }));
  assert.equal(pw.status, 200);
  const pwBody = (await pw.json()) as { access_token: string; expires_in: number; refresh_token: string };
  assert.equal(pwBody.expires_in, 2);
  assert.deepEqual(jwtPart(pwBody.access_token, 1).access, [{ type: 'repository', name: 'demo/app', actions: ['pull', 'push'] }]);
  const rt = await fetch(token.realm, form({ grant_type: 'refresh_token', refresh_token: pwBody.refresh_token, service: token.service, scope: 'repository:x:pull' }));
  assert.equal(rt.status, 200);
  assert.equal(jwtPart(((await rt.json()) as { access_token: string }).access_token, 1).sub, 'tester');
  assert.equal((await fetch(token.realm, form({ grant_type: 'password', username: 'tester', password: 'x', service: token.service }))).status, 401);
  assert.equal((await fetch(token.realm, form({ grant_type: 'refresh_token', refresh_token: 'nope', service: token.service }))).status, 401);
});

test('a TLS registry is trusted with its CA only, and its certs.d directory works for skopeo', { skip: skipCerts }, async (t) => {
  const reg = await startRegistry(t, { tls: true });
  assert.match(reg.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await httpsStatus(`${reg.url}/v2/`, reg.ca), 200);
  await assert.rejects(httpsStatus(`${reg.url}/v2/`), /self[- ]signed|unable to verify|certificate/i);
  if (spawnSync('curl', ['--version']).status === 0) {
    run('curl', ['-fsS', '--cacert', reg.caFile!, `${reg.url}/v2/`]);
    run('curl', ['-fsS', '--cacert', reg.caFile!, `https://localhost:${reg.host.split(':')[1]}/v2/`]);
    runFails('curl', ['-fsS', `${reg.url}/v2/`]);
  }
  assert.equal(basename(reg.certDir!), reg.host);
  assert.equal(basename(dirname(reg.certDir!)), 'certs.d');
  assert.deepEqual(readdirSync(reg.certDir!).sort(), ['ca.crt', 'client.cert', 'client.key']);
  const layout = await image(t);
  run('skopeo', ['copy', '--quiet', '--dest-cert-dir', reg.certDir!, `oci:${layout}:v1`, `docker://${reg.host}/tls/app:1`]);
  run('skopeo', ['inspect', '--cert-dir', reg.certDir!, `docker://${reg.host}/tls/app:1`]);
  runFails('skopeo', ['inspect', `docker://${reg.host}/tls/app:1`]);
});

test('token auth and TLS combine', { skip: skipCerts }, async (t) => {
  const reg = await startRegistry(t, { auth: 'token', tls: true });
  const layout = await image(t);
  const creds = `${reg.user!.username}:${reg.user!.password}`;
  run('skopeo', ['copy', '--quiet', '--dest-cert-dir', reg.certDir!, '--dest-creds', creds, `oci:${layout}:v1`, `docker://${reg.host}/both:1`]);
  run('skopeo', ['inspect', '--cert-dir', reg.certDir!, `docker://${reg.host}/both:1`]);
  assert.ok(reg.token!.requests.length >= 2);
});
