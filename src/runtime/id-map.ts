/**
 * User-namespace ID mappings: the `--uid-map` / `--gid-map` / `--rootless`
 * flags of unpack, insert, raw unpack and raw runtime-config, and the
 * translation of IDs between the container and the host that extraction and
 * repack do with them (umoci `pkg/idtools`, `ParseIdmapOptions`).
 *
 * A mapping `C:H:N` says container IDs C..C+N-1 are host IDs H..H+N-1. An
 * empty list means "no user namespace": IDs pass through unchanged.
 */
import { OcikitError } from '../errors.js';

/** One `linux.uidMappings` / `gidMappings` entry (runtime-spec LinuxIDMapping). */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** umoci's `layer.MapOptions`, as stored in umoci.json and used by unpack/repack. */
export interface MapOptions {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  rootless: boolean;
}

const UINT32_MAX = 0xffffffff;

/** Go's strconv.ParseUint(s, 10, 32): ASCII digits only (no sign, no `_`), at most 2^32-1. */
function parseUint32(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  // Long digit strings lose precision as a Number but are out of range either way.
  return n <= UINT32_MAX ? n : undefined;
}

/**
 * Parses umoci's `C:H[:N]` mapping (N defaults to 1). Each number must be
 * an unsigned 32-bit decimal, as umoci 0.5+ requires (0.4.7 silently
 * wrapped larger values). A size of 0 is accepted, as umoci does. Throws
 * OcikitError('USAGE') naming the flag and the value.
 */
export function parseIdMapping(text: string, flag: '--uid-map' | '--gid-map'): IdMapping {
  const fail = (why: string): never => {
    throw new OcikitError('USAGE', `failure parsing ${flag} ${text}: ${why}`);
  };
  const parts = text.split(':');
  if (parts.length !== 2 && parts.length !== 3) {
    fail(`invalid number of fields in mapping ${JSON.stringify(text)}: ${parts.length} (want containerID:hostID[:size])`);
  }
  const field = (i: number, name: string): number => {
    const raw = parts[i] ?? '';
    return parseUint32(raw) ?? fail(`invalid ${name} in mapping: ${JSON.stringify(raw)} is not an integer in 0..${UINT32_MAX}`);
  };
  const size = parts.length === 3 ? field(2, 'size') : 1;
  return { containerID: field(0, 'containerID'), hostID: field(1, 'hostID'), size };
}

/**
 * The map options for a command from its flags: every `--uid-map` and
 * `--gid-map` in order; with `--rootless`, a list the user left empty
 * becomes `0:<euid>:1` (resp. `0:<egid>:1`), as umoci does.
 */
export function mapOptionsFrom(flags: { rootless: boolean; uidMap: string[]; gidMap: string[] }): MapOptions {
  let uidMap = flags.uidMap;
  let gidMap = flags.gidMap;
  if (flags.rootless) {
    if (uidMap.length === 0) uidMap = [`0:${process.geteuid?.() ?? 0}:1`];
    if (gidMap.length === 0) gidMap = [`0:${process.getegid?.() ?? 0}:1`];
  }
  return {
    uidMappings: uidMap.map((m) => parseIdMapping(m, '--uid-map')),
    gidMappings: gidMap.map((m) => parseIdMapping(m, '--gid-map')),
    rootless: flags.rootless,
  };
}

/**
 * Maps a container ID to its host ID. Identity when `mappings` is empty;
 * the first mapping containing the ID wins. Throws
 * OcikitError('VALIDATION_FAILED') naming the ID when no mapping holds it.
 * (Ranges are computed exactly; umoci's uint32 arithmetic wraps for a range
 * that crosses 2^32, which no valid mapping does.)
 */
export function toHost(id: number, mappings: readonly IdMapping[]): number {
  if (mappings.length === 0) return id;
  for (const m of mappings) {
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  }
  throw new OcikitError('VALIDATION_FAILED', `container id ${id} cannot be mapped to a host id`);
}

/** The inverse of toHost: a host ID to its container ID (identity without mappings). */
export function toContainer(id: number, mappings: readonly IdMapping[]): number {
  if (mappings.length === 0) return id;
  for (const m of mappings) {
    if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + (id - m.hostID);
  }
  throw new OcikitError('VALIDATION_FAILED', `host id ${id} cannot be mapped to a container id`);
}
