/**
 * Builds OCI layouts for tests, in a temporary directory, through the library
 * itself (Layout.create/open, putBlob, updateIndex), so that what a test reads
 * was stored the way ocikit stores it. JSON blobs are written with
 * JSON.stringify, verbatim: a test can hand-make hostile documents (an index
 * with `layers`, a manifest with `manifests`, an embedded media type that
 * differs from its descriptor, Docker media types) that the Go encoder would
 * have cleaned up. The few blobs that cannot be stored through putBlob (bytes
 * that do not hash to their name: flipped bytes, a cycle of indexes) are
 * written to their path directly, and each such helper says so.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Layout } from '../../src/store/layout.js';
import { putBlob } from '../../src/store/blobs.js';
import { updateIndex } from '../../src/store/index-file.js';
import { ANNOTATION_REF_NAME, type Annotations, type Descriptor, type ImageConfig, type Platform } from '../../src/oci/types.js';
import { makeTmpDir, type AfterHook } from './tmp.js';

/** Media types used by the tests, OCI and Docker. */
export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** a media type no spec defines: reachable, never parsed */
  unknown: 'application/vnd.example.unknown.v1+octet-stream',
} as const;

/** Creates a fresh layout in a temporary directory and opens it; both are cleaned up when the test ends. */
export async function makeLayout(t: AfterHook): Promise<Layout> {
  const tmp = await makeTmpDir();
  const root = join(tmp.path, 'layout');
  let layout: Layout | undefined;
  // One hook, so the layout is closed before its directory goes.
  t.after(async () => {
    await layout?.close();
    await tmp.cleanup();
  });
  await Layout.create(root);
  layout = await Layout.open(root);
  return layout;
}

/** Stores `bytes` and returns a descriptor of `mediaType` for them, with `extra` fields added. */
export async function putBytes(layout: Layout, bytes: string | Buffer, mediaType: string, extra: Partial<Descriptor> = {}): Promise<Descriptor> {
  const { digest, size } = await putBlob(layout, bytes);
  return { mediaType, digest, size, ...extra };
}

/** Stores `value` as JSON.stringify writes it (not Go-encoded: hostile fields survive). */
export async function putJsonBlob(layout: Layout, value: unknown, mediaType: string, extra: Partial<Descriptor> = {}): Promise<Descriptor> {
  return putBytes(layout, JSON.stringify(value), mediaType, extra);
}

/** A small valid image config; `over` replaces top-level fields. */
export function baseConfig(over: Partial<ImageConfig> = {}): ImageConfig {
  return {
    created: '2020-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
    ...over,
  };
}

export interface ImageSpec {
  /** top-level config fields (merged over baseConfig) */
  config?: Partial<ImageConfig>;
  /** the raw config object instead of baseConfig (e.g. one without `created`) */
  rawConfig?: Record<string, unknown>;
  /** the config descriptor's media type (default OCI config) */
  configMediaType?: string;
  /** layer contents, one blob each */
  layers?: Array<string | Buffer>;
  /** the layer descriptors' media type (default uncompressed OCI layer) */
  layerMediaType?: string;
  /** descriptors to list as layers after the ones from `layers` (unknown types, missing blobs…) */
  extraLayers?: Descriptor[];
  /** the manifest's own annotations */
  annotations?: Annotations;
  subject?: Descriptor;
  /** the media type on the returned descriptor (default OCI manifest) */
  mediaType?: string;
  /** the `mediaType` written inside the manifest; null leaves it out (default: same as the descriptor) */
  embeddedMediaType?: string | null;
  /** fields added to the manifest JSON as they are (hostile ones such as `manifests`) */
  extra?: Record<string, unknown>;
  /** fields added to the returned descriptor (platform, annotations) */
  descriptor?: Partial<Descriptor>;
}

export interface BuiltImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  manifestValue: Record<string, unknown>;
  configValue: Record<string, unknown>;
}

/** Stores a config, its layers and a manifest; returns their descriptors (nothing is tagged). */
export async function putImage(layout: Layout, spec: ImageSpec = {}): Promise<BuiltImage> {
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const content of spec.layers ?? []) {
    const d = await putBytes(layout, content, spec.layerMediaType ?? MT.layer);
    layers.push(d);
    diffIds.push(d.digest);
  }
  const configValue: Record<string, unknown> = spec.rawConfig ?? { ...baseConfig(spec.config), rootfs: { type: 'layers', diff_ids: diffIds } };
  const config = await putJsonBlob(layout, configValue, spec.configMediaType ?? MT.config);
  const mediaType = spec.mediaType ?? MT.manifest;
  const embedded = spec.embeddedMediaType === undefined ? mediaType : spec.embeddedMediaType;
  const manifestValue: Record<string, unknown> = {
    schemaVersion: 2,
    ...(embedded === null ? {} : { mediaType: embedded }),
    config,
    layers: [...layers, ...(spec.extraLayers ?? [])],
    ...(spec.subject ? { subject: spec.subject } : {}),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
    ...spec.extra,
  };
  const manifest = await putJsonBlob(layout, manifestValue, mediaType, spec.descriptor);
  return { manifest, config, layers, manifestValue, configValue };
}

export interface IndexSpec {
  /** the media type on the returned descriptor (default OCI index) */
  mediaType?: string;
  /** the `mediaType` written inside the index; null leaves it out (default: same as the descriptor) */
  embeddedMediaType?: string | null;
  annotations?: Annotations;
  subject?: Descriptor;
  /** fields added to the index JSON as they are (hostile ones such as `layers`) */
  extra?: Record<string, unknown>;
  /** fields added to the returned descriptor (platform, annotations) */
  descriptor?: Partial<Descriptor>;
}

