/**
 * A real registry for tests: Debian's `docker-registry` (the reference
 * distribution registry, 2.8) on 127.0.0.1, on a free port, with its storage
 * in a temporary directory. Open, behind htpasswd Basic auth, or behind a
 * token server (test/helpers/token-server.ts); over plain HTTP or over TLS
 * with a test CA (test/helpers/test-certs.ts). Started by the test, stopped
 * (and its storage removed) when the test ends.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testPki } from './test-certs.js';
import { makeTmpDir, type AfterHook } from './tmp.js';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';

export { haveOpenssl } from './test-certs.js';

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT", or "https://…" with `tls` */
  url: string;
  /** Set when started with `auth` (either mode): tester / pa55-w0rd. */
  user?: { username: string; password: string };
  /** With `tls`: PEM file of the CA that signed the registry's certificate. */
  caFile?: string;
  /** With `tls`: the CA's PEM text. */
  ca?: string;
  /**
   * With `tls`: a directory laid out like /etc/containers/certs.d/HOST (its
   * name is the host): `ca.crt`, and a client pair `client.cert` + `client.key`
   * signed by the same CA. Its parent works as a certs.d root.
   */
  certDir?: string;
  /** With `auth: 'token'`: the token server the registry trusts. */
  token?: TokenServer;
}

export interface RegistryOptions {
  /** true or 'basic': htpasswd Basic auth; 'token': Bearer tokens from a test token server */
  auth?: boolean | 'basic' | 'token';
  /** serve HTTPS with a certificate for 127.0.0.1 and localhost, signed by the test CA */
  tls?: boolean;
  /**
   * 'token' mode: token lifetime in seconds (default 300), i.e. `expires_in`
   * and `exp`. Note that distribution 2.8 accepts a token up to 60 s past its
   * `exp` (clock-skew leeway): a short lifetime makes a client refresh, but to
   * see the registry refuse an expired token, mint one that expired over a
   * minute ago (`token.mint(access, {now: Date.now() - 120_000})`).
   */
  tokenExpiresIn?: number;
  /** 'token' mode: further token server options */
  tokenOptions?: TokenServerOptions;
}

export function haveRegistry(): boolean {
  return spawnSync('docker-registry', ['--version']).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** GET url's status, trusting `ca` for HTTPS; rejects when nothing answers. */
function probe(url: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string, ca?: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let delay = 10;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    try {
      const status = await probe(`${url}/v2/`, ca);
      if (status === 200 || status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  throw new Error(`docker-registry did not start: ${log()}`);
}

async function htpasswdAuth(dir: string, user: { username: string; password: string }): Promise<string> {
  const r = spawnSync('htpasswd', ['-Bbn', user.username, user.password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
  await writeFile(join(dir, 'htpasswd'), r.stdout);
  return `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(dir, 'htpasswd')}\n`;
}

function tokenAuth(token: TokenServer): string {
  return (
    `auth:\n  token:\n    realm: ${JSON.stringify(token.realm)}\n    service: ${JSON.stringify(token.service)}\n` +
    `    issuer: ${JSON.stringify(token.issuer)}\n    rootcertbundle: ${token.certFile}\n`
  );
}

/** Copies the test CA and client pair into DIR/certs.d/HOST. */
async function makeCertDir(dir: string, host: string): Promise<string> {
  const pki = testPki();
  const certDir = join(dir, 'certs.d', host);
  await mkdir(certDir, { recursive: true });
  await Promise.all([
    copyFile(pki.ca.cert, join(certDir, 'ca.crt')),
    copyFile(pki.client.cert, join(certDir, 'client.cert')),
    copyFile(pki.client.key, join(certDir, 'client.key')),
  ]);
  return certDir;
}

/**
 * Starts a registry for the rest of the test. `auth: true` (or 'basic') puts
 * it behind htpasswd Basic auth, `auth: 'token'` behind a token server (see
 * token-server.ts); `tls` serves HTTPS. Needs docker-registry, htpasswd for
 * Basic, openssl for token or TLS.
 */
export async function startRegistry(t: AfterHook, opts: RegistryOptions = {}): Promise<TestRegistry> {
  const tmp = await makeTmpDir(t, 'ocikit-registry-');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const reg: TestRegistry = { host, url: `${opts.tls ? 'https' : 'http'}://${host}` };
  let auth = '';
  if (opts.auth === 'token') {
    const token = await startTokenServer(t, { expiresIn: opts.tokenExpiresIn, ...opts.tokenOptions });
    reg.token = token;
    reg.user = token.user;
    auth = tokenAuth(token);
  } else if (opts.auth) {
    reg.user = { username: 'tester', password: 'pa55-w0rd' };
    auth = await htpasswdAuth(tmp.path, reg.user);
  }
  let tls = '';
  if (opts.tls) {
    const pki = testPki();
    tls = `  tls:\n    certificate: ${pki.server.cert}\n    key: ${pki.server.key}\n`;
    reg.caFile = pki.ca.cert;
    reg.ca = await readFile(pki.ca.cert, 'utf8');
    reg.certDir = await makeCertDir(tmp.path, host);
  }
  const config = join(tmp.path, 'config.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp.path, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${tls}${auth}`,
  );
  let output = '';
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
  await waitReady(reg.url, child, () => output.slice(-400), reg.ca);
  return reg;
}
