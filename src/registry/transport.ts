/**
 * One HTTP exchange with a registry host, over node:http/https with
 * keep-alive agents: no auth, no retries, no redirects (client.ts does those).
 *
 * Built on node:https rather than the global fetch because fetch in Node 20
 * cannot take TLS options (a private CA, client certificates, unverified TLS)
 * without the separate undici package; node:https takes them per agent.
 *
 * TLS per registry host, as containers/image does: Node's CAs and the
 * system's bundle (`/etc/ssl/certs/ca-certificates.crt`, or SSL_CERT_FILE), plus
 * every `*.crt` of the host's certificate directory (`--cert-dir DIR`, else
 * `/etc/containers/certs.d/HOST` and `/etc/docker/certs.d/HOST`), plus
 * `--ca-file`; a `NAME.cert` with its `NAME.key` there is the client
 * certificate. `insecure` turns verification off and allows plain HTTP.
 */
import { readdirSync, readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { OcikitError, errnoCode } from '../errors.js';

export interface TlsOptions {
  /** A PEM file of extra CAs to trust. */
  caFile?: string;
  /** A directory of `*.crt` CAs and `*.cert`/`*.key` client pairs, used instead of the default ones. */
  certDir?: string;
  /** Skip certificate verification and allow plain HTTP. */
  insecure?: boolean;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** A body to send; a Buffer is sent with its length. */
  body?: Buffer | Readable;
  /** Aborts the exchange, body included (Ctrl-C). */
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
  /** Set when retries ran out on this (retryable) status. */
  attempts?: number;
}

const DEFAULT_CERT_DIRS = ['/etc/containers/certs.d', '/etc/docker/certs.d'];
/** Milliseconds without any activity (connect, headers or body) before an exchange fails. */
const IDLE_TIMEOUT = 60_000;

/** Errors worth trying again: the connection broke, not the request. */
const TRANSIENT = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE']);

/** OpenSSL's and Node's certificate verification failures. */
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

export class TransportError extends OcikitError {
  constructor(
    message: string,
    readonly transient: boolean,
    cause?: unknown,
  ) {
    super('NETWORK', message, { cause });
    this.name = 'TransportError';
  }
}

/** A network error as one line, naming the host. */
export function describeNetworkError(err: unknown, host: string): TransportError {
  if (err instanceof TransportError) return err;
  const code = errnoCode(err);
  if (code === 'ABORT_ERR' || (err as Error)?.name === 'AbortError') return new TransportError('interrupted', false, err);
  const transient = code !== undefined ? TRANSIENT.has(code) : /socket hang up|aborted|premature/i.test(String((err as Error)?.message));
  let what: string;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      what = 'unknown host';
      break;
    case 'ECONNREFUSED':
      what = 'connection refused';
      break;
    case 'ECONNRESET':
      what = 'connection reset';
      break;
    case 'ETIMEDOUT':
      what = 'timed out';
      break;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      what = 'TLS handshake failed (a plain-HTTP registry? then use --tls-verify=false)';
      break;
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE':
      what = `the registry requires a client certificate it accepts (${code}; put a NAME.cert and NAME.key pair in --cert-dir)`;
      break;
    default:
      if (code !== undefined && CERT_ERRORS.test(code)) what = `certificate not trusted: ${code} (use --ca-file or --cert-dir, or --tls-verify=false)`;
      else what = (err as Error)?.message ?? String(err);
  }
  return new TransportError(`${host}: ${what}`, transient, err);
}

function certFiles(dir: string): { cas: Buffer[]; cert?: Buffer; key?: Buffer } {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return { cas: [] };
    throw new OcikitError('IO', `read certificate directory ${dir}: ${(err as Error).message}`);
  }
  const cas = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n)));
  const certName = names.find((n) => n.endsWith('.cert'));
  if (certName === undefined) return { cas };
  const keyName = `${certName.slice(0, -'.cert'.length)}.key`;
  if (!names.includes(keyName)) throw new OcikitError('USAGE', `client certificate ${join(dir, certName)} has no matching key ${keyName}`);
  return { cas, cert: readFileSync(join(dir, certName)), key: readFileSync(join(dir, keyName)) };
}

