import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { putJson, readConfig, readIndexBlob, readManifest } from '../../src/image/json-blob.js';
import { encodeGo } from '../../src/oci/go-json.js';
import { blobBytes, blobFiles, flipByte, makeLayout, MT, putBytes, putImage, putIndex, putJsonBlob, removeBlobFile } from '../helpers/layout-builder.js';
import { hasCode } from '../helpers/assert.js';


describe('readManifest', () => {
  test('reads a manifest and returns its value and exact bytes', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { layers: ['a'] });
    const got = await readManifest(layout, img.manifest);
    assert.deepEqual(got.value, img.manifestValue);
    assert.deepEqual(got.bytes, await blobBytes(layout, img.manifest.digest));
  });

  test('accepts a manifest without an embedded mediaType', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { embeddedMediaType: null });
    assert.equal((await readManifest(layout, img.manifest)).value.mediaType, undefined);
  });

  test('refuses a manifest whose embedded mediaType differs from its descriptor (MEDIA_TYPE_UNSUPPORTED)', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { embeddedMediaType: MT.index });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('MEDIA_TYPE_UNSUPPORTED', /differs from its descriptor/));
  });

  test('refuses a descriptor whose media type is not a manifest, without reading the blob', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    await removeBlobFile(layout, img.manifest.digest);
    for (const mediaType of [MT.index, MT.config, MT.layer, MT.unknown]) {
      await assert.rejects(readManifest(layout, { ...img.manifest, mediaType }), hasCode('MEDIA_TYPE_UNSUPPORTED', /is not an image manifest/));
    }
  });

  test('refuses a manifest that contains "manifests" (CVE-2021-41190)', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { extra: { manifests: [] } });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('SCHEMA_INVALID', /must not contain "manifests"/));
  });

  test('refuses a manifest that contains "manifests" even with schema validation off', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { embeddedMediaType: null, extra: { manifests: [] } });
    await assert.rejects(readManifest(layout, img.manifest, { schema: false }), hasCode('SCHEMA_INVALID'));
  });

  test('refuses an index stored under a manifest descriptor', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const idx = await putIndex(layout, [img.manifest], { embeddedMediaType: null });
    await assert.rejects(readManifest(layout, { ...idx, mediaType: MT.manifest }), hasCode('SCHEMA_INVALID'));
  });

  for (const [name, body, message] of [
    ['JSON that does not parse', '{"schemaVersion":2,', /invalid JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['schemaVersion 1', JSON.stringify({ schemaVersion: 1, config: {}, layers: [] }), /unsupported schemaVersion 1/],
    ['no layers', JSON.stringify({ schemaVersion: 2, config: { mediaType: MT.config, digest: `sha256:${'a'.repeat(64)}`, size: 1 } }), /"layers" is not an array/],
  ] as const) {
    test(`refuses ${name} as SCHEMA_INVALID`, async (t) => {
      const layout = await makeLayout(t);
      const d = await putBytes(layout, body, MT.manifest);
      await assert.rejects(readManifest(layout, d), hasCode('SCHEMA_INVALID', message));
    });
  }

  test('refuses a manifest whose config descriptor has a path-like digest (DESCRIPTOR_INVALID)', async (t) => {
    const layout = await makeLayout(t);
    const d = await putJsonBlob(layout, { schemaVersion: 2, config: { mediaType: MT.config, digest: 'sha256:../../../etc/passwd', size: 1 }, layers: [] }, MT.manifest);
    await assert.rejects(readManifest(layout, d), hasCode('DESCRIPTOR_INVALID'));
  });

  test('refuses a manifest whose layer has a negative size (DESCRIPTOR_INVALID)', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { extraLayers: [{ mediaType: MT.layer, digest: `sha256:${'b'.repeat(64)}`, size: -1 }] });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('DESCRIPTOR_INVALID', /invalid size -1/));
  });

  test('validates against the schema unless told not to', async (t) => {
    const layout = await makeLayout(t);
    // `urls` must be an array of strings; the shape checks do not look at it.
    const img = await putImage(layout, { extraLayers: [{ mediaType: MT.layer, digest: `sha256:${'c'.repeat(64)}`, size: 1, urls: 'http://x' as unknown as string[] }] });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('SCHEMA_INVALID', /urls/));
    assert.ok((await readManifest(layout, img.manifest, { schema: false })).value);
  });

  test('reports a blob with flipped bytes as DIGEST_MISMATCH', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    await flipByte(layout, img.manifest.digest, 5);
    await assert.rejects(readManifest(layout, img.manifest), hasCode('DIGEST_MISMATCH'));
  });

  test('reports a missing blob as BLOB_NOT_FOUND', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    await removeBlobFile(layout, img.manifest.digest);
    await assert.rejects(readManifest(layout, img.manifest), hasCode('BLOB_NOT_FOUND'));
  });

  test('reads a Docker schema 2 manifest as an OCI manifest', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig, layerMediaType: MT.dockerLayer, layers: ['x'] });
    const m = (await readManifest(layout, img.manifest)).value;
    assert.equal(m.mediaType, MT.dockerManifest);
    assert.equal(m.config.mediaType, MT.dockerConfig);
    assert.equal(m.layers[0]?.mediaType, MT.dockerLayer);
  });

  test('refuses a Docker embedded mediaType under an OCI manifest descriptor (the types must match exactly)', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { embeddedMediaType: MT.dockerManifest });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('MEDIA_TYPE_UNSUPPORTED', /differs from its descriptor/));
  });

  test('refuses an OCI embedded mediaType under a Docker manifest descriptor', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, embeddedMediaType: MT.manifest, configMediaType: MT.dockerConfig });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('MEDIA_TYPE_UNSUPPORTED'));
  });

  test('refuses an embedded mediaType that is not a string', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { extra: { mediaType: 7 } });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('MEDIA_TYPE_UNSUPPORTED'));
  });

  test('refuses a Docker manifest list under a Docker manifest descriptor', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, embeddedMediaType: MT.dockerList });
    await assert.rejects(readManifest(layout, img.manifest), hasCode('MEDIA_TYPE_UNSUPPORTED'));
  });
});