/** Stores an image index listing `manifests`; returns its descriptor. */
export async function putIndex(layout: Layout, manifests: Descriptor[], spec: IndexSpec = {}): Promise<Descriptor> {
  const mediaType = spec.mediaType ?? MT.index;
  const embedded = spec.embeddedMediaType === undefined ? mediaType : spec.embeddedMediaType;
  const value: Record<string, unknown> = {
    schemaVersion: 2,
    ...(embedded === null ? {} : { mediaType: embedded }),
    manifests,
    ...(spec.subject ? { subject: spec.subject } : {}),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
    ...spec.extra,
  };
  return putJsonBlob(layout, value, mediaType, spec.descriptor);
}

/** `desc` with the ref-name annotation set to `tag` (other annotations kept). */
export function tagged(desc: Descriptor, tag: string): Descriptor {
  return { ...desc, annotations: { ...desc.annotations, [ANNOTATION_REF_NAME]: tag } };
}

/** `desc` with a platform. */
export function onPlatform(desc: Descriptor, platform: Platform): Descriptor {
  return { ...desc, platform };
}

/** Appends entries to index.json as they are (no de-duplication: same-named tags are possible). */
export async function addRoots(layout: Layout, ...entries: Descriptor[]): Promise<void> {
  await updateIndex(layout, (index) => ({ ...index, manifests: [...index.manifests, ...entries] }));
}

/** Appends `desc` to index.json under `tag`. */
export async function addTag(layout: Layout, tag: string, desc: Descriptor): Promise<void> {
  await addRoots(layout, tagged(desc, tag));
}

/** Replaces the entries of index.json. */
export async function setRoots(layout: Layout, entries: Descriptor[]): Promise<void> {
  await updateIndex(layout, (index) => ({ ...index, manifests: entries }));
}

/** A tagged image in one call: putImage, then addTag. */
export async function addImage(layout: Layout, tag: string, spec: ImageSpec = {}): Promise<BuiltImage> {
  const image = await putImage(layout, spec);
  await addTag(layout, tag, image.manifest);
  return image;
}

/** The raw bytes of index.json. */
export function indexBytes(layout: Layout): Promise<Buffer> {
  return readFile(layout.indexPath);
}

/** The raw bytes of a stored blob. */
export function blobBytes(layout: Layout, digest: string): Promise<Buffer> {
  return readFile(layout.blobPath(digest));
}

/** Every file name in blobs/sha256/ (stray ones too), sorted. */
export async function blobFiles(layout: Layout): Promise<string[]> {
  return (await readdir(join(layout.root, 'blobs', 'sha256'))).sort();
}

/** Every name in the layout root, sorted. */
export async function rootEntries(layout: Layout): Promise<string[]> {
  return (await readdir(layout.root)).sort();
}

/** Removes a blob's file, leaving every reference to it dangling. */
export async function removeBlobFile(layout: Layout, digest: string): Promise<void> {
  await rm(layout.blobPath(digest));
}

/**
 * Flips the bits of one byte of a stored blob in place (size unchanged, digest
 * now wrong). Written directly: putBlob would store the bytes under their
 * true name.
 */
export async function flipByte(layout: Layout, digest: string, offset = 0): Promise<void> {
  const path = layout.blobPath(digest);
  const bytes = await readFile(path);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at]! ^ 0xff;
  await writeFile(path, bytes);
}

/** A sha256 digest of `seed`, for names that no stored content matches. */
export function fakeDigest(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/**
 * Stores `bytes` under a name they do not hash to (written directly: putBlob
 * names blobs by their content). Returns the descriptor a parent would give.
 */
export async function putMisnamed(layout: Layout, digest: string, bytes: string | Buffer, mediaType: string): Promise<Descriptor> {
  const buf = Buffer.from(bytes);
  await writeFile(layout.blobPath(digest), buf);
  return { mediaType, digest, size: buf.length };
}

/**
 * Two indexes that list each other. Content addressing makes a real cycle
 * impossible, so both are stored under names their bytes do not hash to
 * (written directly); sizes are right, so only the digest check can catch
 * them. Returns the descriptors of A and B (A lists B, B lists A).
 */
export async function putIndexCycle(layout: Layout): Promise<{ a: Descriptor; b: Descriptor }> {
  const nameA = fakeDigest('cycle a');
  const nameB = fakeDigest('cycle b');
  const doc = (child: string, size: number): string =>
    JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [{ mediaType: MT.index, digest: child, size }] });
  // Each size appears in the other document; iterate to the fixed point.
  let sizeA = 0;
  let sizeB = 0;
  for (let i = 0; i < 10; i++) {
    const nextA = Buffer.byteLength(doc(nameB, sizeB));
    const nextB = Buffer.byteLength(doc(nameA, sizeA));
    if (nextA === sizeA && nextB === sizeB) break;
    sizeA = nextA;
    sizeB = nextB;
  }
  const a = await putMisnamed(layout, nameA, doc(nameB, sizeB), MT.index);
  const b = await putMisnamed(layout, nameB, doc(nameA, sizeA), MT.index);
  if (a.size !== sizeA || b.size !== sizeB) throw new Error('putIndexCycle: sizes did not settle');
  return { a, b };
}
