/**
 * A client for one registry host: the distribution API's requests with
 * authentication, retries and redirects done here once for every command.
 *
 * - The first request pings `/v2/` to learn the scheme (with `insecure`,
 *   HTTPS first and plain HTTP when that fails) and the challenge.
 * - Bearer: a token per set of scopes (`repository:NAME:pull,push`), fetched
 *   from the challenge's realm with the credentials if any, cached until it
 *   expires, fetched again on a 401 (with the scope the 401 names).
 *   Basic: the credentials on every request to the registry.
 * - Redirects are followed; `Authorization` only goes to the registry's own
 *   origin, never to the storage a blob is redirected to.
 * - 429, 5xx and dropped connections are retried with exponential backoff,
 *   honouring `Retry-After`, up to `retries` times; then a one-line error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { OcikitError } from '../errors.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { Transport, TransportError, discard, readBody, type HttpRequest, type HttpResponse, type TlsOptions } from './transport.js';

export interface ClientOptions {
  credentials?: Credentials | undefined;
  tls?: TlsOptions;
  /** How many times a failed exchange is tried again (default 5). */
  retries?: number;
  /** The first backoff delay in ms, doubled on every retry (default 500). */
  retryBaseMs?: number;
  /** Longest wait for one retry, Retry-After included (default 60 s). */
  retryMaxMs?: number;
  userAgent?: string;
  /** Told about every retry, for progress output. */
  onRetry?: (message: string) => void;
  /** Stops every exchange and retry (Ctrl-C); the operation then fails with "interrupted". */
  signal?: AbortSignal;
}

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface ClientRequest {
  method: Method;
  /** An API path ("/v2/…") or an absolute URL (an upload location). */
  path: string;
  headers?: Record<string, string>;
  /** Makes the body; called again for every attempt. */
  body?: () => Buffer | Readable;
  /** Token scopes the request needs. */
  scopes: string[];
  /** What the request is for, in messages ("manifest alpine:3"). */
  what: string;
  /** Statuses handed back to the caller; any other is an error (default: 2xx). */
  ok?: number[];
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const MAX_REDIRECTS = 10;
const MAX_ERROR_BODY = 64 << 10;
const MAX_TOKEN_BODY = 1 << 20;

interface CachedToken {
  token: string;
  expires: number;
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export class RegistryClient {
  readonly transport: Transport;
  private origin: URL | undefined;
  private challenge: Challenge | undefined;
  private pinged: Promise<void> | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly fetching = new Map<string, Promise<CachedToken>>();
  /** How many times a failed exchange is tried again. */
  readonly retries: number;
  private readonly retryBase: number;
  private readonly retryMax: number;

  constructor(
    /** "host[:port]", docker.io already mapped to its API host. */
    readonly host: string,
    readonly options: ClientOptions = {},
  ) {
    this.transport = new Transport(host, options.tls ?? {});
    this.retries = options.retries ?? 5;
    this.retryBase = options.retryBaseMs ?? 500;
    this.retryMax = options.retryMaxMs ?? 60_000;
  }

  close(): void {
    this.transport.close();
  }

  /** One exchange, stopped by the client's signal. */
  send(req: HttpRequest): Promise<HttpResponse> {
    return this.transport.send({ ...req, signal: this.options.signal });
  }

  /** `GET /v2/`: learns the scheme and the authentication challenge. */
  ping(): Promise<void> {
    this.pinged ??= this.doPing();
    return this.pinged;
  }

  private async doPing(): Promise<void> {
    const schemes = this.options.tls?.insecure ? ['https:', 'http:'] : ['https:'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}//${this.host}/v2/`);
      try {
        const res = await this.withRetries('ping', () => this.send({ method: 'GET', url, headers: this.baseHeaders() }));
        discard(res);
        this.origin = new URL(`${scheme}//${this.host}`);
        if (res.status === 401) this.challenge = pickChallenge(res);
        else if (res.status >= 500) throw await statusError(res, `${this.host}: ping`);
        return;
      } catch (err) {
        lastError = err;
        if (!(err instanceof TransportError)) throw err;
      }
    }
    throw lastError;
  }

  /**
   * Checks the credentials as `docker login` does: a token with them (Bearer)
   * or `GET /v2/` with them (Basic) must be accepted.
   */
  async checkLogin(): Promise<void> {
    await this.ping();
    if (this.challenge === undefined) return;
    const res = await this.request({ method: 'GET', path: '/v2/', scopes: [], what: `login to ${this.host}` });
    discard(res);
  }

  private baseHeaders(): Record<string, string> {
    return { 'user-agent': this.options.userAgent ?? 'ocikit' };
  }

  /**
   * Sends a request with auth, redirects and retries. Returns the response
   * when its status is in `ok` (default: any 2xx); otherwise throws a
   * one-line error built from the registry's error body.
   */
  async request(req: ClientRequest): Promise<HttpResponse> {
    await this.ping();
    const res = await this.withRetries(req.what, () => this.exchange(req));
    const ok = req.ok ?? [];
    if (ok.includes(res.status) || (req.ok === undefined && res.status >= 200 && res.status < 300)) return res;
    throw await statusError(res, req.what, this.options.credentials !== undefined, res.attempts);
  }

  /** One attempt: auth, the 401 dance, redirects. */
  private async exchange(req: ClientRequest): Promise<HttpResponse> {
    let url = new URL(req.path, this.origin);
    let authorization = await this.authorization(req.scopes);
    let reauthed = false;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers = { ...this.baseHeaders(), ...req.headers };
      const own = url.origin === this.origin!.origin;
      if (own && authorization !== undefined) headers['authorization'] = authorization;
      const body = req.body?.();
      const res = await this.send({ method: req.method, url, headers, ...(body === undefined ? {} : { body }) });
      if (res.status === 401 && own && !reauthed) {
        const challenge = pickChallenge(res);
        if (challenge !== undefined) {
          discard(res);
          this.challenge = challenge;
          reauthed = true;
          const scopes = [...req.scopes];
          const extra = challenge.params['scope'];
          if (extra !== undefined) for (const s of extra.split(' ')) if (!scopes.includes(s)) scopes.push(s);
          this.forgetTokens(scopes);
          authorization = await this.authorization(scopes);
          hop--;
          continue;
        }
      }
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
        discard(res);
        url = new URL(location, url);
        continue;
      }
      return res;
    }
    throw new OcikitError('REGISTRY', `${req.what}: more than ${MAX_REDIRECTS} redirects`);
  }

  /**
   * Runs one exchange, again after a dropped connection or a 429/5xx, with
   * exponential backoff or the server's Retry-After, up to `retries` times.
   */
  private async withRetries(what: string, attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
    for (let n = 0; ; n++) {
      let res: HttpResponse;
      try {
        res = await attempt();
      } catch (err) {
        if (!(err instanceof TransportError) || !err.transient || n >= this.retries) {
          if (err instanceof TransportError && n > 0) throw new TransportError(`${what}: ${err.message} (after ${n + 1} attempts)`, false, err);
          throw err;
        }
        await this.backoff(n, undefined, `${what}: ${err.message}`);
        continue;
      }
      if (!RETRY_STATUS.has(res.status)) return res;
      if (n >= this.retries) return Object.assign(res, { attempts: n + 1 });
      const retryAfter = parseRetryAfter(res.headers['retry-after']);
      if (retryAfter !== undefined && retryAfter > this.retryMax) return Object.assign(res, { attempts: n + 1 });
      discard(res);
      await this.backoff(n, retryAfter, `${what}: ${res.status} ${httpText(res.status)}`);
    }
  }

  /** Waits before retry `n` (0-based), telling onRetry. */
  async backoff(n: number, retryAfterMs: number | undefined, why: string): Promise<void> {
    this.checkAborted();
    const exp = Math.min(this.retryMax, this.retryBase * 2 ** n);
    const delay = retryAfterMs ?? exp / 2 + Math.random() * (exp / 2);
    this.options.onRetry?.(`${why}; retrying in ${(delay / 1000).toFixed(1)} s (${n + 1}/${this.retries})`);
    await sleep(delay, undefined, this.options.signal ? { signal: this.options.signal } : {}).catch(() => this.checkAborted());
  }

  /** Throws "interrupted" once the signal has fired. */
  checkAborted(): void {
    if (this.options.signal?.aborted) throw new TransportError('interrupted', false);
  }

  private forgetTokens(scopes: string[]): void {
    this.tokens.delete(scopeKey(scopes));
  }

  /** The Authorization header for these scopes, fetching a token if needed. */
  private async authorization(scopes: string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    const creds = this.options.credentials;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      if (creds === undefined || creds.identityToken !== undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    // Requests in parallel (blob uploads) share one fetch per scope set.
    let pending = this.fetching.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(challenge, scopes).finally(() => this.fetching.delete(key));
      this.fetching.set(key, pending);
    }
    const token = await pending;
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  /** Asks the challenge's realm for a token (docker's token spec, or OAuth2 with an identity token). */
  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = challenge.params['realm'];
    if (realm === undefined) throw new OcikitError('AUTH', `${this.host}: Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new OcikitError('AUTH', `${this.host}: Bearer challenge with an invalid realm ${JSON.stringify(realm)}`);
    }
    const service = challenge.params['service'];
    const creds = this.options.credentials;
    const headers: Record<string, string> = { ...this.baseHeaders() };
    let method: Method = 'GET';
    let body: Buffer | undefined;
    if (creds?.identityToken !== undefined) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'ocikit' });
      if (service !== undefined) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service !== undefined) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (creds !== undefined) {
        url.searchParams.set('account', creds.username);
        headers['authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
    }
    const what = `${this.host}: token from ${url.origin}${url.pathname}`;
    const res = await this.withRetries(what, () => this.send({ method, url, headers, ...(body === undefined ? {} : { body }) }));
    if (res.status === 401 || res.status === 403) {
      discard(res);
      throw new OcikitError('AUTH', creds !== undefined ? `${this.host}: authentication failed: wrong username or password (from ${creds.source})` : `${this.host}: the token server refused anonymous access`);
    }
    if (res.status !== 200) throw await statusError(res, what);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      parsed = JSON.parse((await readBody(res, MAX_TOKEN_BODY, what)).toString('utf8')) as typeof parsed;
    } catch (err) {
      if (err instanceof OcikitError) throw err;
      throw new OcikitError('AUTH', `${what}: the answer is not JSON`);
    }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') throw new OcikitError('AUTH', `${what}: the answer holds no token`);
    const seconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    // Renew a little early, so a token does not expire in flight.
    return { token, expires: Date.now() + Math.max(1, seconds - Math.min(10, seconds / 4)) * 1000 };
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

function pickChallenge(res: HttpResponse): Challenge | undefined {
  const header = res.headers['www-authenticate'];
  if (header === undefined) return undefined;
  const all = parseChallenges(Array.isArray(header) ? header.join(', ') : header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  if (value === undefined || Array.isArray(value)) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function httpText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    408: 'Request Timeout',
    416: 'Range Not Satisfiable',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return texts[status] ?? 'HTTP error';
}

/** A one-line error from a failed response, using the distribution error body when there is one. */
export async function statusError(res: HttpResponse, what: string, hadCredentials = false, attempts = 1): Promise<OcikitError> {
  let detail = '';
  try {
    const text = (await readBody(res, MAX_ERROR_BODY, what)).toString('utf8');
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      detail = body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ').toLowerCase().replace(/^(\w+): \1\b/, '$1')).join('; ');
    }
  } catch {
    // no usable body
  }
  const status = `${res.status} ${httpText(res.status)}`;
  const text = (detail === '' ? status : `${status} (${detail})`) + (attempts > 1 ? ` (after ${attempts} attempts)` : '');
  if (res.status === 401) {
    return new OcikitError('AUTH', hadCredentials ? `${what}: authentication failed: ${text}` : `${what}: authentication required: ${text}`);
  }
  if (res.status === 403) return new OcikitError('AUTH', `${what}: access denied: ${text}`);
  if (res.status === 404) return new OcikitError('REGISTRY', `${what}: not found: ${text}`);
  return new OcikitError('REGISTRY', `${what}: ${text}`);
}
