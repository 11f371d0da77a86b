/**
 * JSON bytes exactly as umoci writes them. umoci unmarshals blobs into
 * image-spec v1.1.1's Go structs and writes them back with encoding/json, so
 * a config, manifest or index digest only matches umoci's when ocikit
 * reproduces both halves: what Go's decoder keeps (known fields only, matched
 * case-insensitively, nulls ignored for plain values) and how its encoder
 * prints (struct field order, omitempty, sorted map keys, HTML-safe escapes).
 *
 * The rules follow the Go toolchains umoci 0.6 is built with (Go >= 1.23):
 * since Go 1.22 the encoder writes \b and \f as short escapes. What JSON.parse
 * already lost cannot be rebuilt: exactly repeated keys (Go merges objects),
 * a number's spelling (Go refuses 1.0 for an integer), digits beyond 2^53.
 */
import { OcikitError } from '../errors.js';
import { formatRfc3339Nano, isGoTime, parseRfc3339, type GoTime } from './go-time.js';
import { compareUtf8 } from '../util/byte-order.js';

export type GoKind = 'config' | 'config-v1.0' | 'manifest' | 'index' | 'descriptor' | 'layout' | 'platform';

/** A Go type as far as JSON cares. `unit` is struct{} (set members of ExposedPorts and Volumes). */
type GoType =
  | { k: 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'unit' }
  | { k: 'slice' | 'map'; of: GoType }
  | { k: 'struct' | 'ptr'; s: StructDef };
interface FieldDef {
  name: string;
  t: GoType;
  omitempty: boolean;
  /** the name folded as Go folds JSON keys for its case-insensitive match */
  folded: string;
}
interface StructDef {
  fields: FieldDef[];
}
/** A decoded Go value: structs and maps are Maps, nil is null, struct{} is true. */
type GoValue = string | bigint | boolean | Uint8Array | GoTime | GoValue[] | Map<string, GoValue> | null;

const STRING: GoType = { k: 'string' };
const INT: GoType = { k: 'int' };
const BOOL: GoType = { k: 'bool' };
const STRINGS: GoType = { k: 'slice', of: STRING };
const STRING_MAP: GoType = { k: 'map', of: STRING };
const SET: GoType = { k: 'map', of: { k: 'unit' } };
const TIME: GoType = { k: 'time' };

/** Go's key folding (encoding/json fold.go): the smallest rune of each case orbit. */
function foldKey(key: string): string {
  let out = '';
  for (const ch of key) {
    if (ch === '\u017f') out += 'S';
    else if (ch === '\u212a') out += 'K';
    else if (ch >= 'a' && ch <= 'z') out += ch.toUpperCase();
    else out += ch;
  }
  return out;
}

/**
 * A struct from its fields in Go declaration order; a name ending in '?'
 * carries `omitempty` (which never omits a struct-typed field).
 */
function struct(spec: Record<string, GoType>): StructDef {
  return {
    fields: Object.entries(spec).map(([tag, t]) => {
      const name = tag.endsWith('?') ? tag.slice(0, -1) : tag;
      return { name, t, omitempty: name !== tag, folded: foldKey(name) };
    }),
  };
}