describe('readIndexBlob', () => {
  test('reads an index', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const idx = await putIndex(layout, [img.manifest], { annotations: { a: 'b' } });
    const got = (await readIndexBlob(layout, idx)).value;
    assert.deepEqual(got.manifests, [img.manifest]);
    assert.deepEqual(got.annotations, { a: 'b' });
  });

  test('refuses an index whose embedded mediaType is a manifest (MEDIA_TYPE_UNSUPPORTED)', async (t) => {
    const layout = await makeLayout(t);
    const idx = await putIndex(layout, [], { embeddedMediaType: MT.manifest });
    await assert.rejects(readIndexBlob(layout, idx), hasCode('MEDIA_TYPE_UNSUPPORTED', /differs from its descriptor/));
  });

  test('refuses a descriptor whose media type is not an index', async (t) => {
    const layout = await makeLayout(t);
    const idx = await putIndex(layout, []);
    await assert.rejects(readIndexBlob(layout, { ...idx, mediaType: MT.manifest }), hasCode('MEDIA_TYPE_UNSUPPORTED', /is not an image index/));
  });

  for (const field of ['layers', 'config'] as const) {
    test(`refuses an index that contains "${field}" (CVE-2021-41190)`, async (t) => {
      const layout = await makeLayout(t);
      const img = await putImage(layout);
      const value = field === 'layers' ? [] : img.config;
      const idx = await putIndex(layout, [img.manifest], { extra: { [field]: value } });
      await assert.rejects(readIndexBlob(layout, idx), hasCode('SCHEMA_INVALID', /must not contain "config" or "layers"/));
      await assert.rejects(readIndexBlob(layout, idx, { schema: false }), hasCode('SCHEMA_INVALID'));
    });
  }

  test('refuses an index whose child descriptor is malformed, keeping DESCRIPTOR_INVALID', async (t) => {
    const layout = await makeLayout(t);
    const idx = await putIndex(layout, [{ mediaType: MT.manifest, digest: 'md5:abc', size: 3 }]);
    await assert.rejects(readIndexBlob(layout, idx), hasCode('DESCRIPTOR_INVALID', /^index sha256:/));
  });

  test('reads a Docker manifest list as an OCI index', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig });
    const idx = await putIndex(layout, [img.manifest], { mediaType: MT.dockerList });
    const got = (await readIndexBlob(layout, idx)).value;
    assert.equal(got.mediaType, MT.dockerList);
    assert.deepEqual(got.manifests, [img.manifest]);
  });
});

