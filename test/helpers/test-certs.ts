/**
 * Certificates for tests, made with the openssl CLI: a test CA, server
 * certificates it signs (with subjectAltName, as Go's TLS demands), client
 * certificates it signs, and self-signed RSA certificates (the token server's
 * signing key). `testPki()` makes one set per process and reuses it: key
 * generation is the slow part of starting a TLS or token registry.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its private key, both PEM files. */
export interface CertPair {
  cert: string;
  key: string;
}

export function haveOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** EC P-256 keys: much faster to make than RSA, and every TLS stack we test with takes them. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA certificate (`ca.crt`) and key (`ca.key`) in `dir`, valid for `days`. */
export function makeCa(dir: string, cn = 'ocikit test CA', days = 2): CertPair {
  const pair = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  openssl([
    'req', '-x509', ...EC_KEY, '-keyout', pair.key, '-out', pair.cert, '-subj', `/CN=${cn}`, '-days', String(days),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

/** Signs a new key's certificate with `ca`; `ext` is the v3 extension section's body. */
function signLeaf(dir: string, name: string, cn: string, ca: CertPair, ext: string, days: number): CertPair {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `[v3]\n${ext}\n`);
  openssl(['req', '-new', ...EC_KEY, '-keyout', pair.key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl([
    'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', pair.cert,
    '-days', String(days), '-extfile', extFile, '-extensions', 'v3',
  ]);
  return pair;
}

/** A server certificate signed by `ca`, for the given IP addresses and DNS names. */
export function makeServerCert(
  dir: string,
  ca: CertPair,
  names: { ips?: string[]; dns?: string[] } = { ips: ['127.0.0.1'], dns: ['localhost'] },
  days = 2,
): CertPair {
  const san = [...(names.ips ?? []).map((ip) => `IP:${ip}`), ...(names.dns ?? []).map((d) => `DNS:${d}`)].join(',');
  const ext = `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment`;
  return signLeaf(dir, 'server', names.dns?.[0] ?? names.ips?.[0] ?? 'server', ca, ext, days);
}

/** A client certificate signed by `ca` (for mutual TLS). */
export function makeClientCert(dir: string, ca: CertPair, cn = 'ocikit test client', days = 2): CertPair {
  const ext = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature';
  return signLeaf(dir, 'client', cn, ca, ext, days);
}

/** A self-signed RSA-2048 certificate and key (`NAME.crt`, `NAME.key`), e.g. to sign RS256 tokens. */
export function makeSelfSignedRsa(dir: string, name: string, cn: string, days = 2): CertPair {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pair.key, '-out', pair.cert, '-subj', `/CN=${cn}`, '-days', String(days)]);
  return pair;
}

/** The TLS side of the test PKI, made once per process. */
export interface TestPki {
  ca: CertPair;
  /** for 127.0.0.1 and localhost */
  server: CertPair;
  client: CertPair;
}

let pkiDir: string | undefined;
let pki: TestPki | undefined;
let tokenCert: CertPair | undefined;

/** A directory for this process's cached certificates, removed when the process exits. */
function cacheDir(): string {
  if (pkiDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'ocikit-pki-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    pkiDir = dir;
  }
  return pkiDir;
}

/** A CA with a server certificate (127.0.0.1, localhost) and a client certificate, made on first use. */
export function testPki(): TestPki {
  if (pki === undefined) {
    const ca = makeCa(cacheDir());
    pki = { ca, server: makeServerCert(cacheDir(), ca), client: makeClientCert(cacheDir(), ca) };
  }
  return pki;
}

/** A self-signed RSA certificate and key for signing RS256 tokens, made on first use. */
export function testTokenCert(): CertPair {
  tokenCert ??= makeSelfSignedRsa(cacheDir(), 'token', 'token');
  return tokenCert;
}
