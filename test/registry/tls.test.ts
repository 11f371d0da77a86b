/**
 * TLS to a registry through the real CLI: a registry serving HTTPS with a
 * certificate from the test CA is trusted with --ca-file or --cert-dir, and
 * refused without them (one line naming the certificate problem) unless
 * --tls-verify=false or --insecure; a plain-HTTP registry needs
 * --tls-verify=false or --insecure, and without it fails in one clear line;
 * a --cert-dir client pair is presented to a server that demands one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeCa, testPki } from '../helpers/test-certs.js';
import type { RunResult } from '../helpers/ocikit.js';
import { cleanEnv, cliWithEnv } from '../helpers/registry-cli.js';
import { haveOpenssl, haveRegistry, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { blobNames, haveSkopeo, singleImage, skopeo, skopeoPush, type TestImage } from '../helpers/registry-images.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';

const skip = haveRegistry() && haveSkopeo() && haveOpenssl() ? false : 'docker-registry, skopeo or openssl is not installed';

/** Runs ocikit with no stored credentials and no CA settings of the machine's. */
function cli(args: string[], cwd: string): Promise<RunResult> {
  return cliWithEnv(args, cwd, cleanEnv(cwd));
}

function failed(r: RunResult, message: RegExp): void {
  assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, message);
  assert.equal(r.stdout, '');
}

interface Setup {
  reg: TestRegistry;
  img: TestImage;
  dir: string;
  blobs: string[];
}

async function setup(t: AfterHook, tls: boolean): Promise<Setup> {
  const reg = await startRegistry(t, { tls });
  const img = await singleImage(t, 50_000);
  skopeoPush(img, `${reg.host}/app:1`);
  const dir = (await makeTmpDir(t)).path;
  return { reg, img, dir, blobs: [...img.digests].map((d) => d.slice(7)).sort() };
}

async function pullOk(s: Setup, image: string, ...args: string[]): Promise<void> {
  const r = await cli(['pull', '--retry-times', '1', ...args, `${s.reg.host}/app:1`, '--image', image], s.dir);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(await blobNames(join(s.dir, image)), s.blobs);
}

function pullOf(s: Setup, image: string, ...args: string[]): Promise<RunResult> {
  return cli(['pull', '--retry-times', '1', ...args, `${s.reg.host}/app:1`, '--image', image], s.dir);
}

test('TLS registry: --ca-file and --cert-dir make its certificate trusted, for pull and push', { skip }, async (t) => {
  const s = await setup(t, true);
  await pullOk(s, 'ca', '--ca-file', s.reg.caFile!);
  await pullOk(s, 'dir', '--cert-dir', s.reg.certDir!);
  await pullOk(s, 'verify', '--tls-verify', '--ca-file', s.reg.caFile!);

  const r = await cli(['push', '--retry-times', '1', '--cert-dir', s.reg.certDir!, '--image', `${s.img.root}:${s.img.tag}`, `${s.reg.host}/pushed:1`], s.dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${s.img.top.digest}\n`);
  assert.equal(skopeo('inspect', '--cert-dir', s.reg.certDir!, '--format', '{{.Digest}}', `docker://${s.reg.host}/pushed:1`).trim(), s.img.top.digest);
});

test('TLS registry: without a CA, or with the wrong one, the certificate is refused in one line', { skip }, async (t) => {
  const s = await setup(t, true);
  failed(await pullOf(s, 'none'), /certificate/i);
  failed(await pullOf(s, 'none', '--tls-verify'), /certificate/i);
  const other = makeCa((await makeTmpDir(t)).path, 'some other CA');
  failed(await pullOf(s, 'other', '--ca-file', other.cert), /certificate/i);
  // A cert dir that holds no CA for this registry is no better.
  failed(await pullOf(s, 'empty', '--cert-dir', (await makeTmpDir(t)).path), /certificate/i);
  const r = await cli(['push', '--retry-times', '1', '--image', `${s.img.root}:${s.img.tag}`, `${s.reg.host}/pushed:1`], s.dir);
  failed(r, /certificate/i);
});

test('TLS registry: --tls-verify=false and --insecure skip verification', { skip }, async (t) => {
  const s = await setup(t, true);
  await pullOk(s, 'noverify', '--tls-verify=false');
  await pullOk(s, 'insecure', '--insecure');
  const r = await cli(['push', '--retry-times', '1', '--tls-verify=false', '--image', `${s.img.root}:${s.img.tag}`, `${s.reg.host}/pushed:1`], s.dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${s.reg.host}/pushed:1`).trim(), s.img.top.digest);
});

test('plain-HTTP registry: --insecure and --tls-verify=false work; without them one clear line', { skip }, async (t) => {
  const s = await setup(t, false);
  await pullOk(s, 'insecure', '--insecure');
  await pullOk(s, 'noverify', '--tls-verify=false');
  failed(await pullOf(s, 'strict'), /HTTP|TLS|https/);
  failed(await pullOf(s, 'strict2', '--tls-verify', '--ca-file', testPki().ca.cert), /HTTP|TLS|https/);
  const r = await cli(['push', '--retry-times', '1', '--image', `${s.img.root}:${s.img.tag}`, `${s.reg.host}/pushed:1`], s.dir);
  failed(r, /HTTP|TLS|https/);
});

/** An HTTPS server (test CA) that demands a client certificate from the test CA: /v2/ is 200, anything else 404. */
async function mtlsServer(t: AfterHook): Promise<{ host: string; dir: string; certDir: string }> {
  const pki = testPki();
  const server = createServer({ cert: await readFile(pki.server.cert), key: await readFile(pki.server.key), ca: await readFile(pki.ca.cert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const body = req.url === '/v2/' ? '{}' : '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}';
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = (await makeTmpDir(t)).path;
  const certDir = join(dir, 'certs.d', host);
  await mkdir(certDir, { recursive: true });
  await Promise.all([copyFile(pki.ca.cert, join(certDir, 'ca.crt')), copyFile(pki.client.cert, join(certDir, 'client.cert')), copyFile(pki.client.key, join(certDir, 'client.key'))]);
  return { host, dir, certDir };
}

test('--cert-dir presents its client certificate to a server that demands one', { skip }, async (t) => {
  const { host, dir, certDir } = await mtlsServer(t);
  // With the pair the handshake succeeds and the (fake) registry's 404 comes through.
  failed(await cli(['pull', '--retry-times', '0', '--cert-dir', certDir, `${host}/app:1`, '--image', 'L'], dir), /not found: 404/);
  // With only the CA the server refuses the handshake: one line.
  const r = await cli(['pull', '--retry-times', '0', '--ca-file', testPki().ca.cert, `${host}/app:1`, '--image', 'L'], dir);
  failed(r, new RegExp(`^ocikit pull: ${host}: `));
  assert.doesNotMatch(r.stderr, /not found: 404/);
});

test('a server that demands a client certificate is reported as such, not as an untrusted certificate', { skip }, async (t) => {
  const { host, dir } = await mtlsServer(t);
  const r = await cli(['pull', '--retry-times', '0', '--ca-file', testPki().ca.cert, `${host}/app:1`, '--image', 'L'], dir);
  failed(r, /client certificate/);
  assert.doesNotMatch(r.stderr, /not trusted|tls-verify=false/);
});