describe('readConfig', () => {
  test('reads a config', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { config: { author: 'me' } });
    assert.equal((await readConfig(layout, img.config)).value.author, 'me');
  });

  test('reads a Docker image config as an OCI config', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { configMediaType: MT.dockerConfig });
    assert.equal((await readConfig(layout, img.config)).value.os, 'linux');
  });

  test('refuses a descriptor that is not a config (MEDIA_TYPE_UNSUPPORTED)', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    await assert.rejects(readConfig(layout, { ...img.config, mediaType: MT.manifest }), hasCode('MEDIA_TYPE_UNSUPPORTED', /is not an image config/));
  });

  test('refuses a config that breaks the schema', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { rawConfig: { architecture: 5, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } });
    await assert.rejects(readConfig(layout, img.config), hasCode('SCHEMA_INVALID'));
  });
});

describe('putJson', () => {
  test('stores the Go encoding of a config, byte for byte', async (t) => {
    const layout = await makeLayout(t);
    const value = {
      os: 'linux',
      architecture: 'amd64',
      rootfs: { diff_ids: [], type: 'layers' },
      author: 'A <a@example.com> & co',
      created: '2020-01-02T03:04:05.500+02:00',
      config: { Labels: { z: '1', a: '2' }, Env: ['A=1'] },
      unknownField: 'dropped',
    };
    const desc = await putJson(layout, 'config', value);
    const want = encodeGo('config', value);
    const bytes = await blobBytes(layout, desc.digest);
    assert.equal(bytes.toString('utf8'), want);
    // The Go rules, spelled out so a regression in encodeGo shows here too.
    assert.equal(
      want,
      '{"created":"2020-01-02T03:04:05.5+02:00","author":"A \\u003ca@example.com\\u003e \\u0026 co","architecture":"amd64","os":"linux",' +
        '"config":{"Env":["A=1"],"Labels":{"a":"2","z":"1"}},"rootfs":{"type":"layers","diff_ids":[]}}\n',
    );
    assert.deepEqual(desc, {
      mediaType: MT.config,
      digest: `sha256:${createHash('sha256').update(want).digest('hex')}`,
      size: Buffer.byteLength(want),
    });
  });

  test('stores manifests and indexes with their OCI media types', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const manifestValue = { schemaVersion: 2, mediaType: MT.manifest, config: img.config, layers: [], annotations: { b: '1', a: '<2>' } };
    const m = await putJson(layout, 'manifest', manifestValue);
    assert.equal(m.mediaType, MT.manifest);
    assert.equal((await blobBytes(layout, m.digest)).toString(), encodeGo('manifest', manifestValue));
    const indexValue = { schemaVersion: 2, mediaType: MT.index, manifests: [m] };
    const i = await putJson(layout, 'index', indexValue);
    assert.equal(i.mediaType, MT.index);
    assert.equal((await blobBytes(layout, i.digest)).toString(), encodeGo('index', indexValue));
  });

  test('refuses a value that breaks the schema and stores nothing', async (t) => {
    const layout = await makeLayout(t);
    const before = await blobFiles(layout);
    const bad = { schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: 'not a media type', digest: `sha256:${'a'.repeat(64)}`, size: 1 }, layers: [] };
    await assert.rejects(putJson(layout, 'manifest', bad), hasCode('SCHEMA_INVALID'));
    assert.deepEqual(await blobFiles(layout), before);
  });
});
