/**
 * A fault-injecting reverse proxy for the registry client's tests: plain
 * node:http on 127.0.0.1 in front of a test registry. It forwards every
 * request (any method, bodies streamed both ways, every end-to-end header
 * including Authorization and Range, Host rewritten for the upstream, and a
 * Location that points at the upstream rewritten to point back at the proxy),
 * and applies queued faults to the requests they match: error statuses, cut
 * connections, flipped or extra body bytes, delays, rewritten bodies, and a
 * 307 to a second origin ("storage", another port) that stands for a CDN or a
 * presigned URL. Every request either origin answers is logged.
 *
 * The storage origin serves the same upstream paths. It records whether
 * Authorization arrived; when it did not, it still fetches from the upstream
 * with the last Authorization the proxy saw for that path+query, as a
 * presigned URL would carry its own credential. A client that wrongly sends
 * its token across origins is therefore visible in the log, not masked.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AfterHook } from './tmp.js';

/** What a fault does to the request it matches. */
export type FaultKind =
  /** answer this status instead of forwarding (e.g. 500, 503, 429 with {'Retry-After': '1'}) */
  | { type: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** forward the upstream response head, then close the connection after `afterBytes` body bytes */
  | { type: 'cut'; afterBytes: number }
  /** forward, with the body byte at `offset` XORed with 0xff (same length) */
  | { type: 'flip'; offset: number }
  /** forward the body followed by `bytes` bytes of "Z" (Content-Length raised to match) */
  | { type: 'extra'; bytes: number }
  /** wait `ms` before forwarding */
  | { type: 'delay'; ms: number }
  /** answer 307 with Location on the storage origin (same path+query) */
  | { type: 'redirect'; to: 'storage' }
  /**
   * replace the upstream body (Content-Length fixed, other headers such as
   * Docker-Content-Digest kept unless `headers` sets them: a string replaces
   * a header, null removes it; names in lower case)
   */
  | { type: 'rewrite'; body: (b: Buffer) => Buffer; contentType?: string; headers?: Record<string, string | null> };

export interface Fault {
  /** the request method it applies to (case-insensitive); any when absent */
  method?: string;
  /** tested against the request's path+query, e.g. /\/blobs\/sha256:/ */
  path: RegExp;
  /** which origin's requests it applies to; default 'proxy' */
  origin?: 'proxy' | 'storage';
  /** how many matching requests it applies to (default 1; Infinity allowed); then it is spent */
  times?: number;
  kind: FaultKind;
}

export interface ProxyLogEntry {
  method: string;
  /** path+query as received */
  path: string;
  /** the status sent to the client (502 when the upstream failed before answering) */
  status: number;
  /** whether the request carried an Authorization header */
  authorization: boolean;
  /** the Range header as received */
  range?: string;
  origin: 'proxy' | 'storage';
  /** the type of the fault applied, if any */
  fault?: FaultKind['type'];
  /** Date.now() when the request arrived */
  at: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT, the proxy origin */
  url: string;
  /** 127.0.0.1:PORT of the proxy origin */
  host: string;
  /** http://127.0.0.1:PORT2, the storage origin redirects point at */
  storageUrl: string;
  /** every request either origin received, in arrival order; status is filled in when the head is sent */
  log: ProxyLogEntry[];
  /** queues a fault; the first unspent matching fault in queue order applies */
  add(f: Fault): void;
  /** drops every pending fault and empties `log` (the same array) */
  clear(): void;
  /** how many queued faults are not yet spent */
  pending(): number;
  /** stops both origins and drops their connections; safe to call more than once */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** PEM CA to trust when the upstream is https */
  ca?: string;
}

/** Hop-by-hop headers, never forwarded in either direction (RFC 9110 7.6.1). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

function endToEnd(raw: IncomingMessage['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

interface Pending extends Fault {
  left: number;
}

interface Served {
  req: IncomingMessage;
  res: ServerResponse;
  entry: ProxyLogEntry;
  /** this origin's own base URL, for Location rewriting */
  self: string;
  /** Authorization to send upstream (the client's, or the captured one on storage) */
  auth?: string;
  kind?: FaultKind;
}

/**
 * Starts the proxy (and its storage origin) in front of `upstream`
 * (e.g. "http://127.0.0.1:5000"); both stop when the test ends.
 */
