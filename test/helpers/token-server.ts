/**
 * A token server for tests (the distribution "token" auth scheme): plain
 * node:http on 127.0.0.1 that issues RS256 JWTs the test registry trusts.
 *
 * GET /token?service=S&scope=T:NAME:ACTIONS[&scope=…][&account=…][&offline_token=true]
 * with an optional Basic header, and POST /token with an OAuth2 form
 * (grant_type=password or refresh_token). The test user gets every action it
 * asks for; anonymous clients get only `anonymousActions` (pull) on
 * repositories; wrong credentials get 401. Every request is logged in
 * `requests` so tests can count token fetches.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { X509Certificate, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTmpDir, type AfterHook } from './tmp.js';
import { testTokenCert, type CertPair } from './test-certs.js';

export interface TokenServerOptions {
  /** the registry's service name (the JWT's `aud`); default "test-registry" */
  service?: string;
  /** the JWT's `iss`; default "test-token-issuer" */
  issuer?: string;
  /** default tester / pa55-w0rd */
  user?: { username: string; password: string };
  /** token lifetime in seconds; default 300 */
  expiresIn?: number;
  /** what anonymous clients get on a repository; default ["pull"] */
  anonymousActions?: string[];
  /** signing certificate and key; default the per-process `testTokenCert()` */
  signer?: CertPair;
}

/** One access entry of a token's `access` claim. */
export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

/** One request the token server answered. */
export interface TokenRequest {
  method: 'GET' | 'POST';
  /** the requested scopes, as sent */
  scopes: string[];
  /** the authenticated user; absent for anonymous requests */
  user?: string;
  /** `account` (GET) or `username` (POST) as sent */
  account?: string;
  service?: string;
  /** POST's grant_type */
  grant?: string;
  /** the HTTP status answered */
  status: number;
  /** Date.now() when answered */
  time: number;
}

