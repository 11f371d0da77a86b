/**
 * The distribution API's operations on one repository, over a RegistryClient:
 * manifests (get, head, put), blobs (streamed get with Range resumption,
 * head, cross-repository mount, monolithic or chunked upload) and tags.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { OcikitError } from '../errors.js';
import { isDigest, sha256Digest } from '../oci/digest.js';
import { DockerMediaType, MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { RegistryClient, pullScope, pushScope } from './client.js';
import { describeNetworkError, discard, readBody, TransportError, type HttpResponse } from './transport.js';

/** Manifests are small; the distribution spec lets registries refuse over 4 MiB. */
export const MAX_MANIFEST = 4 << 20;

/** Every manifest type ocikit reads, for the Accept header. */
export const MANIFEST_ACCEPT = [MediaType.index, MediaType.manifest, DockerMediaType.manifestList, DockerMediaType.manifest].join(', ');

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  /** From the body's mediaType, else Content-Type. */
  mediaType: string;
}

export class Repository {
  constructor(
    readonly client: RegistryClient,
    /** "library/alpine" */
    readonly name: string,
  ) {}

  private scopes(push: boolean): string[] {
    return push ? [pushScope(this.name)] : [pullScope(this.name)];
  }

  /** GET a manifest by tag or digest; checks its digest against the request and the server's header. */
  async getManifest(reference: string, label: string): Promise<FetchedManifest> {
    const what = `manifest ${label}`;
    const res = await this.client.request({
      method: 'GET',
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.scopes(false),
      what,
    });
    const bytes = await readBody(res, MAX_MANIFEST, what);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest) {
      if (!reference.startsWith('sha256:')) throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `${what}: digest algorithm ${reference.split(':')[0]} is not supported`);
      throw new OcikitError('DIGEST_MISMATCH', `${what}: the registry sent a manifest whose digest is ${digest}, not the requested ${reference}`);
    }
    const header = res.headers['docker-content-digest'];
    if (!isDigest(reference) && typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new OcikitError('DIGEST_MISMATCH', `${what}: the manifest's bytes hash to ${digest}, but the registry says ${header}`);
    }
    const contentType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    return { bytes, digest, mediaType: sniffMediaType(bytes, contentType, what) };
  }

  /** HEAD a manifest: its digest, or undefined when the registry does not say. */
  async headManifestDigest(reference: string, label: string): Promise<string | undefined> {
    const res = await this.client.request({
      method: 'HEAD',
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.scopes(false),
      what: `manifest ${label}`,
    });
    discard(res);
    const digest = res.headers['docker-content-digest'];
    return typeof digest === 'string' && isDigest(digest) ? digest : undefined;
  }

  /**
   * A blob's bytes as they arrive. A dropped connection is resumed with
   * `Range: bytes=N-` at the URL the blob came from (the registry's own when
   * that fails); a 200 answer to a ranged request is skipped up to N. More
   * bytes than the descriptor's size fail at once. The caller hashes.
   */
  async *blobChunks(desc: Descriptor): AsyncGenerator<Buffer> {
    const what = `blob ${desc.digest}`;
    const home = `/v2/${this.name}/blobs/${desc.digest}`;
    let from = home;
    let received = 0;
    let failures = 0;
    for (;;) {
      let res: HttpResponse;
      const headers: Record<string, string> = received > 0 ? { range: `bytes=${received}-` } : {};
      try {
        res = await this.client.request({ method: 'GET', path: from, headers, scopes: this.scopes(false), what, ok: [200, 206] });
      } catch (err) {
        // A signed storage URL may have expired: go back to the registry.
        if (from !== home && err instanceof OcikitError && err.code === 'AUTH') {
          from = home;
          continue;
        }
        throw err;
      }
      from = res.url.href;
      let skip = 0;
      if (res.status === 206) {
        const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
        if (range === null || Number(range[1]) !== received) {
          discard(res);
          throw new OcikitError('REGISTRY', `${what}: the registry answered a resumed download with the wrong range (${String(res.headers['content-range'] ?? 'none')})`);
        }
      } else if (received > 0) {
        skip = received;
      }
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          let piece = chunk;
          if (skip > 0) {
            if (piece.length <= skip) {
              skip -= piece.length;
              continue;
            }
            piece = piece.subarray(skip);
            skip = 0;
          }
          if (received + piece.length > desc.size) {
            res.body.destroy();
            throw new OcikitError('SIZE_MISMATCH', `${what}: the registry sent more than the ${desc.size} bytes its descriptor gives`);
          }
          received += piece.length;
          yield piece;
        }
      } catch (err) {
        if (err instanceof OcikitError && !(err instanceof TransportError)) throw err;
        this.client.checkAborted();
        const net = describeNetworkError(err, res.url.host);
        if (failures >= this.client.retries) throw new OcikitError('NETWORK', `${what}: download failed after ${failures + 1} attempts: ${net.message}`);
        await this.client.backoff(failures++, undefined, `${what}: ${net.message} at byte ${received}`);
        continue;
      }
      if (received === desc.size) return;
      if (failures >= this.client.retries) {
        throw new OcikitError('NETWORK', `${what}: download ended at byte ${received} of ${desc.size} after ${failures + 1} attempts`);
      }
      await this.client.backoff(failures++, undefined, `${what}: connection closed at byte ${received} of ${desc.size}`);
    }
  }

  /** HEAD a blob: whether the registry has it (in this repository). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.client.request({ method: 'HEAD', path: `/v2/${this.name}/blobs/${digest}`, scopes: this.scopes(true), what: `blob ${digest}`, ok: [200, 404] });
    discard(res);
    return res.status === 200;
  }

  /** Tries a cross-repository mount; true when the registry mounted the blob. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const res = await this.client.request({
      method: 'POST',
      path: `/v2/${this.name}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      scopes: [...this.scopes(true), pullScope(from)],
      what: `mount of blob ${digest} from ${from}`,
      ok: [201, 202],
    });
    discard(res);
    if (res.status === 201) return true;
    // 202: an upload session we do not use; the registry lets it expire.
    return false;
  }

  /**
   * Uploads a blob from a file: POST a session, then one PUT with the whole
   * body (monolithic), or PATCHes of `chunkSize` bytes then an empty PUT.
   */
  async uploadBlob(desc: Descriptor, file: string, chunkSize = 0, onBytes?: (n: number) => void): Promise<void> {
    const what = `upload of blob ${desc.digest}`;
    const scopes = this.scopes(true);
    const start = await this.client.request({ method: 'POST', path: `/v2/${this.name}/blobs/uploads/`, headers: { 'content-length': '0' }, scopes, what, ok: [202] });
    discard(start);
    let location = uploadLocation(start, what);
    const counted = (s: Readable): Readable => {
      if (onBytes) s.on('data', (c: Buffer) => onBytes(c.length));
      return s;
    };
    if (chunkSize > 0 && desc.size > 0) {
      for (let offset = 0; offset < desc.size; offset += chunkSize) {
        const end = Math.min(desc.size, offset + chunkSize) - 1;
        const res = await this.client.request({
          method: 'PATCH',
          path: location.href,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - offset + 1), 'content-range': `${offset}-${end}` },
          body: () => counted(createReadStream(file, { start: offset, end })),
          scopes,
          what,
          ok: [201, 202, 204],
        });
        discard(res);
        location = uploadLocation(res, what);
      }
      location.searchParams.set('digest', desc.digest);
      const done = await this.client.request({ method: 'PUT', path: location.href, headers: { 'content-length': '0' }, scopes, what, ok: [201, 204] });
      discard(done);
      return;
    }
    location.searchParams.set('digest', desc.digest);
    const res = await this.client.request({
      method: 'PUT',
      path: location.href,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body: () => counted(createReadStream(file)),
      scopes,
      what,
      ok: [201, 204],
    });
    discard(res);
  }

  /** PUT a manifest under a tag or digest; returns the digest the registry reports (or ours). */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.client.request({
      method: 'PUT',
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { 'content-type': mediaType },
      body: () => bytes,
      scopes: this.scopes(true),
      what: `manifest ${this.name}:${reference}`,
      ok: [201, 204],
    });
    discard(res);
    const ours = sha256Digest(bytes);
    const theirs = res.headers['docker-content-digest'];
    if (typeof theirs === 'string' && theirs.startsWith('sha256:') && theirs !== ours) {
      throw new OcikitError('DIGEST_MISMATCH', `manifest ${this.name}:${reference}: the registry stored ${theirs}, not ${ours}`);
    }
    return ours;
  }

  /** Every tag of the repository, following `Link: <…>; rel="next"` pages. */
  async listTags(pageSize = 1000): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.name}/tags/list?n=${pageSize}`;
    const what = `tags of ${this.name}`;
    for (let page = 0; path !== undefined; page++) {
      if (page > 100_000) throw new OcikitError('REGISTRY', `${what}: too many pages`);
      const res = await this.client.request({ method: 'GET', path, scopes: this.scopes(false), what });
      let body: { tags?: unknown };
      try {
        body = JSON.parse((await readBody(res, 16 << 20, what)).toString('utf8')) as { tags?: unknown };
      } catch (err) {
        if (err instanceof OcikitError) throw err;
        throw new OcikitError('REGISTRY', `${what}: the registry's answer is not JSON`);
      }
      if (body.tags !== null && body.tags !== undefined) {
        if (!Array.isArray(body.tags) || body.tags.some((t) => typeof t !== 'string')) throw new OcikitError('REGISTRY', `${what}: the registry's answer has no list of tags`);
        tags.push(...(body.tags as string[]));
      }
      path = nextLink(res.headers.link);
    }
    return tags;
  }
}

