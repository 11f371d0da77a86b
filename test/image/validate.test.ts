import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { OcikitError } from '../../src/errors.js';
import { assertValid, validateLayout, type ValidateResult } from '../../src/image/validate.js';
import type { Descriptor } from '../../src/oci/types.js';
import type { Layout } from '../../src/store/layout.js';
import {
  addRoots, addTag, fakeDigest, flipByte, makeLayout, MT, putBytes, putImage, putIndex, putMisnamed, removeBlobFile, tagged,
} from '../helpers/layout-builder.js';

/** The problems one kind of damage causes, each as a builder and the message it must produce. */
interface Damage {
  name: string;
  build(layout: Layout): Promise<Descriptor | undefined>;
  message: RegExp;
}

const DAMAGES: Damage[] = [
  {
    name: 'a manifest that breaks the schema',
    async build(layout) {
      // `urls` must be an array; the structural checks do not look at it.
      const layer = await putBytes(layout, 'layer with bad urls', MT.layer);
      const img = await putImage(layout, { extraLayers: [{ ...layer, urls: 'x' as unknown as string[] }] });
      return img.manifest;
    },
    message: /^manifest sha256:[0-9a-f]{64}: \/layers\/0\/urls: /,
  },
  {
    name: 'a config that breaks the schema',
    async build(layout) {
      return (await putImage(layout, { rawConfig: { architecture: 1, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } })).manifest;
    },
    message: /^config sha256:[0-9a-f]{64}: .*architecture/,
  },
  {
    name: 'a manifest whose embedded media type is an index',
    async build(layout) {
      return (await putImage(layout, { embeddedMediaType: MT.index })).manifest;
    },
    message: /media type .* differs from its descriptor/,
  },
  {
    name: 'a missing layer blob',
    async build(layout) {
      const img = await putImage(layout, { layers: ['missing'] });
      await removeBlobFile(layout, img.layers[0]!.digest);
      return img.manifest;
    },
    message: /^manifest sha256:[0-9a-f]{64} child 1: blob not found: sha256:/,
  },
  {
    name: 'a missing manifest blob',
    async build(layout) {
      const img = await putImage(layout);
      await removeBlobFile(layout, img.manifest.digest);
      return img.manifest;
    },
    message: /^index\.json manifests\[\d+\]: blob not found: sha256:/,
  },
  {
    name: 'a layer whose descriptor gives the wrong size',
    async build(layout) {
      const layer = await putBytes(layout, 'twelve bytes', MT.layer);
      return (await putImage(layout, { extraLayers: [{ ...layer, size: 13 }] })).manifest;
    },
    message: /: blob sha256:[0-9a-f]{64} is 12 bytes, descriptor says 13$/,
  },
  {
    name: 'a layer blob with flipped bytes',
    async build(layout) {
      const img = await putImage(layout, { layers: ['a layer that will be damaged'] });
      await flipByte(layout, img.layers[0]!.digest, 4);
      return img.manifest;
    },
    message: /digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:/,
  },
  {
    name: 'an unreferenced blob whose content does not match its name',
    async build(layout) {
      await putMisnamed(layout, fakeDigest('liar'), 'not the bytes of that name', MT.layer);
      return undefined;
    },
    message: /^blob sha256:[0-9a-f]{64}: content does not match its name$/,
  },
  {
    name: 'an invalid tag name in index.json',
    async build(layout) {
      const img = await putImage(layout, { config: { author: 'badly tagged' } });
      return tagged(img.manifest, 'not a valid tag!');
    },
    message: /^index\.json: invalid tag name "not a valid tag!"$/,
  },
];

async function cleanLayout(layout: Layout): Promise<void> {
  // A little of everything valid: nested and Docker indexes, a subject, an
  // unknown-type layer, an untagged entry and an unreferenced (but honest) blob.
  const a = await putImage(layout, { layers: ['a1', 'a2'], annotations: { k: 'v' } });
  const b = await putImage(layout, { layers: ['b'], config: { architecture: 'arm64' } });
  const odd = await putBytes(layout, '\x00binary', MT.unknown);
  const sig = await putImage(layout, { subject: a.manifest, extraLayers: [odd] });
  const inner = await putIndex(layout, [a.manifest, b.manifest]);
  const outer = await putIndex(layout, [inner]);
  const docker = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig, layerMediaType: MT.dockerLayer, layers: ['d'] });
  const list = await putIndex(layout, [docker.manifest], { mediaType: MT.dockerList });
  await addRoots(layout, tagged(outer, 'nested'), tagged(list, 'docker'), sig.manifest, tagged(a.manifest, 'a/b:c'));
  await putBytes(layout, 'unreferenced but honest', MT.layer);
}

