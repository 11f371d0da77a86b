/**
 * Reading and writing the JSON blobs of an image (manifests, indexes,
 * configs): verified reads, the media-type checks of CVE-2021-41190, schema
 * validation, and Go-compatible serialisation on write.
 */
import { OcikitError, wrap } from '../errors.js';
import { checkDescriptorShape } from '../oci/descriptor.js';
import { encodeGo, type GoKind } from '../oci/go-json.js';
import { isIndexType, isManifestType, MediaType, ociEquivalent } from '../oci/media-types.js';
import { assertSchema } from '../oci/schema.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../oci/types.js';
import { putBlob, readBlob } from '../store/blobs.js';
import { checkIndexShape } from '../store/index-file.js';
import type { Layout } from '../store/layout.js';

export interface Parsed<T> {
  value: T;
  bytes: Buffer;
}

function parseJson(bytes: Buffer, desc: Descriptor): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new OcikitError('SCHEMA_INVALID', `blob ${desc.digest}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new OcikitError('SCHEMA_INVALID', `blob ${desc.digest}: not a JSON object`);
  }
  return v as Record<string, unknown>;
}

/** The media type a blob declares must be exactly the one its descriptor gave (image-spec; CVE-2021-41190). */
function checkEmbeddedType(o: Record<string, unknown>, desc: Descriptor): void {
  const inner = o['mediaType'];
  if (inner === undefined) return;
  if (inner !== desc.mediaType) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `blob ${desc.digest}: media type ${JSON.stringify(inner)} differs from its descriptor's ${JSON.stringify(desc.mediaType)}`);
  }
}

export interface ReadOptions {
  /** Validate against the vendored schema too (default true). */
  schema?: boolean;
}

/** Reads a manifest blob (OCI or Docker schema 2), verified and checked. */
export async function readManifest(layout: Layout, desc: Descriptor, opts: ReadOptions = {}): Promise<Parsed<Manifest>> {
  if (!isManifestType(desc.mediaType)) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `blob ${desc.digest}: ${desc.mediaType} is not an image manifest`);
  }
  const bytes = await readBlob(layout, desc);
  const o = parseJson(bytes, desc);
  checkEmbeddedType(o, desc);
  const where = `manifest ${desc.digest}`;
  if ('manifests' in o) throw new OcikitError('SCHEMA_INVALID', `${where}: a manifest must not contain "manifests"`);
  if (o['schemaVersion'] !== 2) throw new OcikitError('SCHEMA_INVALID', `${where}: unsupported schemaVersion ${JSON.stringify(o['schemaVersion'])}`);
  checkDescriptorShape(o['config'], `${where}: config`);
  if (!Array.isArray(o['layers'])) throw new OcikitError('SCHEMA_INVALID', `${where}: "layers" is not an array`);
  o['layers'].forEach((d, i) => checkDescriptorShape(d, `${where}: layers[${i}]`));
  if (o['subject'] !== undefined) checkDescriptorShape(o['subject'], `${where}: subject`);
  if (opts.schema !== false) await assertSchema('manifest', o, where);
  return { value: o as unknown as Manifest, bytes };
}

/** Reads an image index blob (OCI or Docker manifest list), verified and checked. */
export async function readIndexBlob(layout: Layout, desc: Descriptor, opts: ReadOptions = {}): Promise<Parsed<Index>> {
  if (!isIndexType(desc.mediaType)) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `blob ${desc.digest}: ${desc.mediaType} is not an image index`);
  }
  const bytes = await readBlob(layout, desc);
  const o = parseJson(bytes, desc);
  checkEmbeddedType(o, desc);
  const where = `index ${desc.digest}`;
  try {
    checkIndexShape(o);
  } catch (err) {
    throw err instanceof OcikitError ? wrap(where, err) : new OcikitError('SCHEMA_INVALID', `${where}: ${(err as Error).message}`);
  }
  if (opts.schema !== false) await assertSchema('index', o, where);
  return { value: o as unknown as Index, bytes };
}

/** Reads an image config blob, verified and validated. */
export async function readConfig(layout: Layout, desc: Descriptor, opts: ReadOptions = {}): Promise<Parsed<ImageConfig>> {
  if (ociEquivalent(desc.mediaType) !== MediaType.config) {
    throw new OcikitError('MEDIA_TYPE_UNSUPPORTED', `blob ${desc.digest}: ${desc.mediaType} is not an image config`);
  }
  const bytes = await readBlob(layout, desc);
  const o = parseJson(bytes, desc);
  if (opts.schema !== false) await assertSchema('config', o, `config ${desc.digest}`);
  return { value: o as unknown as ImageConfig, bytes };
}

const KIND_TYPE: Partial<Record<GoKind, string>> = {
  manifest: MediaType.manifest,
  index: MediaType.index,
  config: MediaType.config,
};

/**
 * Serialises `value` as umoci does (Go encoding/json over the image-spec
 * struct), validates it, stores it, and returns its descriptor.
 */
export async function putJson(layout: Layout, kind: 'manifest' | 'index' | 'config', value: unknown): Promise<Descriptor> {
  const text = encodeGo(kind, value);
  await assertSchema(kind, JSON.parse(text), `new ${kind}`);
  const { digest, size } = await putBlob(layout, text);
  return { mediaType: KIND_TYPE[kind]!, digest, size };
}