/** The next page's URL from a Link header, if any. */
export function nextLink(link: string | string[] | undefined): string | undefined {
  if (link === undefined) return undefined;
  for (const part of (Array.isArray(link) ? link.join(', ') : link).split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/i.test(m[2]!)) return m[1]!;
  }
  return undefined;
}

function uploadLocation(res: HttpResponse, what: string): URL {
  const location = res.headers.location;
  if (location === undefined) throw new OcikitError('REGISTRY', `${what}: the registry gave no upload location`);
  return new URL(location, res.url);
}

/** The media type of a manifest: its own `mediaType`, else Content-Type, else the shape; schema 1 refused. */
function sniffMediaType(bytes: Buffer, contentType: string, what: string): string {
  let body: { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown; layers?: unknown; fsLayers?: unknown };
  try {
    body = JSON.parse(bytes.toString('utf8')) as typeof body;
  } catch {
    throw new OcikitError('REGISTRY', `${what}: malformed manifest JSON`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new OcikitError('REGISTRY', `${what}: malformed manifest JSON (not an object)`);
  if (body.schemaVersion === 1 || contentType === DockerMediaType.schema1 || contentType === DockerMediaType.schema1Signed) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `${what}: Docker schema 1 manifests are not supported (push the image again with a current docker, or convert it with skopeo)`);
  }
  if (typeof body.mediaType === 'string' && body.mediaType !== '') {
    const known = [MediaType.index, MediaType.manifest, DockerMediaType.manifestList, DockerMediaType.manifest] as string[];
    if (known.includes(contentType) && known.includes(body.mediaType) && contentType !== body.mediaType) {
      throw new OcikitError('REGISTRY', `${what}: the registry says ${contentType} but the manifest says ${body.mediaType}`);
    }
    return body.mediaType;
  }
  if (contentType !== '' && contentType !== 'application/json' && contentType !== 'application/octet-stream') return contentType;
  if (Array.isArray(body.manifests)) return MediaType.index;
  if (Array.isArray(body.layers)) return MediaType.manifest;
  throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `${what}: the registry sent a manifest of unknown type`);
}
