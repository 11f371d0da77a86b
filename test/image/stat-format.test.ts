import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatJson, formatStatText, hexdumpLines, statHistory, type StatInput } from '../../src/image/stat-format.js';
import type { Descriptor, ImageConfig, Manifest } from '../../src/oci/types.js';

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

function inputFrom(manifestDescriptor: Descriptor, manifestBytes: Buffer, configBytes: Buffer): StatInput {
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  return {
    manifestDescriptor,
    manifestBytes,
    manifest,
    configDescriptor: manifest.config,
    configBytes,
    config: JSON.parse(configBytes.toString('utf8')) as ImageConfig,
  };
}

// Fixture F: built with the Debian umoci 0.4.7 (init, new, config with most
// --config.* flags, unpack/repack of one file, config --manifest.annotation);
// these are its blobs byte for byte, as umoci wrote them.
const F_MANIFEST_DESC: Descriptor = {
  mediaType: MANIFEST_TYPE,
  digest: 'sha256:2e6f1c85dfabc5a27069e12953ce3545d7ddba1107bfc5ac972c26cfffc1d44d',
  size: 401,
  annotations: { 'org.opencontainers.image.ref.name': 't' },
};
const F_MANIFEST = Buffer.from(
  '{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:df6ecae0db0ddbe031c4a51f0ef8d58dfcdaf06b3188635b9bcc9a2c2de40561","size":801},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:33cdb556788cc2fc9440ae5a758405221c356c6b9e9c370a4d690a0eebc0c474","size":140}],"annotations":{"org.opencontainers.image.title":"demo"}}\n',
);
const F_CONFIG = Buffer.from(
  '{"created":"2020-01-02T03:04:05.12+02:00","author":"Jane Doe \\u003cjane@example.com\\u003e","architecture":"amd64","os":"linux","config":{"User":"1000:1000","ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Env":["PATH=/bin","X=a b"],"Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],"Volumes":{"/data":{}},"WorkingDir":"/srv","Labels":{"k":"v","org.example":"yes, really"},"StopSignal":"SIGTERM"},"rootfs":{"type":"layers","diff_ids":["sha256:8aa1552d19a1945a81de26583ad5ab885934d670678af77144b8babf97f985e7"]},"history":[{"created":"2020-01-02T03:04:05Z","created_by":"umoci config","author":"Jane","comment":"set \\u003cconfig\\u003e \\u0026 more","empty_layer":true},{"created":"2020-01-02T04:00:00.5-07:30","created_by":"COPY hello /","author":"Jane Doe \\u003cjane@example.com\\u003e","comment":"tab\\there"}]}\n',
);
const F = inputFrom(F_MANIFEST_DESC, F_MANIFEST, F_CONFIG);

/** `umoci stat --image F:t --json`, umoci 0.4.7, which prints only the history. */
const F_UMOCI047_JSON =
  '{"history":[{"layer":null,"diff_id":"","created":"2020-01-02T03:04:05Z","created_by":"umoci config","author":"Jane","comment":"set \\u003cconfig\\u003e \\u0026 more","empty_layer":true},{"layer":{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:33cdb556788cc2fc9440ae5a758405221c356c6b9e9c370a4d690a0eebc0c474","size":140},"diff_id":"sha256:8aa1552d19a1945a81de26583ad5ab885934d670678af77144b8babf97f985e7","created":"2020-01-02T04:00:00.5-07:30","created_by":"COPY hello /","author":"Jane Doe \\u003cjane@example.com\\u003e","comment":"tab\\there"}]}\n';

// Fixture H: three history entries (layer, empty, layer), non-ASCII text, a
// kB-sized layer; built with umoci 0.4.7, whose table needs no quoting here.
const H_MANIFEST_DESC: Descriptor = {
  mediaType: MANIFEST_TYPE,
  digest: 'sha256:a1e634f338eb40c486655bb5327c064ec03eab0674a2e532a4d4484d6110edd8',
  size: 500,
  annotations: { 'org.opencontainers.image.ref.name': 't' },
};
const H_MANIFEST = Buffer.from(
  '{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0f46ccb0628e0cd90d6757c41910934fcb063017f5b257d0c61ef744a626929b","size":556},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:0fd0f520af84a485a344fdcc7bd75bfed61f67a528dbfc9688cfbf542d049e8d","size":132},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:5f6df0bf8f3e4fc27fa5f020484eee48b9d7b7a8ae055d82901434d2eac1dfb7","size":2683}]}\n',
);
const H_CONFIG = Buffer.from(
  '{"created":"2026-11-23T16:15:11.468044373Z","architecture":"amd64","os":"linux","config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:ac21e5936fa8598b049aaa0224a420c688507d36ddb9b99dd18c2e41cabfdfb4","sha256:eacb1be570eade5c9c5666d55eb5537212ed6823b96028b4328829100cdfde8e"]},"history":[{"created":"2021-05-06T07:08:09.000000001Z","created_by":"café ☕ build","comment":"first"},{"created":"2021-05-06T07:08:10Z","created_by":"/bin/sh -c #(nop) ENV A=1","empty_layer":true},{"created":"2021-05-06T07:08:11.1Z","created_by":"ADD rand"}]}\n',
);
const H = inputFrom(H_MANIFEST_DESC, H_MANIFEST, H_CONFIG);