export interface TokenServer {
  /** http://127.0.0.1:PORT/token */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the self-signed signing certificate (the registry's rootcertbundle) */
  certFile: string;
  user: { username: string; password: string };
  /** lifetime of tokens issued from now on, in seconds; may be set by tests */
  expiresIn: number;
  /** what anonymous clients get from now on; may be set by tests */
  anonymousActions: string[];
  /** every request answered so far, oldest first (a fresh array at each read) */
  readonly requests: TokenRequest[];
  /** Signs a token directly, e.g. to test expired or foreign-scope tokens. */
  mint(access: TokenAccess[], opts?: { sub?: string; expiresIn?: number; now?: number }): string;
  close(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** "repository:a/b:pull,push" → entry; the name may hold colons, the type may hold "(class)". */
function parseScope(scope: string): TokenAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const actions = scope.slice(last + 1).split(',').filter((a) => a !== '');
  return { type, name: scope.slice(first + 1, last), actions };
}

/** Scopes may come as repeated parameters and, in OAuth2 forms, space-separated. */
function scopesOf(params: URLSearchParams): string[] {
  return params.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
}

function basicUser(req: IncomingMessage): { username: string; password: string } | undefined {
  const h = req.headers.authorization;
  if (h === undefined || !/^basic /i.test(h)) return undefined;
  const text = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return { username: text, password: '' };
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An answer: status and JSON body. */
type Reply = [number, unknown];

function unauthorized(message: string): Reply {
  return [401, { errors: [{ code: 'UNAUTHORIZED', message, detail: null }] }];
}

/** What the child process is told at start. */
interface ChildConfig {
  service: string;
  issuer: string;
  user: { username: string; password: string };
  signer: CertPair;
  stateFile: string;
  logFile: string;
}

/** The settings a test may change while the server runs. */
interface MutableState {
  expiresIn: number;
  anonymousActions: string[];
}

type Mint = TokenServer['mint'];

/** A signer of RS256 tokens with the signing certificate in `x5c`. */
function makeMinter(cfg: Pick<ChildConfig, 'service' | 'issuer' | 'signer'>, expiresIn: () => number): Mint {
  const key = createPrivateKey(readFileSync(cfg.signer.key));
  const x5c = [new X509Certificate(readFileSync(cfg.signer.cert)).raw.toString('base64')];
  return (access, o = {}) => {
    const now = Math.floor((o.now ?? Date.now()) / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c };
    const claims = {
      iss: cfg.issuer,
      sub: o.sub ?? '',
      aud: cfg.service,
      exp: now + (o.expiresIn ?? expiresIn()),
      nbf: now - 10,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
  };
}

/** The child's server: answers /token, logs each request. Resolves with its port. */
async function serve(cfg: ChildConfig): Promise<number> {
  const state = (): MutableState => JSON.parse(readFileSync(cfg.stateFile, 'utf8')) as MutableState;
  let expiresIn = 0;
  const mint = makeMinter(cfg, () => expiresIn);
  const refreshTokens = new Map<string, string>();

  /** What `username` (undefined: anonymous) gets for the requested scopes. */
  const grant = (scopes: string[], username: string | undefined, st: MutableState): TokenAccess[] =>
    scopes.flatMap((s) => {
      const a = parseScope(s);
      if (a === undefined) return [];
      if (username !== undefined) return [a];
      const allowed = a.type === 'repository' ? st.anonymousActions : [];
      return [{ ...a, actions: a.actions.filter((x) => allowed.includes(x)) }];
    });

  const isUser = (u: { username: string; password: string }): boolean =>
    u.username === cfg.user.username && u.password === cfg.user.password;

  const tokenBody = (scopes: string[], username: string | undefined): Record<string, unknown> => {
    const st = state();
    expiresIn = st.expiresIn;
    const token = mint(grant(scopes, username, st), username === undefined ? {} : { sub: username });
    return { token, access_token: token, expires_in: st.expiresIn, issued_at: new Date().toISOString() };
  };

  const newRefreshToken = (username: string): string => {
    const rt = randomBytes(16).toString('hex');
    refreshTokens.set(rt, username);
    return rt;
  };

  const handleGet = (req: IncomingMessage, q: URLSearchParams, entry: TokenRequest): Reply => {
    const cred = basicUser(req);
    if (cred !== undefined && !isUser(cred)) return unauthorized('invalid username or password');
    if (cred !== undefined) entry.user = cred.username;
    const body = tokenBody(entry.scopes, entry.user);
    if (entry.user !== undefined && q.get('offline_token') === 'true') body.refresh_token = newRefreshToken(entry.user);
    return [200, body];
  };

  const handlePost = (form: URLSearchParams, entry: TokenRequest): Reply => {
    const grantType = form.get('grant_type');
    if (grantType !== null) entry.grant = grantType;
    let username: string;
    if (grantType === 'password') {
      const u = { username: form.get('username') ?? '', password: form.get('password') ?? '' };
      entry.account = u.username;
      if (!isUser(u)) return unauthorized('invalid username or password');
      username = u.username;
    } else if (grantType === 'refresh_token') {
      const known = refreshTokens.get(form.get('refresh_token') ?? '');
      if (known === undefined) return unauthorized('invalid refresh token');
      username = known;
    } else {
      return [400, { error: 'unsupported_grant_type' }];
    }
    entry.user = username;
    const { access_token, expires_in, issued_at } = tokenBody(entry.scopes, username);
    const scope = entry.scopes.join(' ');
    return [200, { access_token, expires_in, issued_at, scope, refresh_token: newRefreshToken(username) }];
  };

  const http = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      const params = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
      const entry: TokenRequest = { method: req.method, scopes: scopesOf(params), status: 0, time: 0 };
      const account = params.get('account');
      if (account !== null) entry.account = account;
      const service = params.get('service');
      if (service !== null) entry.service = service;
      const [status, body] = req.method === 'POST' ? handlePost(params, entry) : handleGet(req, params, entry);
      entry.status = status;
      entry.time = Date.now();
      // logged before answering, so a client that has its answer finds it logged
      appendFileSync(cfg.logFile, `${JSON.stringify(entry)}\n`);
      sendJson(res, status, body);
    })().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  return (http.address() as { port: number }).port;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts a token server (in a child process) for the rest of the test. */
export async function startTokenServer(t: AfterHook, opts: TokenServerOptions = {}): Promise<TokenServer> {
  const tmp = await makeTmpDir(t, 'ocikit-token-');
  const cfg: ChildConfig = {
    service: opts.service ?? 'test-registry',
    issuer: opts.issuer ?? 'test-token-issuer',
    user: opts.user ?? { username: 'tester', password: 'pa55-w0rd' },
    signer: opts.signer ?? testTokenCert(),
    stateFile: join(tmp.path, 'state.json'),
    logFile: join(tmp.path, 'requests.jsonl'),
  };
  let st: MutableState = { expiresIn: opts.expiresIn ?? 300, anonymousActions: opts.anonymousActions ?? ['pull'] };
  const setState = (next: MutableState): void => {
    st = next;
    writeFileSync(cfg.stateFile, JSON.stringify(st));
  };
  setState(st);
  writeFileSync(cfg.logFile, '');
  const cfgFile = join(tmp.path, 'config.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));

  // The child exits when its stdin closes, so it never outlives this process.
  const child = spawn(process.execPath, [SELF, cfgFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  t.after(close);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^port (\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`token server exited (${code}) before listening: ${out}`)));
  });
  // Let the test process end even if a test forgot to wait for `close`.
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  (child.stdout as unknown as { unref(): void }).unref();

  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: cfg.service,
    issuer: cfg.issuer,
    certFile: cfg.signer.cert,
    user: cfg.user,
    get expiresIn() {
      return st.expiresIn;
    },
    set expiresIn(v: number) {
      setState({ ...st, expiresIn: v });
    },
    get anonymousActions() {
      return st.anonymousActions;
    },
    set anonymousActions(v: string[]) {
      setState({ ...st, anonymousActions: v });
    },
    get requests() {
      const text = readFileSync(cfg.logFile, 'utf8');
      return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as TokenRequest);
    },
    mint: makeMinter(cfg, () => st.expiresIn),
    close,
  };
}

// Run as a script: serve until killed, telling the parent the port.
if (process.argv[1] === SELF && process.argv[2] !== undefined) {
  const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as ChildConfig;
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
  serve(cfg).then(
    (port) => process.stdout.write(`port ${port}\n`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
