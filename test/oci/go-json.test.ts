import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OcikitError } from '../../src/errors.js';
import { encodeGo, goQuoteJson, marshalGoValue, type GoKind } from '../../src/oci/go-json.js';
import { fromUnixSeconds, parseRfc3339 } from '../../src/oci/go-time.js';

const D = 'sha256:' + 'a'.repeat(64);
const CFG = 'application/vnd.oci.image.config.v1+json';
const MAN = 'application/vnd.oci.image.manifest.v1+json';
const IDX = 'application/vnd.oci.image.index.v1+json';

/**
 * oracle.json was produced by a Go program (outside this repository) that
 * json.Unmarshal's each input into image-spec v1.1.1's structs (or into
 * interface{} for "value", string for "quote") and writes it back with
 * json.NewEncoder(w).Encode / json.Marshal. It ran on Go 1.19, so \u0008 and
 * \u000c were rewritten to \b and \f as Go >= 1.22 (umoci 0.6) writes them.
 * "umoci 0.4.7 wrote this" cases are blobs umoci itself wrote: re-encoding
 * them must give the same bytes. Inputs are JSON text, parsed here with JSON.parse.
 */
interface OracleCase {
  kind: 'quote' | 'value' | GoKind;
  name: string;
  input: string;
  output?: string;
  goError?: string;
}

function fixture(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/test/oci when compiled, test/oci when run from source
  for (const dir of [join(here, '../../../test/fixtures/go-json'), join(here, '../fixtures/go-json')]) {
    if (existsSync(join(dir, name))) return readFileSync(join(dir, name), 'utf8');
  }
  throw new Error(`fixture ${name} not found from ${here}`);
}

const ORACLE = JSON.parse(fixture('oracle.json')) as OracleCase[];

function run(c: OracleCase): string {
  const value: unknown = JSON.parse(c.input);
  if (c.kind === 'quote') return goQuoteJson(value as string);
  if (c.kind === 'value') return marshalGoValue(value);
  return encodeGo(c.kind, value);
}

test('the oracle fixture covers every kind', () => {
  const kinds = new Set(ORACLE.map((c) => c.kind));
  for (const k of ['quote', 'value', 'config', 'manifest', 'index', 'descriptor', 'layout', 'platform']) {
    assert.ok(kinds.has(k as OracleCase['kind']), k);
  }
  assert.ok(ORACLE.some((c) => c.name.startsWith('umoci 0.4.7 wrote this config')));
});

for (const c of ORACLE) {
  test(`matches Go: ${c.kind}: ${c.name}`, () => {
    if (c.goError !== undefined) {
      assert.throws(
        () => run(c),
        (err: unknown) => err instanceof OcikitError && err.code === 'SCHEMA_INVALID',
        `Go said: ${c.goError}`,
      );
    } else {
      assert.equal(run(c), c.output);
    }
  });
}

test('encodeGo writes the image umoci new writes, byte for byte', () => {
  const config = {
    created: '2026-11-23T16:17:46.003110767Z',
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
  };
  const configJson = encodeGo('config', config);
  assert.equal(
    configJson,
    '{"created":"2026-11-23T16:17:46.003110767Z","architecture":"amd64","os":"linux","config":{},' +
      '"rootfs":{"type":"layers","diff_ids":[]}}\n',
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MAN,
    config: { mediaType: CFG, digest: 'sha256:' + createHash('sha256').update(configJson).digest('hex'), size: configJson.length },
    layers: [],
  };
  assert.equal(
    encodeGo('manifest', manifest),
    `{"schemaVersion":2,"mediaType":"${MAN}","config":{"mediaType":"${CFG}","digest":"${manifest.config.digest}",` +
      `"size":${configJson.length}},"layers":[]}\n`,
  );
});

/** The rest of an image config with nothing set. */
const BARE = '"architecture":"","os":"","config":{},"rootfs":{"type":"","diff_ids":null}';

