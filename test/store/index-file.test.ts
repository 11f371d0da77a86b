import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor, Index } from '../../src/oci/types.js';
import { checkIndexShape, parseIndexFile, readIndex, updateIndex } from '../../src/store/index-file.js';
import { Layout } from '../../src/store/layout.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';
import { hasCode } from '../helpers/assert.js';

const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';


async function freshLayout(t: AfterHook): Promise<Layout> {
  const { path: dir } = await makeTmpDir(t);
  await Layout.create(join(dir, 'img'));
  const layout = await Layout.open(join(dir, 'img'));
  t.after(() => layout.close());
  return layout;
}

function manifest(n: number, tag?: string): Descriptor {
  const d: Descriptor = { mediaType: MANIFEST_TYPE, digest: `sha256:${n.toString(16).padStart(64, '0')}`, size: 100 + n };
  if (tag !== undefined) d.annotations = { 'org.opencontainers.image.ref.name': tag };
  return d;
}

async function strays(layout: Layout): Promise<string[]> {
  return (await readdir(layout.root)).filter((n) => !['blobs', 'index.json', 'oci-layout'].includes(n));
}

describe('readIndex', () => {
  test('reads the empty index of a new layout', async (t) => {
    const layout = await freshLayout(t);
    assert.deepEqual(await readIndex(layout), { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [] });
  });

  test('reports a missing index.json as LAYOUT_INVALID', async (t) => {
    const layout = await freshLayout(t);
    await rm(layout.indexPath);
    await assert.rejects(readIndex(layout), hasCode('LAYOUT_INVALID', /^read index.json: not found/));
  });

  test('reports index.json that is not JSON as LAYOUT_INVALID', async (t) => {
    const layout = await freshLayout(t);
    await writeFile(layout.indexPath, '{"schemaVersion":2,');
    await assert.rejects(readIndex(layout), hasCode('LAYOUT_INVALID', /^read index.json: invalid JSON/));
  });

  test('reports a malformed index as LAYOUT_INVALID naming the problem', async (t) => {
    const layout = await freshLayout(t);
    await writeFile(layout.indexPath, '{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:../../etc","size":1}]}');
    await assert.rejects(readIndex(layout), hasCode('LAYOUT_INVALID', /manifests\[0\]: .*invalid digest/));
  });
});

describe('checkIndexShape', () => {
  const valid: Array<[string, unknown]> = [
    ['the minimal index', { schemaVersion: 2, manifests: [] }],
    ['an index with mediaType and a tagged manifest', { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [manifest(1, 'latest')] }],
    ['a Docker manifest list', { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [] }],
  ];
  for (const [what, index] of valid) {
    test(`accepts ${what}`, () => {
      checkIndexShape(index);
    });
  }

  const invalid: Array<[string, unknown, RegExp]> = [
    ['null', null, /not a JSON object/],
    ['an array', [], /not a JSON object/],
    ['a string', 'index', /not a JSON object/],
    ['schemaVersion 1', { schemaVersion: 1, manifests: [] }, /unsupported schemaVersion 1/],
    ['schemaVersion "2"', { schemaVersion: '2', manifests: [] }, /unsupported schemaVersion "2"/],
    ['no schemaVersion', { manifests: [] }, /unsupported schemaVersion/],
    ['a manifest media type (CVE-2021-41190)', { schemaVersion: 2, mediaType: MANIFEST_TYPE, manifests: [] }, /not an image index/],
    ['a non-string media type', { schemaVersion: 2, mediaType: 2, manifests: [] }, /not an image index/],
    ['a "config" member (CVE-2021-41190)', { schemaVersion: 2, manifests: [], config: {} }, /must not contain "config" or "layers"/],
    ['a "layers" member (CVE-2021-41190)', { schemaVersion: 2, manifests: [], layers: [] }, /must not contain "config" or "layers"/],
    ['no manifests', { schemaVersion: 2 }, /"manifests" is not an array/],
    ['a descriptor that is not an object', { schemaVersion: 2, manifests: ['sha256:x'] }, /manifests\[0\]: descriptor is not an object/],
    ['a descriptor without mediaType', { schemaVersion: 2, manifests: [{ digest: manifest(1).digest, size: 1 }] }, /manifests\[0\]: descriptor has no mediaType/],
    ['a descriptor with a negative size', { schemaVersion: 2, manifests: [manifest(1), { ...manifest(2), size: -1 }] }, /manifests\[1\]: .*invalid size -1/],
    ['a descriptor with non-string annotations', { schemaVersion: 2, manifests: [{ ...manifest(1), annotations: { a: 1 } }] }, /annotations must map strings to strings/],
  ];
  for (const [what, index, message] of invalid) {
    test(`refuses ${what}`, () => {
      assert.throws(() => checkIndexShape(index), message);
      assert.throws(() => parseIndexFile(Buffer.from(JSON.stringify(index))), hasCode('LAYOUT_INVALID', message));
    });
  }
});