// image-spec v1.1.1 specs-go/v1, field for field.
const PLATFORM_FIELDS = {
  architecture: STRING, os: STRING, 'os.version?': STRING, 'os.features?': STRINGS, 'variant?': STRING,
};
const PLATFORM = struct(PLATFORM_FIELDS);
const DESCRIPTOR = struct({
  mediaType: STRING, digest: STRING, size: INT, 'urls?': STRINGS, 'annotations?': STRING_MAP,
  'data?': { k: 'bytes' }, 'platform?': { k: 'ptr', s: PLATFORM }, 'artifactType?': STRING,
});
const DESCRIPTORS: GoType = { k: 'slice', of: { k: 'struct', s: DESCRIPTOR } };
const SUBJECT: GoType = { k: 'ptr', s: DESCRIPTOR };
const MANIFEST = struct({
  schemaVersion: INT, 'mediaType?': STRING, 'artifactType?': STRING, config: { k: 'struct', s: DESCRIPTOR },
  layers: DESCRIPTORS, 'subject?': SUBJECT, 'annotations?': STRING_MAP,
});
const INDEX = struct({
  schemaVersion: INT, 'mediaType?': STRING, 'artifactType?': STRING,
  manifests: DESCRIPTORS, 'subject?': SUBJECT, 'annotations?': STRING_MAP,
});
const IMAGE_CONFIG = struct({
  'User?': STRING, 'ExposedPorts?': SET, 'Env?': STRINGS, 'Entrypoint?': STRINGS, 'Cmd?': STRINGS,
  'Volumes?': SET, 'WorkingDir?': STRING, 'Labels?': STRING_MAP, 'StopSignal?': STRING, 'ArgsEscaped?': BOOL,
});
const HISTORY = struct({
  'created?': TIME, 'created_by?': STRING, 'author?': STRING, 'comment?': STRING, 'empty_layer?': BOOL,
});
const IMAGE = struct({
  'created?': TIME,
  'author?': STRING,
  ...PLATFORM_FIELDS, // the embedded Platform
  'config?': { k: 'struct', s: IMAGE_CONFIG }, // omitempty on a struct: always written, `{}` when empty
  rootfs: { k: 'struct', s: struct({ type: STRING, diff_ids: STRINGS }) },
  'history?': { k: 'slice', of: { k: 'struct', s: HISTORY } },
});
/**
 * image-spec 1.0's Image, where `variant` follows `architecture` and comes
 * before `os` (1.1 embeds Platform instead): the order skopeo 1.9 (Debian's)
 * writes a converted Docker config in. `os.version` and `os.features`,
 * which 1.0 lacks, are kept after `os` rather than dropped.
 */
const IMAGE_V1_0 = struct({
  'created?': TIME,
  'author?': STRING,
  architecture: STRING,
  'variant?': STRING,
  os: STRING,
  'os.version?': STRING,
  'os.features?': STRINGS,
  'config?': { k: 'struct', s: IMAGE_CONFIG },
  rootfs: { k: 'struct', s: struct({ type: STRING, diff_ids: STRINGS }) },
  'history?': { k: 'slice', of: { k: 'struct', s: HISTORY } },
});
const LAYOUT = struct({ imageLayoutVersion: STRING });

const ROOTS: Record<GoKind, StructDef> = {
  config: IMAGE, 'config-v1.0': IMAGE_V1_0, manifest: MANIFEST, index: INDEX, descriptor: DESCRIPTOR, layout: LAYOUT, platform: PLATFORM,
};

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Go's zero value: nil (null) for slices, maps, []byte and pointers. */
function zero(t: GoType): GoValue {
  if (t.k === 'struct') return new Map(t.s.fields.map((f) => [f.name, zero(f.t)]));
  const scalars: Partial<Record<GoType['k'], GoValue>> = { string: '', int: 0n, bool: false, unit: true };
  return scalars[t.k] ?? null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Replaces lone surrogates with U+FFFD, as Go's decoder does for `\ud800`-style escapes. */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Go's base64.StdEncoding.Decode as encoding/json uses it: padding required, CR/LF ignored. */
function decodeBase64(s: string): Uint8Array | undefined {
  const t = s.replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t)) return undefined;
  return new Uint8Array(Buffer.from(t, 'base64'));
}