/** [kind, input, expected output without the newline] */
const TABLE: [GoKind, unknown, string][] = [
  // field order is Go's, not the input's
  ['descriptor', { size: 2, digest: D, mediaType: CFG }, `{"mediaType":"${CFG}","digest":"${D}","size":2}`],
  ['platform', { variant: 'v8', os: 'linux', architecture: 'arm64' }, '{"architecture":"arm64","os":"linux","variant":"v8"}'],
  ['layout', { imageLayoutVersion: '1.0.0' }, '{"imageLayoutVersion":"1.0.0"}'],
  // non-omitempty slices: [] stays [], null and absent are null
  ['index', { schemaVersion: 2, mediaType: IDX, manifests: [] }, `{"schemaVersion":2,"mediaType":"${IDX}","manifests":[]}`],
  ['index', { schemaVersion: 2 }, '{"schemaVersion":2,"manifests":null}'],
  ['manifest', { schemaVersion: 2, layers: null }, '{"schemaVersion":2,"config":{"mediaType":"","digest":"","size":0},"layers":null}'],
  ['config', { rootfs: { type: 'layers' } }, '{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":null}}'],
  // omitempty drops "", 0, false, [] and {}; a struct is never dropped
  [
    'config',
    { author: '', config: { Env: [], Labels: {}, ArgsEscaped: false, User: '' }, history: [], rootfs: { diff_ids: [] } },
    '{"architecture":"","os":"","config":{},"rootfs":{"type":"","diff_ids":[]}}',
  ],
  // sets and maps: sorted keys, members as {}
  [
    'config',
    { config: { ExposedPorts: { '8080/tcp': {}, '443/tcp': {}, '53/udp': {} }, Labels: { b: '2', a: '1', B: '0' } } },
    '{"architecture":"","os":"","config":{"ExposedPorts":{"443/tcp":{},"53/udp":{},"8080/tcp":{}},"Labels":{"B":"0","a":"1","b":"2"}},' +
      '"rootfs":{"type":"","diff_ids":null}}',
  ],
  // HTML-safe escaping everywhere, keys included
  [
    'descriptor',
    { mediaType: 'a<b>', digest: 'c&d', size: 0, annotations: { '<k>': 'x\u2028y' } },
    '{"mediaType":"a\\u003cb\\u003e","digest":"c\\u0026d","size":0,"annotations":{"\\u003ck\\u003e":"x\\u2028y"}}',
  ],
  // unknown fields dropped, case-insensitive match
  ['platform', { Architecture: 'amd64', OS: 'linux', features: ['sse4'] }, '{"architecture":"amd64","os":"linux"}'],
  // null leaves a string at "" and a struct at its zero value
  ['platform', { architecture: null, os: 'linux', 'os.features': null }, '{"architecture":"","os":"linux"}'],
  // data: base64 re-encoded canonically
  ['descriptor', { mediaType: 'x', digest: D, size: 2, data: 'e3\n0=' }, `{"mediaType":"x","digest":"${D}","size":2,"data":"e30="}`],
  ['descriptor', { mediaType: 'x', digest: D, size: 2, data: '' }, `{"mediaType":"x","digest":"${D}","size":2}`],
  ['descriptor', { mediaType: 'x', digest: D, size: 2, data: new Uint8Array([123, 125]) }, `{"mediaType":"x","digest":"${D}","size":2,"data":"e30="}`],
  // integers: bigints welcome, no exponent
  ['descriptor', { mediaType: 'x', digest: D, size: 9223372036854775807n }, `{"mediaType":"x","digest":"${D}","size":9223372036854775807}`],
  ['descriptor', { mediaType: 'x', digest: D, size: 1e15 }, `{"mediaType":"x","digest":"${D}","size":1000000000000000}`],
  // created: re-printed as Go's Time.MarshalJSON would, GoTime accepted, "" is unset
  ['config', { created: '2020-01-01T10:00:05.100+00:00' }, `{"created":"2020-01-01T10:00:05.1Z",${BARE}}`],
  ['config', { created: parseRfc3339('2020-01-01T10:00:00.5+02:00') }, `{"created":"2020-01-01T10:00:00.5+02:00",${BARE}}`],
  [
    'config',
    { created: fromUnixSeconds(0), history: [{ created: '', created_by: 'x' }] },
    `{"created":"1970-01-01T00:00:00Z",${BARE},"history":[{"created_by":"x"}]}`,
  ],
];

test('encodeGo table', () => {
  for (const [kind, input, want] of TABLE) {
    assert.equal(encodeGo(kind, input), want + '\n', want);
  }
});

test('encodeGo leaves its input alone', () => {
  const input = { schemaVersion: 2, config: { mediaType: CFG, digest: D, size: 1 }, layers: [{ mediaType: 'x', digest: D, size: 2 }], extra: 1 };
  const copy = structuredClone(input);
  encodeGo('manifest', input);
  assert.deepEqual(input, copy);
});