/** The HTTPS agent options for a registry host. */
export function tlsAgentOptions(host: string, tls: TlsOptions): https.AgentOptions {
  // Docker Hub's directory is named for docker.io, the name users know it by.
  const names = host === 'registry-1.docker.io' ? ['docker.io', host] : [host];
  const dirs = tls.certDir !== undefined ? [tls.certDir] : DEFAULT_CERT_DIRS.flatMap((d) => names.map((n) => join(d, n)));
  const extra: Buffer[] = [];
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  for (const dir of dirs) {
    const found = certFiles(dir);
    extra.push(...found.cas);
    if (cert === undefined && found.cert !== undefined) ({ cert, key } = found);
  }
  if (tls.caFile !== undefined) {
    try {
      extra.push(readFileSync(tls.caFile));
    } catch (err) {
      throw new OcikitError('USAGE', `read --ca-file ${tls.caFile}: ${errnoCode(err) === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  const opts: https.AgentOptions = { keepAlive: true, maxSockets: 16, rejectUnauthorized: tls.insecure !== true };
  // Giving `ca` replaces Node's trust list, so the system's and NODE_EXTRA_CA_CERTS go in again.
  // Nothing is verified with `insecure`: loading the CAs would only cost time.
  const system = tls.insecure ? [] : systemCas();
  if (!tls.insecure && (extra.length > 0 || system.length > 0)) opts.ca = [...rootCertificates, ...system, ...extra.map((b) => b.toString('utf8'))];
  if (cert !== undefined) Object.assign(opts, { cert, key });
  return opts;
}

/**
 * The system's CA bundle (Debian's ca-certificates, or SSL_CERT_FILE) and
 * NODE_EXTRA_CA_CERTS, which Node adds to its own list only when no `ca` is given.
 */
function systemCas(): string[] {
  const files = [process.env['SSL_CERT_FILE'] || '/etc/ssl/certs/ca-certificates.crt', process.env['NODE_EXTRA_CA_CERTS']];
  const out: string[] = [];
  for (const f of files) {
    if (!f) continue;
    try {
      out.push(readFileSync(f, 'utf8'));
    } catch {
      // absent: nothing to add
    }
  }
  return out;
}

/** Agents for one registry host (and the hosts it redirects to). */
export class Transport {
  private https: https.Agent | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly host: string,
    readonly tls: TlsOptions,
  ) {
    // Fail early on a bad --ca-file or cert dir, but build the TLS context
    // (tens of ms with the system bundle) only when HTTPS is used.
    if (tls.caFile !== undefined || tls.certDir !== undefined) this.httpsAgent;
  }

  private get httpsAgent(): https.Agent {
    this.https ??= new https.Agent(tlsAgentOptions(this.host, this.tls));
    return this.https;
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    const { url } = req;
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...req.headers };
      if (Buffer.isBuffer(req.body)) headers['content-length'] = req.body.length;
      const r = mod.request(url, { method: req.method, headers, agent: secure ? this.httpsAgent : this.httpAgent, ...(req.signal ? { signal: req.signal } : {}) });
      r.setTimeout(IDLE_TIMEOUT, () => r.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      r.once('error', (err) => reject(describeNetworkError(err, url.host)));
      r.once('response', (res) => {
        // The idle timer keeps running for the body; a stalled body fails the read.
        res.setTimeout?.(IDLE_TIMEOUT, () => res.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      if (req.body === undefined) r.end();
      else if (Buffer.isBuffer(req.body)) r.end(req.body);
      else {
        req.body.once('error', (err) => r.destroy(err));
        req.body.pipe(r);
      }
    });
  }

  close(): void {
    this.https?.destroy();
    this.httpAgent.destroy();
  }
}

/** Reads a whole (small) body, refusing one over `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new OcikitError('REGISTRY', `${what}: registry sent ${declared} bytes, more than the ${limit} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        res.body.destroy();
        throw new OcikitError('REGISTRY', `${what}: registry sent more than the ${limit} bytes allowed`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof OcikitError) throw err;
    throw describeNetworkError(err, res.url.host);
  }
  return Buffer.concat(chunks, size);
}

/** Drops a body we do not read, so the socket goes back to the pool. */
export function discard(res: HttpResponse): void {
  res.body.resume();
  res.body.on('error', () => undefined);
}