/** `umoci stat --image H:t`, umoci 0.4.7 (its whole output is the history table). */
const H_UMOCI047_TABLE = [
  'LAYER                                                                   CREATED                        CREATED BY                SIZE    COMMENT',
  'sha256:0fd0f520af84a485a344fdcc7bd75bfed61f67a528dbfc9688cfbf542d049e8d 2021-05-06T07:08:09.000000001Z café ☕ build              132B    first',
  '<none>                                                                  2021-05-06T07:08:10Z           /bin/sh -c #(nop) ENV A=1 <none>  ',
  'sha256:5f6df0bf8f3e4fc27fa5f020484eee48b9d7b7a8ae055d82901434d2eac1dfb7 2021-05-06T07:08:11.1Z         ADD rand                  2.683kB ',
  '',
].join('\n');

function historySection(text: string): string {
  const marker = '\n== HISTORY ==\n';
  const at = text.indexOf(marker);
  assert.notEqual(at, -1, 'no HISTORY section');
  return text.slice(at + marker.length);
}

describe('statHistory', () => {
  test('pairs non-empty entries with layers and diff_ids, skipping empty ones', () => {
    const rows = statHistory(H);
    assert.equal(rows.length, 3);
    assert.equal(rows[0]?.layer?.digest, H.manifest.layers[0]?.digest);
    assert.equal(rows[0]?.diff_id, H.config.rootfs.diff_ids?.[0]);
    assert.deepEqual(rows[1], { layer: null, created: '2021-05-06T07:08:10Z', created_by: '/bin/sh -c #(nop) ENV A=1', empty_layer: true });
    assert.equal(rows[2]?.layer?.digest, H.manifest.layers[1]?.digest);
    assert.equal(rows[2]?.diff_id, H.config.rootfs.diff_ids?.[1]);
  });

  test('gives layer null when there are more non-empty entries than layers (umoci panics)', () => {
    const config: ImageConfig = { ...H.config, history: [...(H.config.history ?? []), { created_by: 'extra' }] };
    const rows = statHistory({ ...H, config });
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[3], { layer: null, created_by: 'extra' });
    assert.match(historySection(formatStatText({ ...H, config })).split('\n')[4] ?? '', /^<none> +extra +<none> *$/);
  });

  test('no history gives no rows and an empty JSON list', () => {
    const config: ImageConfig = { ...H.config, history: undefined };
    assert.deepEqual(statHistory({ ...H, config }), []);
    assert.match(formatStatJson({ ...H, config }), /,"history":\[\]\}\n$/);
  });
});

describe('formatStatJson', () => {
  test('whole output for fixture F; the history part is byte-identical to umoci 0.4.7', () => {
    const want =
      '{"manifest":{"descriptor":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2e6f1c85dfabc5a27069e12953ce3545d7ddba1107bfc5ac972c26cfffc1d44d","size":401,"annotations":{"org.opencontainers.image.ref.name":"t"}},' +
      `"blob":${F_MANIFEST.toString().trimEnd()}},` +
      '"config":{"descriptor":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:df6ecae0db0ddbe031c4a51f0ef8d58dfcdaf06b3188635b9bcc9a2c2de40561","size":801},' +
      `"blob":${F_CONFIG.toString().trimEnd()}},` +
      F_UMOCI047_JSON.slice(1);
    assert.equal(formatStatJson(F), want);
  });

  test('embeds the original blob compacted and HTML-escaped, never re-serialised', () => {
    const pretty = Buffer.from('{\n  "schemaVersion": 2,\n  "config": {"mediaType": "x", "digest": "sha256:00", "size": 1.0},\n  "layers": [],\n  "annotations": {"z": "<b>", "a": "\\/"}\n}\n');
    const out = formatStatJson({ ...F, manifestBytes: pretty });
    assert.ok(out.includes('"blob":{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:00","size":1.0},"layers":[],"annotations":{"z":"\\u003cb\\u003e","a":"\\/"}}}'));
  });

  test('descriptor fields in Go struct order, omitempty, annotations sorted by bytes', () => {
    const desc: Descriptor = {
      artifactType: 'application/x-art',
      platform: { variant: 'v8', os: 'linux', architecture: 'arm64', 'os.features': ['f'] },
      data: 'e30',
      annotations: { 'ü': '1', b: '<2>', a: '3' },
      urls: [],
      size: 2,
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      mediaType: 'application/vnd.oci.empty.v1+json',
    };
    const out = formatStatJson({ ...F, manifestDescriptor: desc });
    assert.ok(out.startsWith(
      '{"manifest":{"descriptor":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,' +
        '"annotations":{"a":"3","b":"\\u003c2\\u003e","ü":"1"},"data":"e30=","platform":{"architecture":"arm64","os":"linux","os.features":["f"],"variant":"v8"},"artifactType":"application/x-art"},',
    ));
  });

  test('history created is printed as Go re-formats a time.Time', () => {
    const config: ImageConfig = { ...H.config, history: [{ created: '2020-01-02T03:04:05.120000000+00:00', empty_layer: true }] };
    assert.match(formatStatJson({ ...H, config }), /"history":\[\{"layer":null,"diff_id":"","created":"2020-01-02T03:04:05.12Z","empty_layer":true\}\]\}\n$/);
  });
});

