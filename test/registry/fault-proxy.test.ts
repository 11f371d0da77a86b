/**
 * The fault proxy (test/helpers/fault-proxy.ts) in front of a real registry:
 * plain forwarding (uploads with rewritten Location, Range), then each fault
 * kind as a client sees it. One forwarding test uses a recording upstream
 * instead, to see exactly which headers arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';

const skip = haveRegistry() ? false : 'docker-registry is not installed (apt-get install docker-registry)';

/** Pushes `data` as a blob of repository `r` through `base`; returns its digest. */
async function pushBlob(base: string, data: Buffer): Promise<{ digest: string; location: string }> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const start = await fetch(`${base}/v2/r/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const location = start.headers.get('location') ?? '';
  const put = await fetch(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
  assert.equal(put.status, 201, await put.text());
  return { digest, location };
}

test('the fault proxy forwards to a real registry and injects each fault', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const proxy = await startFaultProxy(t, reg.url);
  const data = randomBytes(300_000);
  const { digest, location } = await pushBlob(proxy.url, data);
  const blob = `${proxy.url}/v2/r/blobs/${digest}`;
  const blobPath = new RegExp(`/blobs/${digest}$`);

  await t.test('forwards uploads with Location pointing back at the proxy, and blobs intact', async () => {
    assert.ok(location.startsWith(`${proxy.url}/v2/r/blobs/uploads/`), location);
    const res = await fetch(blob);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    assert.deepEqual(
      proxy.log.map((e) => [e.method, e.status, e.origin]),
      [['POST', 202, 'proxy'], ['PUT', 201, 'proxy'], ['GET', 200, 'proxy']],
    );
  });

  await t.test('passes Range through: 206 with Content-Range', async () => {
    proxy.clear();
    const res = await fetch(blob, { headers: { range: 'bytes=1000-1999' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data.subarray(1000, 2000));
    assert.equal(proxy.log[0]?.range, 'bytes=1000-1999');
    assert.equal(proxy.log[0]?.status, 206);
  });

  await t.test('cut: the body stops short and the client sees an error', async () => {
    proxy.add({ path: blobPath, kind: { type: 'cut', afterBytes: 70_000 } });
    const res = await fetch(blob);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(data.length));
    await assert.rejects(res.arrayBuffer());
    assert.equal(proxy.pending(), 0);
    // exactly afterBytes arrive before the connection closes
    proxy.add({ path: blobPath, kind: { type: 'cut', afterBytes: 70_000 } });
    const got = await new Promise<number>((resolve, reject) => {
      get(blob, (r) => {
        let n = 0;
        r.on('data', (c: Buffer) => (n += c.length));
        r.on('end', () => reject(new Error('the response ended normally')));
        r.on('aborted', () => resolve(n));
        r.on('error', () => resolve(n));
      }).on('error', reject);
    });
    assert.equal(got, 70_000);
    // the next request is clean again
    assert.deepEqual(Buffer.from(await (await fetch(blob)).arrayBuffer()), data);
  });

  await t.test('flip: same length, one byte changed', async () => {
    proxy.add({ method: 'GET', path: blobPath, kind: { type: 'flip', offset: 123_456 } });
    const got = Buffer.from(await (await fetch(blob)).arrayBuffer());
    assert.equal(got.length, data.length);
    assert.notDeepEqual(got, data);
    assert.equal(got[123_456], data[123_456]! ^ 0xff);
    got[123_456] = data[123_456]!;
    assert.deepEqual(got, data);
  });

  await t.test('extra: garbage after the body, Content-Length raised', async () => {
    proxy.add({ path: blobPath, kind: { type: 'extra', bytes: 10 } });
    const res = await fetch(blob);
    assert.equal(res.headers.get('content-length'), String(data.length + 10));
    const got = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(got.subarray(0, data.length), data);
    assert.equal(got.subarray(data.length).toString(), 'ZZZZZZZZZZ');
  });

  await t.test('status: 429 carries Retry-After; times counts down; method filters', async () => {
    proxy.clear();
    proxy.add({ method: 'HEAD', path: blobPath, kind: { type: 'status', status: 503 } });
    proxy.add({ path: blobPath, times: 2, kind: { type: 'status', status: 429, headers: { 'Retry-After': '1' }, body: '{"errors":[]}' } });
    const first = await fetch(blob);
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    assert.equal(await first.text(), '{"errors":[]}');
    assert.equal((await fetch(blob)).status, 429);
    assert.equal(proxy.pending(), 1); // only the HEAD fault is left
    const third = await fetch(blob);
    assert.equal(third.status, 200);
    await third.arrayBuffer();
    assert.equal((await fetch(blob, { method: 'HEAD' })).status, 503);
    assert.equal((await fetch(blob, { method: 'HEAD' })).status, 200);
    assert.deepEqual(proxy.log.map((e) => [e.status, e.fault]), [[429, 'status'], [429, 'status'], [200, undefined], [503, 'status'], [200, undefined]]);
  });

  await t.test('delay: waits before forwarding', async () => {
    proxy.add({ path: blobPath, kind: { type: 'delay', ms: 300 } });
    const t0 = Date.now();
    const res = await fetch(blob);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    assert.ok(Date.now() - t0 >= 290, `took ${Date.now() - t0} ms`);
  });

  await t.test('rewrite: replaces the body and its type', async () => {
    proxy.add({ path: blobPath, kind: { type: 'rewrite', body: () => Buffer.from('{"schemaVersion":'), contentType: 'application/vnd.oci.image.manifest.v1+json' } });
    const res = await fetch(blob);
    assert.equal(res.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(res.headers.get('docker-content-digest'), digest); // the upstream's claim stays
    assert.equal(await res.text(), '{"schemaVersion":');
  });

  await t.test('redirect: 307 to the storage origin, which serves the blob and saw no Authorization', async () => {
    proxy.clear();
    proxy.add({ path: blobPath, kind: { type: 'redirect', to: 'storage' } });
    const res = await fetch(blob, { headers: { authorization: 'Bearer secret' }, redirect: 'manual' });
    assert.equal(res.status, 307);
    const to = res.headers.get('location') ?? '';
    assert.equal(to, `${proxy.storageUrl}/v2/r/blobs/${digest}`);
    assert.notEqual(new URL(to).origin, new URL(proxy.url).origin);
    // a client following it correctly drops Authorization across origins
    const followed = await fetch(to, { headers: { range: 'bytes=0-9' } });
    assert.equal(followed.status, 206);
    assert.deepEqual(Buffer.from(await followed.arrayBuffer()), data.subarray(0, 10));
    assert.deepEqual(proxy.log.map(({ at: _at, ...e }) => e), [
      { method: 'GET', path: `/v2/r/blobs/${digest}`, status: 307, authorization: true, origin: 'proxy', fault: 'redirect' },
      { method: 'GET', path: `/v2/r/blobs/${digest}`, status: 206, authorization: false, range: 'bytes=0-9', origin: 'storage' },
    ]);
  });

  await t.test('faults can target the storage origin', async () => {
    proxy.clear();
    proxy.add({ path: blobPath, kind: { type: 'redirect', to: 'storage' } });
    proxy.add({ origin: 'storage', path: blobPath, kind: { type: 'cut', afterBytes: 5 } });
    const res = await fetch(blob); // fetch follows the 307 itself
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer());
    assert.deepEqual(proxy.log.map((e) => [e.origin, e.fault]), [['proxy', 'redirect'], ['storage', 'cut']]);
  });
});

test('the storage origin fetches with the Authorization the proxy captured; Host is rewritten', async (t) => {
  const seen: IncomingHttpHeaders[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { location: `http://${req.headers.host}/next?x=1`, 'content-length': '2' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => upstream.close(() => r())));
  const upHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const proxy = await startFaultProxy(t, `http://${upHost}`);

  const put = await fetch(`${proxy.url}/a?b=c`, { method: 'PUT', headers: { authorization: 'Bearer tok', 'x-custom': 'v' }, body: 'hello' });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('location'), `${proxy.url}/next?x=1`);
  assert.equal(await put.text(), 'ok');
  assert.equal(seen[0]?.host, upHost);
  assert.equal(seen[0]?.authorization, 'Bearer tok');
  assert.equal(seen[0]?.['x-custom'], 'v');
  assert.equal(seen[0]?.['content-length'], '5');

  proxy.add({ path: /^\/blob$/, kind: { type: 'redirect', to: 'storage' } });
  const res = await fetch(`${proxy.url}/blob`, { headers: { authorization: 'Bearer tok2' }, redirect: 'manual' });
  assert.equal(res.status, 307);
  const storageRes = await fetch(res.headers.get('location')!);
  assert.equal(storageRes.status, 201);
  assert.equal(storageRes.headers.get('location'), `${proxy.storageUrl}/next?x=1`);
  await storageRes.text();
  assert.equal(seen.length, 2); // the redirect was answered by the proxy itself
  assert.equal(seen[1]?.authorization, 'Bearer tok2');
  assert.deepEqual(proxy.log.map((e) => [e.origin, e.authorization]), [['proxy', true], ['proxy', true], ['storage', false]]);
});