/** [kind, input, a piece of the message naming the field] */
const REFUSED: [GoKind, unknown, string][] = [
  ['manifest', { layers: [{ size: '1' }] }, 'layers[0].size: expected an integer, got a string'],
  ['manifest', { config: { size: 1.5 } }, 'config.size: expected an integer'],
  ['manifest', { config: { size: 2 ** 60 } }, 'pass a bigint'],
  ['manifest', { config: { size: 1n << 63n } }, 'config.size: expected an int64'],
  ['manifest', { schemaVersion: NaN }, 'schemaVersion'],
  ['manifest', { annotations: { a: 1 } }, 'annotations["a"]: expected a string, got a number'],
  ['manifest', [], 'invalid manifest: : expected an object, got an array'],
  ['index', { manifests: {} }, 'manifests: expected an array, got an object'],
  ['config', { config: { Env: 'A=B' } }, 'config.Env: expected an array'],
  ['config', { config: { ArgsEscaped: 'true' } }, 'config.ArgsEscaped: expected a boolean'],
  ['config', { config: { Volumes: { '/v': 1 } } }, 'config.Volumes["/v"]: expected an object ({})'],
  ['config', { created: '2020-01-01' }, 'created: expected an RFC 3339 time'],
  ['config', { created: new Date(0) }, 'created: expected an RFC 3339 time string'],
  ['config', { history: [{ created: 5 }] }, 'history[0].created'],
  ['config', { created: '2020-01-01T00:00:00+24:00' }, 'created: Time.MarshalJSON: timezone hour outside of range [0,23]'],
  ['config', { created: fromUnixSeconds(253402300800n) }, 'created: Time.MarshalJSON: year outside of range [0,9999]'],
  ['descriptor', { data: 'YQ' }, 'data: expected padded standard base64'],
  ['descriptor', { data: [256] }, 'data: expected a base64 string'],
  ['descriptor', { platform: 'linux' }, 'platform: expected an object, got a string'],
  ['platform', { 'os.features': [true] }, 'os.features[0]: expected a string, got a boolean'],
  ['layout', { imageLayoutVersion: 1 }, 'imageLayoutVersion: expected a string'],
];

test('encodeGo refuses wrong-typed fields, naming them', () => {
  for (const [kind, input, piece] of REFUSED) {
    assert.throws(
      () => encodeGo(kind, input),
      (err: unknown) => err instanceof OcikitError && err.code === 'SCHEMA_INVALID' && err.message.includes(piece),
      piece,
    );
  }
});

test('goQuoteJson escapes exactly what Go escapes', () => {
  const cases: [string, string][] = [
    ['', '""'],
    ['plain ascii ~', '"plain ascii ~"'],
    ['"\\/', '"\\"\\\\/"'],
    ['<>&', '"\\u003c\\u003e\\u0026"'],
    ['\n\r\t\b\f', '"\\n\\r\\t\\b\\f"'],
    ['\u0000\u0001\u000b\u001f', '"\\u0000\\u0001\\u000b\\u001f"'],
    ['\u007f\u0080\u00a0', '"\u007f\u0080\u00a0"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['é中😀\ufffd\ufeff', '"é中😀\ufffd\ufeff"'],
    ['a\ud800b', '"a\ufffdb"'],
    ['\udc00\ud83d', '"\ufffd\ufffd"'],
    ['\ud83d\ude00', '"\ud83d\ude00"'],
  ];
  for (const [input, want] of cases) assert.equal(goQuoteJson(input), want, JSON.stringify(input));
});

test('marshalGoValue sorts keys by UTF-8 bytes and prints numbers like Go', () => {
  assert.equal(marshalGoValue({ b: 1, a: [true, null, 'x'], A: {} }), '{"A":{},"a":[true,null,"x"],"b":1}');
  // U+FFFF sorts below an astral character in UTF-8 (not in UTF-16)
  assert.equal(marshalGoValue({ '😀': 1, '\uffff': 2, '\ue000': 3 }), '{"\ue000":3,"\uffff":2,"😀":1}');
  assert.equal(marshalGoValue(new Map([['z', 1], ['y', 2]])), '{"y":2,"z":1}');
  assert.equal(marshalGoValue({ skip: undefined, keep: 0 }), '{"keep":0}');
  assert.equal(marshalGoValue([undefined]), '[null]');
  assert.equal(marshalGoValue(-0), '-0');
  assert.equal(marshalGoValue(1e21), '1e+21');
  assert.equal(marshalGoValue(1e-7), '1e-7');
  assert.equal(marshalGoValue(123456789012345678901234567890n), '123456789012345678901234567890');
  assert.equal(marshalGoValue(new Uint8Array([0xff, 0])), '"/wA="');
  assert.equal(marshalGoValue(undefined), 'null');
  assert.equal(marshalGoValue('<'), '"\\u003c"');
});

test('marshalGoValue refuses what Go cannot marshal', () => {
  for (const v of [NaN, Infinity, -Infinity, () => 1, Symbol('x'), new Date(0), new Map([[1, 2]])]) {
    assert.throws(
      () => marshalGoValue(v),
      (err: unknown) => err instanceof OcikitError && err.code === 'SCHEMA_INVALID',
      String(typeof v),
    );
  }
});