describe('formatStatText', () => {
  test('history table of fixture H is byte-identical to umoci 0.4.7', () => {
    assert.equal(historySection(formatStatText(H)), H_UMOCI047_TABLE);
  });

  test('whole output for fixture F (umoci 0.6 layout; 0.4.7 differs only by quoting in the table)', () => {
    const want = [
      '== MANIFEST ==',
      'Schema Version: 2',
      'Media Type: ""',
      'Config:',
      '\tDescriptor:',
      '\t\tMedia Type: application/vnd.oci.image.config.v1+json',
      '\t\tDigest: sha256:df6ecae0db0ddbe031c4a51f0ef8d58dfcdaf06b3188635b9bcc9a2c2de40561',
      '\t\tSize: 801B',
      'Layers:',
      '\tDescriptor:',
      '\t\tMedia Type: application/vnd.oci.image.layer.v1.tar+gzip',
      '\t\tDigest: sha256:33cdb556788cc2fc9440ae5a758405221c356c6b9e9c370a4d690a0eebc0c474',
      '\t\tSize: 140B',
      'Annotations:',
      '\torg.opencontainers.image.title: demo',
      'Descriptor:',
      '\tMedia Type: application/vnd.oci.image.manifest.v1+json',
      '\tDigest: sha256:2e6f1c85dfabc5a27069e12953ce3545d7ddba1107bfc5ac972c26cfffc1d44d',
      '\tSize: 401B',
      '\tAnnotations:',
      '\t\torg.opencontainers.image.ref.name: t',
      '',
      '== CONFIG ==',
      'Created: 2020-01-02T03:04:05.12+02:00',
      'Author: "Jane Doe <jane@example.com>"',
      'Platform:',
      '\tOS: linux',
      '\tArchitecture: amd64',
      'Image Config:',
      '\tUser: 1000:1000',
      '\tEntrypoint:',
      '\t\t/bin/sh',
      '\t\t-c',
      '\tCommand:',
      '\t\t"echo hi"',
      '\tWorking Directory: /srv',
      '\tEnvironment:',
      '\t\tPATH=/bin',
      '\t\t"X=a b"',
      '\tStop Signal: SIGTERM',
      '\tExposed Ports: 443/tcp, 80/tcp',
      '\tVolumes: /data',
      '\tLabels:',
      '\t\tk: v',
      '\t\torg.example: "yes, really"',
      'Descriptor:',
      '\tMedia Type: application/vnd.oci.image.config.v1+json',
      '\tDigest: sha256:df6ecae0db0ddbe031c4a51f0ef8d58dfcdaf06b3188635b9bcc9a2c2de40561',
      '\tSize: 801B',
      '',
      '== HISTORY ==',
      'LAYER                                                                   CREATED                     CREATED BY   SIZE   COMMENT',
      '<none>                                                                  2020-01-02T03:04:05Z        umoci config <none> set <config> & more',
      'sha256:33cdb556788cc2fc9440ae5a758405221c356c6b9e9c370a4d690a0eebc0c474 2020-01-02T04:00:00.5-07:30 COPY hello / 140B   "tab\\there"',
      '',
    ].join('\n');
    assert.equal(formatStatText(F), want);
  });

  test('empty values: User "", Command (empty), Author "", escaped command suffix', () => {
    const config: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: ['sh'], ArgsEscaped: true },
      rootfs: { type: 'layers', diff_ids: [] },
    };
    const text = formatStatText({ ...H, config });
    const block = text.slice(text.indexOf('== CONFIG ==\n'), text.indexOf('\nDescriptor:', text.indexOf('== CONFIG ==')));
    assert.equal(block, [
      '== CONFIG ==',
      'Author: ""',
      'Platform:',
      '\tOS: linux',
      '\tArchitecture: amd64',
      'Image Config:',
      '\tUser: ""',
      '\tEntrypoint (escaped):',
      '\t\tsh',
      '\tCommand (escaped): (empty)',
    ].join('\n'));
    assert.ok(text.endsWith('== HISTORY ==\nLAYER CREATED CREATED BY SIZE COMMENT\n'));
  });

  test('descriptor with artifactType, platform (unindented, as umoci prints it), urls, annotations and data', () => {
    const config: Descriptor = {
      mediaType: 'application/vnd.oci.empty.v1+json',
      artifactType: 'application/vnd.example+type',
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      size: 2,
      platform: { architecture: 'arm64', os: 'linux', 'os.version': '10.0', 'os.features': ['a', 'b'], variant: 'v8' },
      urls: ['https://example.com/x'],
      annotations: { plain: '', 'key with space': 'v v' },
      data: Buffer.from('{}').toString('base64'),
    };
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      artifactType: 'application/vnd.example+type',
      config,
      layers: [],
      subject: { mediaType: MANIFEST_TYPE, digest: H_MANIFEST_DESC.digest, size: 1107 },
    };
    const text = formatStatText({ ...H, manifest });
    const block = text.slice(0, text.indexOf('\nDescriptor:\n'));
    assert.equal(block, [
      '== MANIFEST ==',
      'Schema Version: 2',
      `Media Type: ${MANIFEST_TYPE}`,
      'Artifact Type: application/vnd.example+type',
      'Config:',
      '\tDescriptor:',
      '\t\tMedia Type: application/vnd.oci.empty.v1+json',
      '\t\tArtifact Type: application/vnd.example+type',
      '\t\tDigest: sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      '\t\tSize: 2B',
      'Platform:',
      '\tOS: linux',
      '\tOS Version: 10.0',
      '\tOS Features: a, b',
      '\tArchitecture: arm64 (v8)',
      '\t\tURLs:',
      '\t\t\thttps://example.com/x',
      '\t\tAnnotations:',
      '\t\t\t"key with space": "v v"',
      '\t\t\tplain: ""',
      '\t\tData: (2 bytes)',
      '\t\t\t0000: 7b7d' + ' '.repeat(35) + '  {}',
      'Subject:',
      '\tDescriptor:',
      `\t\tMedia Type: ${MANIFEST_TYPE}`,
      `\t\tDigest: ${H_MANIFEST_DESC.digest}`,
      '\t\tSize: 1.107kB',
    ].join('\n'));
  });

  test('embedded data beyond 256 bytes is cut with a note', () => {
    const layer: Descriptor = { mediaType: LAYER_TYPE, digest: 'sha256:00', size: 300, data: Buffer.alloc(300, 0x41).toString('base64') };
    const text = formatStatText({ ...H, manifest: { ...H.manifest, layers: [layer] } });
    const lines = text.split('\n');
    const at = lines.indexOf('\t\tData: (300 bytes)');
    assert.notEqual(at, -1);
    assert.equal(lines[at + 1], '\t\t\t0000: 4141 4141 4141 4141 4141 4141 4141 4141  AAAAAAAAAAAAAAAA');
    assert.equal(lines[at + 16], '\t\t\t00f0: 4141 4141 4141 4141 4141 4141 4141 4141  AAAAAAAAAAAAAAAA');
    assert.equal(lines[at + 17], '\t\t\t....  (extra 44 bytes omitted)');
  });

  test('history fields with control characters are Go-quoted, so the table stays one row per entry', () => {
    const config: ImageConfig = {
      ...H.config,
      history: [{ created: '2020-01-02T03:04:05.000Z', created_by: 'x\ny', comment: 'a\tb', empty_layer: true }],
    };
    assert.equal(historySection(formatStatText({ ...H, config })), [
      'LAYER  CREATED              CREATED BY SIZE   COMMENT',
      '<none> 2020-01-02T03:04:05Z "x\\ny"     <none> "a\\tb"',
      '',
    ].join('\n'));
  });
});

describe('hexdumpLines (umoci xxd)', () => {
  const cases: Array<[string, Buffer, string[]]> = [
    ['two bytes', Buffer.from('{}'), ['0000: 7b7d' + ' '.repeat(35) + '  {}']],
    ['odd length pads within a pair', Buffer.from('abc'), ['0000: 6162 63' + ' '.repeat(32) + '  abc']],
    [
      'non-graphic bytes become dots; 0xa0-0xff (not 0xad) show as U+FFFD',
      Buffer.from([0x00, 0x09, 0x20, 0x7f, 0x80, 0xa0, 0xad, 0xff, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x0a]),
      ['0000: 0009 207f 80a0 adff 4142 4344 4546 4748  .. ..\uFFFD.\uFFFDABCDEFGH', '0010: 0a' + ' '.repeat(37) + '  .'],
    ],
  ];
  for (const [name, data, want] of cases) {
    test(name, () => assert.deepEqual(hexdumpLines('', data), want));
  }
});
