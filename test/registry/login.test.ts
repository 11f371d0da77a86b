/**
 * `ocikit login` and `ocikit logout` through the real CLI, against Basic and
 * token registries: login checks the credentials, then writes
 * `auths[HOST].auth` (mode 0600, other keys kept) into --authfile, else
 * $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, or hands them to the
 * credsStore helper; later commands find them there; logout removes them.
 * Failures are exit 1 with one stderr line and leave the file unchanged; the
 * password is never printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult } from '../helpers/ocikit.js';
import { cleanEnv, cliWithEnv } from '../helpers/registry-cli.js';
import { haveOpenssl, haveRegistry, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { haveSkopeo, singleImage, skopeo, skopeoPush, type TestImage } from '../helpers/registry-images.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';

const skip = haveRegistry() && haveSkopeo() && haveOpenssl() ? false : 'docker-registry, skopeo or openssl is not installed';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const cli = cliWithEnv;

const PASSWORD = 'pa55-w0rd';

function succeeded(r: RunResult): void {
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD), `the password was printed: ${r.stdout}${r.stderr}`);
}

function failed(r: RunResult, message: RegExp): void {
  assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, message);
  assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD), 'the password was printed');
  assert.ok(!`${r.stdout}${r.stderr}`.includes('wr0ng-pass'), 'the wrong password was printed');
}

interface Setup {
  reg: TestRegistry;
  img: TestImage;
  dir: string;
  env: NodeJS.ProcessEnv;
}

async function setup(t: AfterHook, auth: 'basic' | 'token'): Promise<Setup> {
  const reg = await startRegistry(t, { auth });
  assert.equal(reg.user!.password, PASSWORD);
  const img = await singleImage(t, 20_000);
  skopeoPush(img, `${reg.host}/app:1`, { creds: `${reg.user!.username}:${PASSWORD}` });
  const dir = (await makeTmpDir(t)).path;
  return { reg, img, dir, env: cleanEnv(dir) };
}

function login(s: Setup, args: string[], env = s.env, password = PASSWORD): Promise<RunResult> {
  return cli(['login', '--tls-verify=false', '--retry-times', '1', '--username', 'tester', '--password-stdin', ...args, s.reg.host], s.dir, env, `${password}\n`);
}

/** A command that needs the credentials: a pull on Basic, a push on token (anonymous pull is open there); quiet, so a failure is its one line. */
function useStored(s: Setup, auth: 'basic' | 'token', env = s.env, args: string[] = []): Promise<RunResult> {
  if (auth === 'basic') return cli(['pull', '--quiet', '--tls-verify=false', '--retry-times', '1', ...args, `${s.reg.host}/app:1`, '--image', join(s.dir, 'L')], s.dir, env);
  return cli(['push', '--quiet', '--tls-verify=false', '--retry-times', '1', ...args, '--image', `${s.img.root}:${s.img.tag}`, `${s.reg.host}/pushed:1`], s.dir, env);
}

async function readJson(path: string): Promise<Record<string, unknown> & { auths?: Record<string, { auth?: string }> }> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

