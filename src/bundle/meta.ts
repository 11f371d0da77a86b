/**
 * umoci.json, the bundle metadata that unpack writes and repack reads: which
 * image the bundle came from (the descriptor walk from the index.json entry
 * down to the manifest) and the ID-map options it was unpacked with. The
 * bytes match umoci's `Meta` struct through Go's json.Encoder: one compact
 * line plus "\n", keys `umoci_version`, `from_descriptor_path`,
 * `map_options`, an empty mapping list written as `null` (a nil Go slice),
 * `whiteout_mode` left out (omitempty, umoci >= 0.5; 0.4.7 wrote `0`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import { checkDescriptorShape } from '../oci/descriptor.js';
import { encodeGo } from '../oci/go-json.js';
import type { Descriptor } from '../oci/types.js';
import type { IdMapping, MapOptions } from '../runtime/id-map.js';
import { writeFileAtomic } from '../util/fsync.js';

export const META_NAME = 'umoci.json';
export const META_VERSION = '2';

export interface BundleMeta {
  version: '2';
  /** descriptor_walk: the index.json entry first, the manifest last */
  from: Descriptor[];
  mapOptions: MapOptions;
}

function encodeMappings(list: readonly IdMapping[]): string {
  if (list.length === 0) return 'null';
  return '[' + list.map((m) => `{"containerID":${m.containerID},"hostID":${m.hostID},"size":${m.size}}`).join(',') + ']';
}

/** The exact umoci.json bytes for `meta` (descriptors Go-encoded as image-spec v1.1.1 structs). */
export function encodeBundleMeta(meta: BundleMeta): string {
  const walk = meta.from.map((d) => encodeGo('descriptor', d).slice(0, -1)).join(',');
  const m = meta.mapOptions;
  return (
    `{"umoci_version":"${META_VERSION}","from_descriptor_path":{"descriptor_walk":[${walk}]},` +
    `"map_options":{"uid_mappings":${encodeMappings(m.uidMappings)},"gid_mappings":${encodeMappings(m.gidMappings)},` +
    `"rootless":${m.rootless ? 'true' : 'false'}}}\n`
  );
}

/** Go's decoder matches keys exactly first, then case-insensitively. */
function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseMappings(v: unknown, what: string, bad: (why: string) => never): IdMapping[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad(`${what} is not an array`);
  return v.map((e: unknown, i) => {
    if (!isObject(e)) bad(`${what}[${i}] is not an object`);
    const n = (name: string): number => {
      const x = field(e, name) ?? 0;
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffffffff) {
        bad(`${what}[${i}].${name} is not a uint32`);
      }
      return x;
    };
    return { containerID: n('containerID'), hostID: n('hostID'), size: n('size') };
  });
}

/**
 * Reads and checks `<bundleDir>/umoci.json`. Refuses (one-line
 * OcikitError) a bundle without one, unparseable JSON, a `umoci_version`
 * other than "2", a non-zero `whiteout_mode` (umoci >= 0.5 refuses the
 * broken overlayfs mode, umoci#574) and malformed descriptors or mappings.
 */
export async function readBundleMeta(bundleDir: string): Promise<BundleMeta> {
  const path = join(bundleDir, META_NAME);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new OcikitError('VALIDATION_FAILED', `bundle ${bundleDir} has no ${META_NAME}: not made by unpack`);
    }
    throw new OcikitError('IO', `open metadata: ${(err as Error).message}`, { cause: err });
  }
  const bad = (why: string): never => {
    throw new OcikitError('VALIDATION_FAILED', `decode metadata ${path}: ${why}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    bad((err as Error).message);
  }
  if (!isObject(raw)) return bad('not a JSON object');
  const version = field(raw, 'umoci_version');
  if (version !== META_VERSION) bad(`unsupported umoci.json version ${JSON.stringify(version ?? '')}`);
  const whiteout = field(raw, 'whiteout_mode') ?? 0;
  if (typeof whiteout !== 'number') bad('whiteout_mode is not a number');
  if (whiteout !== 0) bad(`deprecated (broken) whiteout_mode field set (${String(whiteout)})`);

  const fromPath = field(raw, 'from_descriptor_path') ?? {};
  if (!isObject(fromPath)) return bad('from_descriptor_path is not an object');
  const walk = field(fromPath, 'descriptor_walk') ?? [];
  if (!Array.isArray(walk)) return bad('descriptor_walk is not an array');
  if (walk.length === 0) bad('descriptor_walk is empty');
  walk.forEach((d: unknown, i) => checkDescriptorShape(d, `${META_NAME} descriptor_walk[${i}]`));

  const mo = field(raw, 'map_options') ?? {};
  if (!isObject(mo)) return bad('map_options is not an object');
  const rootless = field(mo, 'rootless') ?? false;
  if (typeof rootless !== 'boolean') bad('map_options.rootless is not a boolean');
  return {
    version: META_VERSION,
    from: walk as Descriptor[],
    mapOptions: {
      uidMappings: parseMappings(field(mo, 'uid_mappings'), 'map_options.uid_mappings', bad),
      gidMappings: parseMappings(field(mo, 'gid_mappings'), 'map_options.gid_mappings', bad),
      rootless: rootless as boolean,
    },
  };
}

/**
 * Writes `<bundleDir>/umoci.json` atomically (temporary file in the bundle,
 * fsync, rename), mode 0644 as umoci's os.Create gives under umask 022.
 */
export async function writeBundleMeta(bundleDir: string, meta: BundleMeta): Promise<void> {
  await writeFileAtomic(join(bundleDir, META_NAME), encodeBundleMeta(meta), bundleDir);
}