function matching(result: ValidateResult, message: RegExp): string[] {
  return result.problems.filter((p) => message.test(p));
}

describe('validateLayout', () => {
  test('reports no problems for a clean layout', async (t) => {
    const layout = await makeLayout(t);
    await cleanLayout(layout);
    const result = await validateLayout(layout);
    assert.deepEqual(result.problems, []);
    assert.ok(result.blobsChecked > 10);
    assert.ok(result.descriptorsChecked > 10);
  });

  test('reports no problems for an empty layout', async (t) => {
    const layout = await makeLayout(t);
    assert.deepEqual((await validateLayout(layout)).problems, []);
  });

  for (const damage of DAMAGES) {
    test(`reports ${damage.name}`, async (t) => {
      const layout = await makeLayout(t);
      await cleanLayout(layout);
      const root = await damage.build(layout);
      if (root !== undefined) await addRoots(layout, root);
      const result = await validateLayout(layout);
      assert.equal(matching(result, damage.message).length, 1, `problems: ${JSON.stringify(result.problems, null, 2)}`);
      assert.equal(result.problems.length, 1, `problems: ${JSON.stringify(result.problems, null, 2)}`);
    });
  }

  test('reports every kind of problem at once', async (t) => {
    const layout = await makeLayout(t);
    await cleanLayout(layout);
    for (const damage of DAMAGES) {
      const root = await damage.build(layout);
      if (root !== undefined) await addRoots(layout, root);
    }
    const result = await validateLayout(layout);
    for (const damage of DAMAGES) {
      assert.equal(matching(result, damage.message).length, 1, `${damage.name}: ${JSON.stringify(result.problems, null, 2)}`);
    }
    assert.equal(result.problems.length, DAMAGES.length, JSON.stringify(result.problems, null, 2));
  });

  test('walks on below a manifest that breaks the schema, so a missing layer there is reported too', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { layers: ['will go'], extraLayers: [{ mediaType: MT.layer, digest: fakeDigest('u'), size: 1, urls: 'x' as unknown as string[] }] });
    await removeBlobFile(layout, img.layers[0]!.digest);
    await addRoots(layout, img.manifest);
    const result = await validateLayout(layout);
    assert.equal(result.problems.length, 3, JSON.stringify(result.problems, null, 2));
    assert.equal(result.problems.filter((p) => /urls/.test(p)).length, 1);
    assert.equal(result.problems.filter((p) => /blob not found/.test(p)).length, 2);
  });

  test('reports a tag with flipped bytes in a nested index', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout);
    const inner = await putIndex(layout, [img.manifest]);
    await addTag(layout, 't', await putIndex(layout, [inner]));
    await flipByte(layout, inner.digest, -3);
    const result = await validateLayout(layout);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0]!, /digest mismatch/);
  });

  test('reports index.json that is not JSON, without throwing', async (t) => {
    const layout = await makeLayout(t);
    await writeFile(layout.indexPath, '{"schemaVersion":');
    const result = await validateLayout(layout);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0]!, /JSON/);
  });

  test('reports index.json that breaks the index schema', async (t) => {
    const layout = await makeLayout(t);
    await writeFile(layout.indexPath, JSON.stringify({ schemaVersion: 2, manifests: [], annotations: { a: 1 } }));
    const result = await validateLayout(layout);
    assert.deepEqual(result.problems.filter((p) => p.startsWith('index.json: ')).length, 1, JSON.stringify(result.problems));
    assert.match(result.problems[0]!, /^index\.json: \/annotations\/a: /);
  });

  test('reports an index.json entry with a malformed descriptor, without throwing', async (t) => {
    const layout = await makeLayout(t);
    await writeFile(layout.indexPath, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MT.manifest, digest: fakeDigest('x'), size: 'big' }] }));
    const result = await validateLayout(layout);
    assert.ok(result.problems.some((p) => /index\.json.*invalid size "big"/.test(p)), JSON.stringify(result.problems));
  });
});

describe('assertValid', () => {
  test('passes a result without problems', () => {
    assert.doesNotThrow(() => assertValid({ problems: [], blobsChecked: 0, descriptorsChecked: 0 }));
  });

  test('throws VALIDATION_FAILED with the number of problems', () => {
    for (const [n, text] of [[1, 'validation failed: 1 problem found'], [3, 'validation failed: 3 problems found']] as const) {
      assert.throws(
        () => assertValid({ problems: Array.from({ length: n }, (_, i) => `p${i}`), blobsChecked: 0, descriptorsChecked: 0 }),
        (err: unknown) => err instanceof OcikitError && err.code === 'VALIDATION_FAILED' && err.message === text,
      );
    }
  });
});