/** The decode half: what Go's json.Unmarshal keeps of `v` in a value of type `t` that holds `cur`. */
function decode(t: GoType, v: unknown, cur: GoValue, path: string, kind: string): GoValue {
  const bad = (expected: string, detail = ''): never => {
    const got = describe(v);
    throw new OcikitError('SCHEMA_INVALID', `invalid ${kind}: ${path}: expected ${expected}, got ${got}${detail}`);
  };
  if (v === undefined) return cur;
  // null sets nil on slices, maps, []byte and pointers (time is a *time.Time), and is ignored by everything else.
  if (v === null) return ['slice', 'map', 'bytes', 'ptr', 'time'].includes(t.k) ? null : cur;
  switch (t.k) {
    case 'string':
      return typeof v === 'string' ? wellFormed(v) : bad('a string');
    case 'bool':
      return typeof v === 'boolean' ? v : bad('a boolean');
    case 'int': {
      if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? v : bad('an int64', ' (out of range)');
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      return bad('an integer', typeof v === 'number' ? ` (${v}; pass a bigint beyond 2^53)` : '');
    }
    case 'bytes': {
      if (typeof v === 'string') return decodeBase64(v) ?? bad('padded standard base64', ' (illegal base64 data)');
      const isByte = (b: unknown): boolean => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255;
      if (Array.isArray(v) && v.every(isByte)) return new Uint8Array(v as number[]);
      return v instanceof Uint8Array ? new Uint8Array(v) : bad('a base64 string');
    }
    case 'time': {
      if (isGoTime(v)) return v;
      if (typeof v !== 'string') return bad('an RFC 3339 time string');
      if (v === '') return null; // an unset time in ocikit's own objects
      try {
        return parseRfc3339(v, path);
      } catch (err) {
        return bad('an RFC 3339 time', `: ${(err as Error).message}`);
      }
    }
    case 'unit':
      return isPlainObject(v) ? true : bad('an object ({})');
    case 'slice': {
      if (!Array.isArray(v)) return bad('an array');
      // Go decodes into the elements already there, then truncates.
      const old = Array.isArray(cur) ? cur : [];
      return v.map((e: unknown, i) => decode(t.of, e, old[i] ?? zero(t.of), `${path}[${i}]`, kind));
    }
    case 'map': {
      if (!isPlainObject(v)) return bad('an object');
      // Go adds to a map it already holds; each element starts from zero.
      const m = new Map(cur instanceof Map ? cur : []);
      for (const [key, e] of Object.entries(v)) {
        if (e === undefined) continue;
        m.set(wellFormed(key), decode(t.of, e, zero(t.of), `${path}[${JSON.stringify(key)}]`, kind));
      }
      return m;
    }
    case 'struct':
    case 'ptr': {
      if (!isPlainObject(v)) return bad('an object');
      const base = cur instanceof Map ? cur : (zero({ k: 'struct', s: t.s }) as Map<string, GoValue>);
      const out = new Map(base);
      for (const [key, e] of Object.entries(v)) {
        const field = lookupField(t.s, key);
        if (field === undefined) continue; // unknown fields are dropped
        const sub = path === '' ? field.name : `${path}.${field.name}`;
        out.set(field.name, decode(field.t, e, out.get(field.name) ?? zero(field.t), sub, kind));
      }
      return out;
    }
  }
}

/** Go's field match: the exact name first, else a case-insensitive one. */
function lookupField(s: StructDef, key: string): FieldDef | undefined {
  const exact = s.fields.find((f) => f.name === key);
  if (exact !== undefined) return exact;
  const folded = foldKey(key);
  return s.fields.find((f) => f.folded === folded);
}

function isEmpty(t: GoType, v: GoValue): boolean {
  switch (t.k) {
    case 'string':
      return v === '';
    case 'int':
      return v === 0n;
    case 'bool':
      return v === false;
    case 'struct':
    case 'unit':
      return false; // omitempty never applies to a struct
    default:
      if (v === null) return true;
      if (v instanceof Map) return v.size === 0;
      return (Array.isArray(v) || v instanceof Uint8Array) && v.length === 0;
  }
}

/** Time.MarshalJSON: RFC3339Nano, refusing what RFC 3339 cannot carry (Go >= 1.20). */
function encodeTime(t: GoTime, path: string, kind: string): string {
  const s = formatRfc3339Nano(t);
  const refuse = (why: string): never => {
    throw new OcikitError('SCHEMA_INVALID', `invalid ${kind}: ${path}: Time.MarshalJSON: ${why}`);
  };
  if (s[4] !== '-') refuse('year outside of range [0,9999]');
  if (!s.endsWith('Z')) {
    const c = s[s.length - 6] ?? '';
    if ((c >= '0' && c <= '9') || Number(s.slice(-5, -3)) >= 24) refuse('timezone hour outside of range [0,23]');
  }
  return `"${s}"`;
}

function encode(t: GoType, v: GoValue, path: string, kind: string): string {
  switch (t.k) {
    case 'string':
      return goQuoteJson(v as string);
    case 'int':
      return (v as bigint).toString();
    case 'bool':
      return v ? 'true' : 'false';
    case 'unit':
      return '{}';
    case 'bytes':
      return v === null ? 'null' : `"${Buffer.from(v as Uint8Array).toString('base64')}"`;
    case 'time':
      return v === null ? 'null' : encodeTime(v as GoTime, path, kind);
    case 'slice':
      if (v === null) return 'null';
      return '[' + (v as GoValue[]).map((e, i) => encode(t.of, e, `${path}[${i}]`, kind)).join(',') + ']';
    case 'map': {
      if (v === null) return 'null';
      const m = v as Map<string, GoValue>;
      const keys = [...m.keys()].sort(compareUtf8);
      return '{' + keys.map((k) => goQuoteJson(k) + ':' + encode(t.of, m.get(k) ?? null, path, kind)).join(',') + '}';
    }
    case 'struct':
    case 'ptr': {
      if (v === null) return 'null';
      const m = v as Map<string, GoValue>;
      const parts: string[] = [];
      for (const f of t.s.fields) {
        const fv = m.get(f.name) ?? zero(f.t);
        if (f.omitempty && isEmpty(f.t, fv)) continue;
        parts.push(`"${f.name}":` + encode(f.t, fv, path === '' ? f.name : `${path}.${f.name}`, kind));
      }
      return '{' + parts.join(',') + '}';
    }
  }
}