test('parseIndexFile reads "manifests": null (umoci before 0.5.1) as an empty index, which checkIndexShape alone refuses', () => {
  const index = { schemaVersion: 2, manifests: null };
  assert.throws(() => checkIndexShape(index), /"manifests" is not an array/);
  assert.deepEqual(parseIndexFile(Buffer.from(JSON.stringify(index))).manifests, []);
});

describe('updateIndex', () => {
  test('writes the changed index in umoci\'s byte form and returns it', async (t) => {
    const layout = await freshLayout(t);
    const out = await updateIndex(layout, (index) => {
      index.manifests.push(manifest(1, 'v1'));
      return index;
    });
    assert.deepEqual(out.manifests, [manifest(1, 'v1')]);
    assert.equal(
      await readFile(layout.indexPath, 'utf8'),
      `{"schemaVersion":2,"mediaType":"${INDEX_TYPE}","manifests":[{"mediaType":"${MANIFEST_TYPE}","digest":"${manifest(1).digest}","size":101,` +
        '"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}\n',
    );
    assert.deepEqual(await readIndex(layout), out);
    assert.deepEqual(await strays(layout), []);
  });

  test('accepts a new object from an async change', async (t) => {
    const layout = await freshLayout(t);
    await updateIndex(layout, async () => ({ schemaVersion: 2, manifests: [manifest(7)] }));
    assert.deepEqual((await readIndex(layout)).manifests, [manifest(7)]);
  });

  test('leaves index.json untouched when the change returns undefined', async (t) => {
    const layout = await freshLayout(t);
    const before = await stat(layout.indexPath);
    const out = await updateIndex(layout, () => undefined);
    const after = await stat(layout.indexPath);
    assert.deepEqual(out, { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [] });
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
  });

  test('leaves index.json untouched and releases the lock when the change throws', async (t) => {
    const layout = await freshLayout(t);
    const bytes = await readFile(layout.indexPath);
    await assert.rejects(updateIndex(layout, () => {
      throw new Error('change failed');
    }), /change failed/);
    assert.deepEqual(await readFile(layout.indexPath), bytes);
    await updateIndex(layout, (index) => ({ ...index, manifests: [manifest(1)] }));
    assert.equal((await readIndex(layout)).manifests.length, 1);
  });

  test('refuses to write a malformed index and leaves the old one', async (t) => {
    const layout = await freshLayout(t);
    const bytes = await readFile(layout.indexPath);
    await assert.rejects(
      updateIndex(layout, (index) => ({ ...index, manifests: [{ ...manifest(1), digest: 'sha256:../../x' }] })),
      /invalid digest/,
    );
    await assert.rejects(updateIndex(layout, (index) => ({ ...index, layers: [] }) as Index), /must not contain/);
    assert.deepEqual(await readFile(layout.indexPath), bytes);
    assert.deepEqual(await strays(layout), []);
  });

  test('refuses to update an index that does not parse, leaving it as it is', async (t) => {
    const layout = await freshLayout(t);
    await writeFile(layout.indexPath, 'garbage');
    await assert.rejects(updateIndex(layout, (index) => index), hasCode('LAYOUT_INVALID'));
    assert.equal(await readFile(layout.indexPath, 'utf8'), 'garbage');
  });

  test('50 parallel updates in one process all land', async (t) => {
    const layout = await freshLayout(t);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        updateIndex(layout, async (index) => {
          // Yield between read and write, so an unlocked update would lose others.
          await new Promise((resolve) => setImmediate(resolve));
          index.manifests.push(manifest(i, `t${i}`));
          return index;
        }),
      ),
    );
    const tags = (await readIndex(layout)).manifests.map((d) => d.annotations?.['org.opencontainers.image.ref.name']);
    assert.deepEqual(tags.sort(), Array.from({ length: 50 }, (_, i) => `t${i}`).sort());
    assert.deepEqual(await strays(layout), []);
  });

  test('parallel updates through two Layout objects of one path all land', async (t) => {
    const layout = await freshLayout(t);
    const other = await Layout.open(layout.root);
    t.after(() => other.close());
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updateIndex(i % 2 === 0 ? layout : other, async (index) => {
          await new Promise((resolve) => setImmediate(resolve));
          index.manifests.push(manifest(i));
          return index;
        }),
      ),
    );
    assert.equal((await readIndex(layout)).manifests.length, 20);
  });
});
