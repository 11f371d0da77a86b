/**
 * What the bridge does with manifests between registry and layout: parse
 * and check them, choose a platform from an index, and convert Docker
 * schema 2 types to their OCI equivalents the way `skopeo copy docker://…
 * oci:…` does (config and layers keep their bytes; the manifest is
 * re-encoded with OCI media types, so its digest changes).
 */
import { OcikitError } from '../errors.js';
import { checkDescriptorShape } from '../oci/descriptor.js';
import { encodeGo } from '../oci/go-json.js';
import { DockerMediaType, MediaType, isIndexType, isManifestType, ociEquivalent } from '../oci/media-types.js';
import type { HostPlatform } from '../oci/platform.js';
import type { Descriptor, Index, Manifest, Platform } from '../oci/types.js';

export function parseManifestJson(bytes: Buffer, mediaType: string, what: string): Manifest | Index {
  const body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  if (isIndexType(mediaType)) {
    if (!Array.isArray(body['manifests'])) throw new OcikitError('REGISTRY', `${what}: malformed index (no manifests list)`);
    body['manifests'].forEach((d, i) => checkOrFail(d, `${what}: manifests[${i}]`));
    return body as unknown as Index;
  }
  if (isManifestType(mediaType)) {
    checkOrFail(body['config'], `${what}: config`);
    if (!Array.isArray(body['layers'])) throw new OcikitError('REGISTRY', `${what}: malformed manifest (no layers list)`);
    body['layers'].forEach((d, i) => checkOrFail(d, `${what}: layers[${i}]`));
    return body as unknown as Manifest;
  }
  throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `${what}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
}

function checkOrFail(d: unknown, where: string): void {
  try {
    checkDescriptorShape(d, where);
  } catch (err) {
    throw new OcikitError('REGISTRY', err instanceof Error ? err.message : String(err));
  }
  const digest = (d as Descriptor).digest;
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `${where}: only sha256 digests are supported (${JSON.stringify(digest)})`);
  }
}

/** "linux/arm64/v8" → platform; refuses other shapes. */
export function parsePlatform(text: string): HostPlatform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new OcikitError('USAGE', `invalid platform ${JSON.stringify(text)}: expected os/arch[/variant]`);
  }
  const p: HostPlatform = { os: parts[0]!, architecture: parts[1]! };
  if (parts[2] !== undefined) p.variant = parts[2];
  return p;
}

export function formatPlatform(p: Platform | undefined): string {
  if (p === undefined) return 'unknown';
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== '').join('/');
}

/** arm64's variant defaults to v8, so "" and "v8" name the same thing there. */
function variantOf(p: { architecture: string; variant?: string | undefined }): string {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === '')) return 'v8';
  if (p.architecture === 'arm' && (p.variant === undefined || p.variant === '')) return 'v7';
  return p.variant ?? '';
}

/**
 * The index entry for `want`: os and architecture must match; a variant
 * asked for must match, and when none was asked the host's is preferred,
 * then the highest. Entries without a platform (attestations) never match.
 */
export function choosePlatform(index: Index, want: HostPlatform, strictVariant: boolean): Descriptor | undefined {
  const candidates = index.manifests.filter((d) => d.platform !== undefined && d.platform.os === want.os && d.platform.architecture === want.architecture);
  const wanted = variantOf(want);
  const exact = candidates.find((d) => variantOf(d.platform!) === wanted);
  if (exact !== undefined || strictVariant) return exact;
  return [...candidates].sort((a, b) => variantOf(b.platform!).localeCompare(variantOf(a.platform!)))[0];
}

/** The platforms an index offers, for an error message. */
export function availablePlatforms(index: Index): string {
  const all = [...new Set(index.manifests.filter((d) => d.platform !== undefined).map((d) => formatPlatform(d.platform)))];
  return all.length === 0 ? 'none' : all.join(', ');
}

const LAYER_TO_OCI: Record<string, string> = {
  [DockerMediaType.layerGzip]: MediaType.layerGzip,
  [DockerMediaType.layerForeignGzip]: MediaType.layerNonDistributableGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.layer,
  'application/vnd.docker.image.rootfs.foreign.diff.tar': MediaType.layerNonDistributable,
};

export function isDockerType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && mediaType.startsWith('application/vnd.docker.');
}

function convertDescriptor(d: Descriptor): Descriptor {
  const mediaType = d.mediaType === DockerMediaType.config ? MediaType.config : (LAYER_TO_OCI[d.mediaType] ?? ociEquivalent(d.mediaType));
  return { ...d, mediaType };
}

/**
 * A Docker schema 2 manifest as an OCI manifest: OCI media types for the
 * manifest, config and layers; encoded like Go's json.Marshal over
 * image-spec's struct (skopeo's own encoding), so the digest is skopeo's.
 */
export function dockerManifestToOci(m: Manifest, config: Descriptor): Buffer {
  const out: Manifest = { schemaVersion: 2, mediaType: MediaType.manifest, config, layers: m.layers.map(convertDescriptor) };
  if (m.annotations !== undefined) out.annotations = m.annotations;
  return Buffer.from(encodeGo('manifest', out).slice(0, -1));
}

/**
 * A Docker image config as an OCI one: decoded into image-spec's struct and
 * encoded again like Go's json.Marshal, as skopeo does; Docker-only fields
 * (container_config, docker_version, …) are dropped. The field order is
 * image-spec 1.0's, as Debian's skopeo 1.9 writes it (go-json.ts).
 */
export function dockerConfigToOci(bytes: Buffer, what: string): Buffer {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new OcikitError('REGISTRY', `${what}: malformed config JSON`);
  }
  return Buffer.from(encodeGo('config-v1.0', value).slice(0, -1));
}

/** A Docker manifest list as an OCI index, with the given (already converted) children. */
export function dockerListToOci(list: Index, children: Descriptor[]): Buffer {
  const out: Index = { schemaVersion: 2, mediaType: MediaType.index, manifests: children };
  if (list.annotations !== undefined) out.annotations = list.annotations;
  return Buffer.from(encodeGo('index', out).slice(0, -1));
}