/**
 * Serialises `value` like Go's `json.NewEncoder(w).Encode(v)` after
 * `json.Unmarshal` into image-spec v1.1.1's struct for `kind`: compact, one
 * trailing "\n". Unknown fields are dropped, keys match case-insensitively,
 * `null` leaves strings/numbers/structs at their zero value. `created` times
 * are re-printed with RFC3339Nano (a canonical string comes back unchanged;
 * `…05.100Z` becomes `…05.1Z` as umoci would write it); a GoTime is accepted
 * too, and "" counts as unset. `data` is base64 (re-encoded canonically).
 * Integers must be safe integers or bigints. Throws
 * OcikitError('SCHEMA_INVALID') naming the field for a wrong-typed value.
 */
export function encodeGo(kind: GoKind, value: unknown): string {
  const t: GoType = { k: 'struct', s: ROOTS[kind] };
  const v = decode(t, value, zero(t), '', kind);
  return encode(t, v, '', kind) + '\n';
}


/** Go's float64 encoding: shortest digits, exponent form below 1e-6 and from 1e21. */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) throw new OcikitError('SCHEMA_INVALID', `json: unsupported value: ${n}`);
  if (Object.is(n, -0)) return '-0';
  // JS switches to exponent form at the same bounds and prints e-7, e+21 like Go after its cleanup.
  return String(n);
}

/**
 * Marshals a generic value like Go's json.Marshal on map[string]interface{}
 * and friends: object keys sorted by UTF-8 bytes, HTML-safe escaping,
 * compact, no trailing newline. Numbers print as Go prints float64 (-0 as
 * "-0"), bigints as integers, Uint8Array as base64, Map like an object;
 * undefined object members are left out (undefined array items are null).
 */
export function marshalGoValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return goFloat(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return goQuoteJson(value);
    default:
      break;
  }
  if (Array.isArray(value)) return '[' + value.map((e: unknown) => marshalGoValue(e)).join(',') + ']';
  if (value instanceof Uint8Array) return `"${Buffer.from(value).toString('base64')}"`;
  let entries: [unknown, unknown][];
  if (value instanceof Map) entries = [...(value as Map<unknown, unknown>).entries()];
  else if (isPlainObject(value)) entries = Object.entries(value);
  else throw new OcikitError('SCHEMA_INVALID', `json: unsupported type: ${describe(value)}`);
  const m = new Map<string, unknown>();
  for (const [k, e] of entries) {
    if (typeof k !== 'string') throw new OcikitError('SCHEMA_INVALID', `json: unsupported map key: ${describe(k)}`);
    if (e !== undefined) m.set(wellFormed(k), e);
  }
  const keys = [...m.keys()].sort(compareUtf8);
  return '{' + keys.map((k) => goQuoteJson(k) + ':' + marshalGoValue(m.get(k))).join(',') + '}';
}

const HEX = '0123456789abcdef';

/**
 * A JSON string literal exactly as Go's encoding/json writes it with HTML
 * escaping on: `"` and `\` backslashed; \n \r \t \b \f short; other controls
 * as \u00XX (lowercase hex); <, >, & as \u003c \u003e \u0026; U+2028 and
 * U+2029 as \u2028 \u2029; DEL and all other characters raw. A lone
 * surrogate becomes a raw U+FFFD, as Go's decoder would have made it.
 */
export function goQuoteJson(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26) continue;
      if (c === 0x22) esc = '\\"';
      else if (c === 0x5c) esc = '\\\\';
      else if (c === 0x0a) esc = '\\n';
      else if (c === 0x0d) esc = '\\r';
      else if (c === 0x09) esc = '\\t';
      else if (c === 0x08) esc = '\\b';
      else if (c === 0x0c) esc = '\\f';
      else esc = '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
    } else if (c === 0x2028 || c === 0x2029) {
      esc = '\\u202' + HEX[c & 0xf];
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++; // a well-formed pair is copied as is
      continue;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      esc = '\ufffd';
    } else {
      continue;
    }
    out += s.slice(start, i) + esc;
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}
