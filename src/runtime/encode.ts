/**
 * config.json bytes exactly as umoci writes them: Go's `json.Encoder` with
 * `SetIndent("", "\t")` over runtime-spec v1.2.1's `specs-go` structs. That
 * means fields in Go struct order, `omitempty` dropping "", 0, false, nil
 * pointers and empty slices/maps (never a non-pointer struct), map keys
 * sorted bytewise, HTML-safe string escapes, tab indentation with empty
 * `[]`/`{}` kept on one line, and a trailing newline.
 *
 * Only the part of the runtime-spec that ocikit emits is described (the
 * RuntimeSpec types in convert.ts); a field outside it is a bug and is
 * refused rather than silently dropped or misplaced.
 */
import { OcikitError } from '../errors.js';
import { goQuoteJson, marshalGoValue } from '../oci/go-json.js';
import type { RuntimeSpec } from './convert.js';

type Kind =
  | 'string'
  | 'bool'
  | 'uint'
  | 'int'
  | 'stringMap'
  | { struct: StructDef }
  | { ptr: StructDef }
  | { slice: Kind };
/** [json name, kind, omitempty] in Go declaration order. */
type StructDef = readonly (readonly [string, Kind, boolean])[];

// runtime-spec v1.2.1 specs-go/config.go, the fields ocikit can emit.
const ID_MAPPING: StructDef = [
  ['containerID', 'uint', false],
  ['hostID', 'uint', false],
  ['size', 'uint', false],
];
const STRINGS: Kind = { slice: 'string' };
const MAPPINGS: Kind = { slice: { struct: ID_MAPPING } };
const BOX: StructDef = [
  ['height', 'uint', false],
  ['width', 'uint', false],
];
const USER: StructDef = [
  ['uid', 'uint', false],
  ['gid', 'uint', false],
  ['umask', 'uint', true], // *uint32: omitted only when nil (see isEmpty)
  ['additionalGids', { slice: 'uint' }, true],
  ['username', 'string', true],
];
const CAPABILITIES: StructDef = [
  ['bounding', STRINGS, true],
  ['effective', STRINGS, true],
  ['inheritable', STRINGS, true],
  ['permitted', STRINGS, true],
  ['ambient', STRINGS, true],
];
const RLIMIT: StructDef = [
  ['type', 'string', false],
  ['hard', 'uint', false],
  ['soft', 'uint', false],
];
const PROCESS: StructDef = [
  ['terminal', 'bool', true],
  ['consoleSize', { ptr: BOX }, true],
  ['user', { struct: USER }, false],
  ['args', STRINGS, true],
  ['commandLine', 'string', true],
  ['env', STRINGS, true],
  ['cwd', 'string', false],
  ['capabilities', { ptr: CAPABILITIES }, true],
  ['rlimits', { slice: { struct: RLIMIT } }, true],
  ['noNewPrivileges', 'bool', true],
  ['apparmorProfile', 'string', true],
  ['oomScoreAdj', 'int', true], // *int
  ['selinuxLabel', 'string', true],
];
const ROOT: StructDef = [
  ['path', 'string', false],
  ['readonly', 'bool', true],
];
const MOUNT: StructDef = [
  ['destination', 'string', false],
  ['type', 'string', true],
  ['source', 'string', true],
  ['options', STRINGS, true],
  ['uidMappings', MAPPINGS, true],
  ['gidMappings', MAPPINGS, true],
];
const DEVICE_CGROUP: StructDef = [
  ['allow', 'bool', false],
  ['type', 'string', true],
  ['major', 'int', true], // *int64
  ['minor', 'int', true], // *int64
  ['access', 'string', true],
];
const RESOURCES: StructDef = [['devices', { slice: { struct: DEVICE_CGROUP } }, true]];
const NAMESPACE: StructDef = [
  ['type', 'string', false],
  ['path', 'string', true],
];
const LINUX: StructDef = [
  ['uidMappings', MAPPINGS, true],
  ['gidMappings', MAPPINGS, true],
  ['sysctl', 'stringMap', true],
  ['resources', { ptr: RESOURCES }, true],
  ['cgroupsPath', 'string', true],
  ['namespaces', { slice: { struct: NAMESPACE } }, true],
  ['rootfsPropagation', 'string', true],
  ['maskedPaths', STRINGS, true],
  ['readonlyPaths', STRINGS, true],
  ['mountLabel', 'string', true],
];
const SPEC: StructDef = [
  ['ociVersion', 'string', false],
  ['process', { ptr: PROCESS }, true],
  ['root', { ptr: ROOT }, true],
  ['hostname', 'string', true],
  ['domainname', 'string', true],
  ['mounts', { slice: { struct: MOUNT } }, true],
  ['annotations', 'stringMap', true],
  ['linux', { ptr: LINUX }, true],
];