for (const auth of ['basic', 'token'] as const) {
  test(`${auth} registry: login --authfile writes auths[HOST].auth (0600, other keys kept); pull/push then work without flags`, { skip }, async (t) => {
    const s = await setup(t, auth);
    const file = join(s.dir, 'auth.json');
    const other = { auths: { 'other.example': { auth: b64('x:y') } }, HttpHeaders: { 'X-Test': '1' }, custom: [1, 2] };
    await writeFile(file, JSON.stringify(other), { mode: 0o644 });
    await chmod(file, 0o644);

    const r = await login(s, ['--authfile', file]);
    succeeded(r);
    assert.match(r.stdout, /Login Succeeded/);
    const saved = await readJson(file);
    assert.deepEqual(saved.auths?.[s.reg.host], { auth: b64(`tester:${PASSWORD}`) });
    assert.deepEqual(saved.auths?.['other.example'], other.auths['other.example']);
    assert.deepEqual(saved['HttpHeaders'], other.HttpHeaders);
    assert.deepEqual(saved['custom'], other.custom);
    assert.equal(await mode(file), 0o600);

    // Later commands find them: with the same --authfile, and through $REGISTRY_AUTH_FILE.
    failed(await useStored(s, auth), /authentication required|denied/);
    succeeded(await useStored(s, auth, s.env, ['--authfile', file]));
    succeeded(await useStored(s, auth, cleanEnv(s.dir, { REGISTRY_AUTH_FILE: file })));
    if (auth === 'token') assert.equal(skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${s.reg.host}/pushed:1`).trim(), s.img.top.digest);
  });

  test(`${auth} registry: without --authfile, login writes $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json (created)`, { skip }, async (t) => {
    const s = await setup(t, auth);
    const dockerConfig = join(s.dir, 'new', 'docker');
    const env = cleanEnv(s.dir, { DOCKER_CONFIG: dockerConfig });
    succeeded(await login(s, [], env));
    const config = join(dockerConfig, 'config.json');
    assert.deepEqual((await readJson(config)).auths, { [s.reg.host]: { auth: b64(`tester:${PASSWORD}`) } });
    assert.equal(await mode(config), 0o600);
    succeeded(await useStored(s, auth, env));

    const regFile = join(s.dir, 'containers', 'auth.json');
    const env2 = cleanEnv(s.dir, { DOCKER_CONFIG: join(s.dir, 'unused'), REGISTRY_AUTH_FILE: regFile });
    succeeded(await login(s, [], env2));
    assert.deepEqual((await readJson(regFile)).auths, { [s.reg.host]: { auth: b64(`tester:${PASSWORD}`) } });
    await assert.rejects(stat(join(s.dir, 'unused', 'config.json')));
    succeeded(await useStored(s, auth, cleanEnv(s.dir, { DOCKER_CONFIG: join(s.dir, 'unused'), REGISTRY_AUTH_FILE: regFile })));
  });

  test(`${auth} registry: a wrong password fails in one line and leaves the file as it was`, { skip }, async (t) => {
    const s = await setup(t, auth);
    const file = join(s.dir, 'auth.json');
    const before = JSON.stringify({ auths: { [s.reg.host]: { auth: b64(`tester:${PASSWORD}`) } }, keep: true });
    await writeFile(file, before);
    failed(await login(s, ['--authfile', file], s.env, 'wr0ng-pass'), /authentication failed/);
    assert.equal(await readFile(file, 'utf8'), before);
    // and a file that did not exist is not created
    failed(await login(s, ['--authfile', join(s.dir, 'absent.json')], s.env, 'wr0ng-pass'), /authentication failed/);
    await assert.rejects(stat(join(s.dir, 'absent.json')));
  });
}

test('login without a user name or password and no terminal: exit 1, a usage message, nothing written', { skip }, async (t) => {
  const s = await setup(t, 'basic');
  const file = join(s.dir, 'auth.json');
  failed(await cli(['login', '--tls-verify=false', '--authfile', file, s.reg.host], s.dir, s.env, `${PASSWORD}\n`), /--username.*terminal|terminal.*user/i);
  failed(await cli(['login', '--tls-verify=false', '--authfile', file, '--password-stdin', s.reg.host], s.dir, s.env, `${PASSWORD}\n`), /--username.*terminal|terminal.*user/i);
  failed(await cli(['login', '--tls-verify=false', '--authfile', file, '-u', 'tester', s.reg.host], s.dir, s.env), /password.*terminal|terminal/i);
  failed(await cli(['login', '--tls-verify=false', '--authfile', file, '-u', 'tester', '--password-stdin', s.reg.host], s.dir, s.env, '\n'), /empty/);
  failed(await cli(['login', '--tls-verify=false', '--authfile', file, '-u', 'tester', '--password-stdin'], s.dir, s.env, `${PASSWORD}\n`), /registry/);
  await assert.rejects(stat(file));
});

test('logout HOST removes the entry; again: exit 1 "not logged in"; logout --all', { skip }, async (t) => {
  const s = await setup(t, 'basic');
  const file = join(s.dir, 'auth.json');
  await writeFile(file, JSON.stringify({ auths: { 'other.example': { auth: b64('x:y') }, 'https://third.example/v1/': { auth: b64('a:b') } }, keep: 'me' }));
  succeeded(await login(s, ['--authfile', file]));

  const out = await cli(['logout', '--authfile', file, s.reg.host], s.dir, s.env);
  succeeded(out);
  assert.match(out.stdout, new RegExp(`Removed login credentials for ${s.reg.host.replace(/\./g, '\\.')}`));
  const after = await readJson(file);
  assert.deepEqual(Object.keys(after.auths ?? {}).sort(), ['https://third.example/v1/', 'other.example']);
  assert.equal(after['keep'], 'me');
  failed(await useStored(s, 'basic', s.env, ['--authfile', file]), /authentication required/);

  failed(await cli(['logout', '--authfile', file, s.reg.host], s.dir, s.env), /not logged in/);
  // A URL form of the host names the same entry.
  succeeded(await cli(['logout', '--authfile', file, 'https://third.example'], s.dir, s.env));
  assert.deepEqual(Object.keys((await readJson(file)).auths ?? {}), ['other.example']);

  succeeded(await login(s, ['--authfile', file]));
  succeeded(await cli(['logout', '--authfile', file, '--all'], s.dir, s.env));
  const cleared = await readJson(file);
  assert.deepEqual(cleared.auths ?? {}, {});
  assert.equal(cleared['keep'], 'me');
  failed(await cli(['logout', '--authfile', file, s.reg.host], s.dir, s.env), /not logged in/);
  failed(await cli(['logout', '--authfile', file], s.dir, s.env), /registry/);
  failed(await cli(['logout', '--authfile', file, '--all', s.reg.host], s.dir, s.env), /--all/);

  // A URL names the registry by its host.
  succeeded(await cli(['login', '--tls-verify=false', '-u', 'tester', '--password-stdin', '--authfile', file, `https://${s.reg.host}/v2/`], s.dir, s.env, PASSWORD));
  assert.deepEqual(Object.keys((await readJson(file)).auths ?? {}), [s.reg.host]);
  succeeded(await cli(['logout', '--authfile', file, `http://${s.reg.host}`], s.dir, s.env));

  // logout without --authfile edits $DOCKER_CONFIG/config.json
  succeeded(await login(s, []));
  succeeded(await useStored(s, 'basic'));
  succeeded(await cli(['logout', s.reg.host], s.dir, s.env));
  assert.deepEqual((await readJson(join(s.dir, 'docker', 'config.json'))).auths, {});
});

/** A `docker-credential-NAME` node program keeping its secrets in `dir`/store.json and logging each call (verb, stdin) to `dir`/helper.log. */
async function credentialHelper(dir: string, name: string): Promise<{ bin: string; calls: () => Promise<Array<{ verb: string; input: string }>> }> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const log = join(dir, 'helper.log');
  const store = join(dir, 'store.json');
  const script = `#!${process.execPath}
const fs = require('node:fs');
const input = fs.readFileSync(0, 'utf8');
const verb = process.argv[2];
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ verb, input }) + '\\n');
let all = {};
try { all = JSON.parse(fs.readFileSync(${JSON.stringify(store)}, 'utf8')); } catch {}
const notFound = () => { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); };
if (verb === 'store') {
  const c = JSON.parse(input);
  all[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  fs.writeFileSync(${JSON.stringify(store)}, JSON.stringify(all));
} else if (verb === 'get') {
  const c = all[input.trim()];
  if (!c) notFound();
  process.stdout.write(JSON.stringify({ ServerURL: input.trim(), ...c }));
} else if (verb === 'erase') {
  if (!all[input.trim()]) notFound();
  delete all[input.trim()];
  fs.writeFileSync(${JSON.stringify(store)}, JSON.stringify(all));
} else if (verb === 'list') {
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.Username]))));
} else process.exit(2);
`;
  const path = join(bin, `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
  const calls = async (): Promise<Array<{ verb: string; input: string }>> =>
    (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { verb: string; input: string });
  return { bin, calls };
}

test('with a credsStore helper: login calls `store`, later commands `get`, logout `erase`; the file holds no secret', { skip }, async (t) => {
  const s = await setup(t, 'token');
  const helper = await credentialHelper(s.dir, 'testhelper');
  const config = join(s.dir, 'docker', 'config.json');
  await mkdir(join(s.dir, 'docker'));
  await writeFile(config, JSON.stringify({ credsStore: 'testhelper' }));
  const env = cleanEnv(s.dir, { PATH: `${helper.bin}:${process.env['PATH']}` });

  succeeded(await login(s, [], env));
  const stored = (await helper.calls()).filter((c) => c.verb === 'store');
  assert.equal(stored.length, 1);
  assert.deepEqual(JSON.parse(stored[0]!.input), { ServerURL: s.reg.host, Username: 'tester', Secret: PASSWORD });
  const text = await readFile(config, 'utf8');
  assert.ok(!text.includes(PASSWORD) && !text.includes(b64(`tester:${PASSWORD}`)), text);
  assert.equal((await readJson(config))['credsStore'], 'testhelper');

  succeeded(await useStored(s, 'token', env));
  assert.ok((await helper.calls()).some((c) => c.verb === 'get' && c.input.trim() === s.reg.host));

  succeeded(await cli(['logout', s.reg.host], s.dir, env));
  const erased = (await helper.calls()).filter((c) => c.verb === 'erase');
  assert.equal(erased.length, 1);
  assert.equal(erased[0]!.input.trim(), s.reg.host);
  failed(await cli(['logout', s.reg.host], s.dir, env), /not logged in/);
  failed(await useStored(s, 'token', env, []), /authentication required|denied/);
});