export async function startFaultProxy(t: AfterHook, upstream: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const up = new URL(upstream);
  const tls = up.protocol === 'https:';
  const agent = tls ? new HttpsAgent({ keepAlive: true, ca: opts.ca }) : new Agent({ keepAlive: true });
  const send = tls ? httpsRequest : httpRequest;
  const faults: Pending[] = [];
  const log: ProxyLogEntry[] = [];
  /** the last Authorization the proxy origin saw, by path+query */
  const authByPath = new Map<string, string>();

  function take(origin: 'proxy' | 'storage', method: string, path: string): FaultKind | undefined {
    const i = faults.findIndex((f) => {
      f.path.lastIndex = 0; // a /g or /y RegExp keeps state between tests
      return (f.origin ?? 'proxy') === origin && (f.method === undefined || f.method.toUpperCase() === method) && f.path.test(path);
    });
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (--f.left <= 0) faults.splice(i, 1);
    return f.kind;
  }

  function head(s: Served, status: number, headers: OutgoingHttpHeaders): void {
    s.entry.status = status;
    s.res.writeHead(status, headers);
  }

  function answer(s: Served, status: number, headers: Record<string, string>, body: string | Buffer): void {
    s.req.resume(); // drain any request body so the connection stays usable
    const buf = Buffer.from(body);
    head(s, status, { ...headers, 'content-length': String(buf.length) });
    s.res.end(buf);
  }

  function forward(s: Served): void {
    const { req, res } = s;
    const headers = endToEnd(req.headers);
    headers.host = up.host;
    if (s.auth === undefined) delete headers.authorization;
    else headers.authorization = s.auth;
    const out = send({ protocol: up.protocol, hostname: up.hostname, port: up.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
      respond(s, upRes);
    });
    out.on('error', () => {
      if (!res.headersSent) answer(s, 502, { 'content-type': 'text/plain' }, 'fault-proxy: upstream failed\n');
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  }

  function respond(s: Served, upRes: IncomingMessage): void {
    const { req, res, kind } = s;
    const headers = endToEnd(upRes.headers);
    const loc = upRes.headers.location;
    if (loc !== undefined && loc.startsWith(up.origin)) headers.location = s.self + loc.slice(up.origin.length);
    const status = upRes.statusCode ?? 502;
    const bodyless = req.method === 'HEAD' || status === 204 || status === 304;
    upRes.on('error', () => res.destroy());
    if (bodyless || kind === undefined || kind.type === 'delay' || kind.type === 'status' || kind.type === 'redirect') {
      head(s, status, headers);
      upRes.pipe(res);
      return;
    }
    switch (kind.type) {
      case 'flip': {
        let pos = 0;
        head(s, status, headers);
        upRes.on('data', (c: Buffer) => {
          if (kind.offset >= pos && kind.offset < pos + c.length) {
            c = Buffer.from(c);
            c[kind.offset - pos] = c[kind.offset - pos]! ^ 0xff;
          }
          pos += c.length;
          if (!res.write(c)) upRes.pause();
        });
        res.on('drain', () => upRes.resume());
        upRes.on('end', () => res.end());
        return;
      }
      case 'extra': {
        const len = upRes.headers['content-length'];
        if (len !== undefined) headers['content-length'] = String(Number(len) + kind.bytes);
        head(s, status, headers);
        upRes.pipe(res, { end: false });
        upRes.on('end', () => res.end(Buffer.alloc(kind.bytes, 'Z')));
        return;
      }
      case 'rewrite': {
        const parts: Buffer[] = [];
        upRes.on('data', (c: Buffer) => parts.push(c));
        upRes.on('end', () => {
          const body = kind.body(Buffer.concat(parts));
          headers['content-length'] = String(body.length);
          if (kind.contentType !== undefined) headers['content-type'] = kind.contentType;
          for (const [k, v] of Object.entries(kind.headers ?? {})) {
            if (v === null) delete headers[k];
            else headers[k] = v;
          }
          head(s, status, headers);
          res.end(body);
        });
        return;
      }
      case 'cut': {
        let sent = 0;
        let done = false;
        const cut = (): void => {
          if (done) return;
          done = true;
          upRes.destroy();
          // FIN once what was written has been flushed: the client sees a
          // short body (or a missing last chunk), not a reset that could drop it
          const sock = res.socket;
          if (sock === null) return;
          sock.end();
          setTimeout(() => sock.destroy(), 200).unref();
        };
        head(s, status, headers);
        res.flushHeaders();
        if (kind.afterBytes <= 0) return cut();
        upRes.on('data', (c: Buffer) => {
          if (done) return;
          const room = kind.afterBytes - sent;
          if (c.length < room) {
            sent += c.length;
            if (!res.write(c)) upRes.pause();
            return;
          }
          res.write(c.subarray(0, room));
          cut();
        });
        res.on('drain', () => upRes.resume());
        upRes.on('end', cut); // shorter than afterBytes: still never end the response properly
        return;
      }
    }
  }

  function serve(origin: 'proxy' | 'storage', self: () => string) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const authorization = req.headers.authorization;
      const entry: ProxyLogEntry = { method, path, status: 0, authorization: authorization !== undefined, origin, at: Date.now() };
      if (req.headers.range !== undefined) entry.range = req.headers.range;
      log.push(entry);
      let auth = authorization;
      if (origin === 'proxy' && authorization !== undefined) authByPath.set(path, authorization);
      if (origin === 'storage' && auth === undefined) auth = authByPath.get(path);
      const kind = take(origin, method, path);
      if (kind !== undefined) entry.fault = kind.type;
      const s: Served = { req, res, entry, self: self(), auth, kind };
      if (kind?.type === 'status') return answer(s, kind.status, kind.headers ?? {}, kind.body ?? '');
      if (kind?.type === 'redirect') return answer(s, 307, { location: storageUrl + path }, '');
      if (kind?.type === 'delay') {
        const timer = setTimeout(() => forward(s), kind.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      forward(s);
    };
  }

  let proxyUrl = '';
  let storageUrl = '';
  const proxy = createServer(serve('proxy', () => proxyUrl));
  const storage = createServer(serve('storage', () => storageUrl));
  const listen = (srv: Server): Promise<number> =>
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port));
    });
  const [pp, sp] = await Promise.all([listen(proxy), listen(storage)]);
  proxyUrl = `http://127.0.0.1:${pp}`;
  storageUrl = `http://127.0.0.1:${sp}`;

  let closed: Promise<void> | undefined;
  const stop = (srv: Server): Promise<void> =>
    new Promise((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    });
  const close = (): Promise<void> =>
    (closed ??= Promise.all([stop(proxy), stop(storage)]).then(() => agent.destroy()));
  t.after(close);

  return {
    url: proxyUrl,
    host: `127.0.0.1:${pp}`,
    storageUrl,
    log,
    add(f: Fault): void {
      faults.push({ ...f, left: f.times ?? 1 });
    },
    clear(): void {
      faults.length = 0;
      log.length = 0;
    },
    pending: () => faults.length,
    close,
  };
}