/** Fields that are Go pointers to scalars: omitempty drops nil, never the value 0. */
const POINTER_SCALARS = new Set(['umask', 'oomScoreAdj', 'major', 'minor']);

function bug(what: string): never {
  throw new OcikitError('INTERNAL', `[internal error] encode config.json: ${what}`);
}

function isEmpty(name: string, kind: Kind, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (POINTER_SCALARS.has(name)) return false;
  if (kind === 'string') return v === '';
  if (kind === 'bool') return v === false;
  if (kind === 'uint' || kind === 'int') return v === 0 || v === 0n;
  if (kind === 'stringMap') return Object.keys(v as object).length === 0;
  if (typeof kind === 'object' && 'slice' in kind) return (v as unknown[]).length === 0;
  return false; // pointers are empty only when nil; plain structs never
}

/** Go's zero value for a field the object leaves out (only reached for non-omitempty fields). */
function zero(kind: Kind): unknown {
  const scalars: Record<string, unknown> = { string: '', bool: false, uint: 0, int: 0 };
  return typeof kind === 'string' ? scalars[kind] : undefined;
}

function encodeValue(kind: Kind, value: unknown, path: string): string {
  const v = value ?? zero(kind);
  if (kind === 'string') return typeof v === 'string' ? goQuoteJson(v) : bug(`${path} is not a string`);
  if (kind === 'bool') return typeof v === 'boolean' ? String(v) : bug(`${path} is not a boolean`);
  if (kind === 'uint' || kind === 'int') {
    const ok = typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v));
    if (!ok || (kind === 'uint' && (v as number | bigint) < 0)) bug(`${path} is not an ${kind === 'uint' ? 'unsigned ' : ''}integer`);
    return String(v);
  }
  if (kind === 'stringMap') {
    if (v === null || v === undefined) return 'null';
    if (Object.values(v as object).some((x) => typeof x !== 'string')) bug(`${path} must map strings to strings`);
    return marshalGoValue(v);
  }
  if ('slice' in kind) {
    if (v === null || v === undefined) return 'null';
    if (!Array.isArray(v)) bug(`${path} is not an array`);
    return '[' + v.map((e, i) => encodeValue(kind.slice, e, `${path}[${i}]`)).join(',') + ']';
  }
  const def = 'struct' in kind ? kind.struct : kind.ptr;
  if (v === null || v === undefined) return 'struct' in kind ? encodeStruct(def, {}, path) : 'null';
  return encodeStruct(def, v, path);
}

function encodeStruct(def: StructDef, v: unknown, path: string): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bug(`${path || 'spec'} is not an object`);
  const obj = v as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (obj[key] !== undefined && !def.some(([name]) => name === key)) bug(`unknown field ${path ? path + '.' : ''}${key}`);
  }
  const parts: string[] = [];
  for (const [name, kind, omitempty] of def) {
    const fv = obj[name];
    if (omitempty && isEmpty(name, kind, fv)) continue;
    parts.push(goQuoteJson(name) + ':' + encodeValue(kind, fv, path ? `${path}.${name}` : name));
  }
  return '{' + parts.join(',') + '}';
}

/**
 * Go's json.Indent(dst, src, prefix "", indent) on compact JSON: a newline
 * and indentation after `{`, `[` and `,`, `": "` after keys, empty `{}`
 * and `[]` left as they are, string contents copied untouched.
 */
export function goIndent(compact: string, indent = '\t'): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  const newline = (): string => '\n' + indent.repeat(depth);
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i]!;
    if (c === '"') {
      // Copy the whole string literal, escapes included.
      let j = i + 1;
      while (j < compact.length && compact[j] !== '"') j += compact[j] === '\\' ? 2 : 1;
      if (needIndent) {
        out += newline();
        needIndent = false;
      }
      out += compact.slice(i, j + 1);
      i = j;
      continue;
    }
    if (needIndent && c !== '}' && c !== ']') {
      out += newline();
      needIndent = false;
    }
    if (c === '{' || c === '[') {
      depth++;
      needIndent = true;
      out += c;
    } else if (c === '}' || c === ']') {
      depth--;
      if (needIndent) needIndent = false; // empty: `{}` / `[]`
      else out += newline();
      out += c;
    } else if (c === ',') {
      out += ',' + newline();
    } else if (c === ':') {
      out += ': ';
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * The exact bytes umoci writes to config.json for `spec`: tab-indented
 * Go-encoded JSON plus "\n". Throws OcikitError('INTERNAL') for a field
 * the runtime-spec structs do not have or a value of the wrong type.
 */
export function encodeRuntimeConfig(spec: RuntimeSpec): string {
  return goIndent(encodeStruct(SPEC, spec, '')) + '\n';
}
