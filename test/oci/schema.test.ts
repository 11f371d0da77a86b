import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OcikitError } from '../../src/errors.js';
import { assertSchema, schemaProblems, type SchemaKind } from '../../src/oci/schema.js';

const DIGEST = 'sha256:' + 'a'.repeat(64);
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
const KINDS: SchemaKind[] = ['manifest', 'index', 'config', 'layout', 'descriptor', 'runtime-config'];

const descriptor = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  mediaType: CONFIG_TYPE,
  digest: DIGEST,
  size: 134,
  ...over,
});

const manifest = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  schemaVersion: 2,
  config: descriptor(),
  layers: [],
  ...over,
});

const imageConfig = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  created: '2024-05-01T10:00:00.123456789Z',
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['A=B'] },
  rootfs: { type: 'layers', diff_ids: [] },
  ...over,
});

/** Every problem line has the documented shape. */
function assertShape(problems: string[]): void {
  for (const p of problems) assert.match(p, /^(\(root\)|(\/[^/]*)+): \S.*$/, p);
}

async function assertValid(kind: SchemaKind, value: unknown): Promise<void> {
  assert.deepEqual(await schemaProblems(kind, value), []);
}

/** Asserts that `value` is invalid and that every `expected` line is among the problems. */
async function assertProblem(kind: SchemaKind, value: unknown, ...expected: string[]): Promise<void> {
  const problems = await schemaProblems(kind, value);
  assertShape(problems);
  for (const e of expected) {
    assert.ok(problems.includes(e), `expected ${JSON.stringify(e)} in ${JSON.stringify(problems)}`);
  }
}

describe('layout (oci-layout)', () => {
  test('accepts version 1.0.0', () => assertValid('layout', { imageLayoutVersion: '1.0.0' }));
  test('refuses another version', () =>
    assertProblem('layout', { imageLayoutVersion: '2.0.0' }, '/imageLayoutVersion: must be equal to one of the allowed values'));
  test('refuses a missing version', () =>
    assertProblem('layout', {}, "(root): must have required property 'imageLayoutVersion'"));
  test('refuses a non-object', () => assertProblem('layout', [], '(root): must be object'));
});

describe('descriptor', () => {
  test('accepts a plain descriptor', () => assertValid('descriptor', descriptor()));
  test('accepts urls, data, annotations and artifactType', () =>
    assertValid(
      'descriptor',
      descriptor({
        urls: ['https://example.com/blob'],
        data: 'e30=',
        annotations: { 'org.opencontainers.image.ref.name': 'x' },
        artifactType: 'application/vnd.example+json',
      }),
    ));
  test('refuses a digest without an algorithm', () =>
    assertProblem(
      'descriptor',
      descriptor({ digest: 'a'.repeat(64) }),
      '/digest: must match pattern "^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"',
    ));
  test('refuses an upper-case algorithm', async () => {
    const problems = await schemaProblems('descriptor', descriptor({ digest: 'SHA256:abc' }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^\/digest: must match pattern/);
  });
  // The schema only says int64 (defs.json); a negative size is refused by the
  // verified reader (src/oci/digest.ts checkSize), not here.
  test('accepts a negative size, as the schema does', () => assertValid('descriptor', descriptor({ size: -1 })));
  test('refuses a fractional size', () => assertProblem('descriptor', descriptor({ size: 1.5 }), '/size: must be integer'));
  test('refuses a size that is a string', () =>
    assertProblem('descriptor', descriptor({ size: '134' }), '/size: must be integer'));
  test('refuses a media type without a slash', () =>
    assertProblem('descriptor', descriptor({ mediaType: 'json' }), '/mediaType: must match pattern "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"'));
  test('refuses a url that is not a uri', () =>
    assertProblem('descriptor', descriptor({ urls: ['not a uri'] }), '/urls/0: must match format "uri"'));
  test('refuses a non-string annotation and escapes the pointer', () =>
    assertProblem('descriptor', descriptor({ annotations: { 'a/b~c': 1 } }), '/annotations/a~1b~0c: must be string'));
  test('reports every missing field (allErrors)', async () => {
    const problems = await schemaProblems('descriptor', {});
    assert.deepEqual(problems, [
      "(root): must have required property 'mediaType'",
      "(root): must have required property 'size'",
      "(root): must have required property 'digest'",
    ]);
  });
});

describe('manifest', () => {
  test('accepts an empty layers array (umoci new writes one)', () => assertValid('manifest', manifest()));
  test('accepts layers', () =>
    assertValid('manifest', manifest({ layers: [descriptor({ mediaType: LAYER_TYPE, size: 32 })] })));
  test('refuses a missing config', () => {
    const m = manifest();
    delete m['config'];
    return assertProblem('manifest', m, "(root): must have required property 'config'");
  });
  test('refuses missing layers', () => {
    const m = manifest();
    delete m['layers'];
    return assertProblem('manifest', m, "(root): must have required property 'layers'");
  });
  test('refuses schemaVersion 1', () => assertProblem('manifest', manifest({ schemaVersion: 1 }), '/schemaVersion: must be >= 2'));
  test('refuses a bad layer digest, naming the layer', () =>
    assertProblem(
      'manifest',
      manifest({ layers: [descriptor(), descriptor({ digest: 'sha256' })] }),
      '/layers/1/digest: must match pattern "^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"',
    ));
  test('resolves refs inside a nested descriptor (subject)', () =>
    assertProblem('manifest', manifest({ subject: descriptor({ size: 'big' }) }), '/subject/size: must be integer'));
  test('validates annotations through the nested-id ref', () =>
    assertProblem('manifest', manifest({ annotations: { k: false } }), '/annotations/k: must be string'));
});

describe('index', () => {
  const index = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: MANIFEST_TYPE,
        digest: DIGEST,
        size: 192,
        annotations: { 'org.opencontainers.image.ref.name': 't' },
        platform: { architecture: 'amd64', os: 'linux' },
      },
    ],
    ...over,
  });
  test('accepts an index', () => assertValid('index', index()));
  test('accepts an empty index', () => assertValid('index', { schemaVersion: 2, manifests: [] }));
  test('refuses a missing manifests list', () =>
    assertProblem('index', { schemaVersion: 2 }, "(root): must have required property 'manifests'"));
  test('refuses a platform without os', () =>
    assertProblem(
      'index',
      index({ manifests: [{ mediaType: MANIFEST_TYPE, digest: DIGEST, size: 1, platform: { architecture: 'amd64' } }] }),
      "/manifests/0/platform: must have required property 'os'",
    ));
  test('refuses a tag annotation that is not a string', () =>
    assertProblem(
      'index',
      index({ manifests: [{ mediaType: MANIFEST_TYPE, digest: DIGEST, size: 1, annotations: { t: 1 } }] }),
      '/manifests/0/annotations/t: must be string',
    ));
});

describe('config', () => {
  test('accepts an image config', () => assertValid('config', imageConfig()));
  test('refuses a missing rootfs', () => {
    const c = imageConfig();
    delete c['rootfs'];
    return assertProblem('config', c, "(root): must have required property 'rootfs'");
  });
  test('refuses a created time that is not RFC 3339', () =>
    assertProblem('config', imageConfig({ created: 'yesterday' }), '/created: must match format "date-time"'));
  test('refuses a string Entrypoint with every reason', () =>
    assertProblem(
      'config',
      imageConfig({ config: { Entrypoint: 'sh' } }),
      '/config/Entrypoint: must be array',
      '/config/Entrypoint: must be null',
      '/config/Entrypoint: must match exactly one schema in oneOf',
    ));
  test('accepts null Cmd and Entrypoint', () =>
    assertValid('config', imageConfig({ config: { Cmd: null, Entrypoint: null } })));
  test('refuses rootfs type other than layers', () =>
    assertProblem('config', imageConfig({ rootfs: { type: 'x', diff_ids: [] } }), '/rootfs/type: must be equal to one of the allowed values'));
});

describe('runtime-config', () => {
  const minimal = { ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'] } };
  test('accepts a minimal config.json', () => assertValid('runtime-config', minimal));
  test('refuses a missing ociVersion', () =>
    assertProblem('runtime-config', { root: { path: 'rootfs' } }, "(root): must have required property 'ociVersion'"));
  test('refuses a process without cwd', () =>
    assertProblem('runtime-config', { ...minimal, process: { args: ['sh'] } }, "/process: must have required property 'cwd'"));
  test('resolves config-linux.json#/linux and its defs', () =>
    assertProblem(
      'runtime-config',
      { ...minimal, linux: { namespaces: [{ type: 'bogus' }] } },
      '/linux/namespaces/0/type: must be equal to one of the allowed values',
    ));
  // defs-windows.json has a property named `id`: stripping `id` keywords must keep it.
  test('keeps a property named id (windows devices)', () =>
    assertProblem(
      'runtime-config',
      { ...minimal, windows: { layerFolders: ['C:\\l'], devices: [{ id: 5, idType: 'class' }] } },
      '/windows/devices/0/id: must be string',
    ));
  test('refuses a bad rlimit name', () =>
    assertProblem(
      'runtime-config',
      { ...minimal, process: { cwd: '/', rlimits: [{ type: 'NOFILE', soft: 1, hard: 1 }] } },
      '/process/rlimits/0/type: must match pattern "^RLIMIT_[A-Z]+$"',
    ));
});

describe('assertSchema', () => {
  test('resolves for a valid document', () => assertSchema('manifest', manifest(), 'manifest sha256:x'));
  test('throws SCHEMA_INVALID with the first problem and a count', async () => {
    await assert.rejects(assertSchema('descriptor', {}, 'config descriptor'), (err: unknown) => {
      assert.ok(err instanceof OcikitError);
      assert.equal(err.code, 'SCHEMA_INVALID');
      assert.equal(err.message, "config descriptor: (root): must have required property 'mediaType' (and 2 more)");
      return true;
    });
  });
  test('says nothing about more when there is one problem', async () => {
    await assert.rejects(assertSchema('layout', { imageLayoutVersion: '1.1.0' }, 'oci-layout'), {
      code: 'SCHEMA_INVALID',
      message: 'oci-layout: /imageLayoutVersion: must be equal to one of the allowed values',
    });
  });
});

describe('loading', () => {
  test('a second call gives the same answer from the compiled schema', async () => {
    const bad = manifest({ schemaVersion: 3, layers: [descriptor({ digest: 'x' })] });
    const first = await schemaProblems('manifest', bad);
    const second = await schemaProblems('manifest', bad);
    assert.deepEqual(second, first);
    assert.equal(first.length, 2);
  });
  test('concurrent first calls of every kind share one load', async () => {
    const kinds: SchemaKind[] = ['manifest', 'index', 'config', 'layout', 'descriptor', 'runtime-config'];
    const results = await Promise.all(kinds.map((k) => schemaProblems(k, null)));
    for (const r of results) assert.deepEqual(r, ['(root): must be object']);
  });
  test('does not modify the value it validates', async () => {
    const value = manifest({ extra: { nested: [1, 2] } });
    const copy = structuredClone(value);
    await schemaProblems('manifest', value);
    assert.deepEqual(value, copy);
  });
  // The validators are generated at build time (scripts/build-schemas.mjs), so
  // a CLI run that validates loads neither ajv's compiler nor the schema files:
  // only the generated module of each kind it uses, and the small runtime
  // helpers that one needs (ajv-formats' format table for manifests).
  test('importing the module loads nothing; the first validation loads the generated validator, not ajv', () => {
    const moduleUrl = new URL('../../src/oci/schema.js', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const cache = () => Object.keys(createRequire(import.meta.url).cache);
      const loaded = (re) => cache().some((k) => re.test(k.replace(/\\\\/g, '/')));
      const ajvAny = /\\/node_modules\\/ajv/;
      const compiler = /\\/node_modules\\/(ajv-draft-04\\/|ajv\\/dist\\/(core|compile)\\b)/;
      const m = await import(${JSON.stringify(moduleUrl)});
      const before = loaded(ajvAny);
      const problems = await m.schemaProblems('manifest', { schemaVersion: 2, layers: [], config: 1 });
      console.log(JSON.stringify([before, loaded(/\\/node_modules\\/ajv-formats\\/dist\\/formats\\.js$/), loaded(compiler), problems]));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), [false, true, false, ['/config: must be object']]);
  });
  test('the build generated a validator module for every kind', async () => {
    const dir = fileURLToPath(new URL('../../src/oci/schema-validators/', import.meta.url));
    assert.deepEqual((await readdir(dir)).sort(), KINDS.map((k) => `${k}.js`).sort());
  });
  test('without the generated validators, compiles the schemas at run time, with the same answers', async (t) => {
    // A copy of the built module in a package of its own that has no
    // schema-validators/ (as when run from an unbuilt checkout): schema.js
    // finds the package root by its package.json, then the schemas under it.
    const root = await mkdtemp(join(tmpdir(), 'ocikit-schema-fallback-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    await mkdir(join(root, 'dist', 'src', 'oci'), { recursive: true });
    await mkdir(join(root, 'dist', 'src', 'util'), { recursive: true });
    await copyFile(join(repo, 'dist', 'src', 'util', 'package-root.js'), join(root, 'dist', 'src', 'util', 'package-root.js'));
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'ocikit', type: 'module' }));
    await symlink(join(repo, 'schemas'), join(root, 'schemas'));
    await symlink(join(repo, 'node_modules'), join(root, 'node_modules'));
    await copyFile(join(repo, 'dist', 'src', 'errors.js'), join(root, 'dist', 'src', 'errors.js'));
    const copy = join(root, 'dist', 'src', 'oci', 'schema.js');
    await copyFile(join(repo, 'dist', 'src', 'oci', 'schema.js'), copy);
    const fallback = (await import(pathToFileURL(copy).href)) as { schemaProblems: typeof schemaProblems };

    const minimalRuntime = { ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'] } };
    const documents: [SchemaKind, unknown][] = [
      ['layout', { imageLayoutVersion: '1.0.0' }],
      ['layout', { imageLayoutVersion: 2 }],
      ['descriptor', descriptor({ urls: ['not a uri', 'https://x.example/'], size: 'x', annotations: { a: 1 } })],
      ['manifest', manifest()],
      ['manifest', manifest({ schemaVersion: 1, layers: [descriptor({ digest: 'x' })], subject: {} })],
      ['index', { schemaVersion: 2, manifests: [descriptor({ platform: { architecture: 'amd64' } })] }],
      ['config', imageConfig()],
      ['config', imageConfig({ created: 'yesterday', config: { Entrypoint: 'sh' }, rootfs: { type: 'x' } })],
      ['runtime-config', minimalRuntime],
      ['runtime-config', { ...minimalRuntime, linux: { namespaces: [{ type: 'bogus' }] }, windows: { devices: [{ id: 5 }] } }],
    ];
    for (const kind of KINDS) documents.push([kind, null]);
    for (const [kind, value] of documents) {
      const expected = await schemaProblems(kind, value);
      assert.deepEqual(await fallback.schemaProblems(kind, value), expected, `${kind} ${JSON.stringify(value)}`);
    }
  });
  // schema.ts skips ajv's meta-schema check at run time, relying on this test.
  test('every vendored schema file is valid draft-04', async () => {
    const { default: draft04 } = await import('ajv-draft-04');
    const ajv = new draft04.default({ strictSchema: false, logger: false });
    const schemas = fileURLToPath(new URL('../../../schemas/', import.meta.url));
    let count = 0;
    for (const dir of ['image-spec', 'runtime-spec']) {
      for (const name of (await readdir(join(schemas, dir))).filter((n) => n.endsWith('.json'))) {
        const schema: unknown = JSON.parse(await readFile(join(schemas, dir, name), 'utf8'));
        assert.equal(ajv.validateSchema(schema as object), true, `${dir}/${name}: ${ajv.errorsText()}`);
        count++;
      }
    }
    assert.equal(count, 21);
  });
  test('the vendored files are unchanged: the adjustments are made in memory', async () => {
    const schemas = fileURLToPath(new URL('../../../schemas/', import.meta.url));
    const m = JSON.parse(await readFile(join(schemas, 'image-spec', 'image-manifest-schema.json'), 'utf8'));
    assert.equal(m.properties.layers.minItems, 1);
    assert.equal(m.properties.annotations.id, 'https://opencontainers.org/schema/image/manifest/annotations');
    for (const dir of ['image-spec', 'runtime-spec']) {
      assert.ok((await readdir(join(schemas, dir))).includes('LICENSE'), `${dir}/LICENSE`);
    }
  });
});

const umoci = spawnSync('umoci', ['--version'], { encoding: 'utf8' });
const noUmoci = umoci.status === 0 ? false : 'umoci is not installed';

describe('documents written by umoci', { skip: noUmoci }, () => {
  let dir = '';
  const blobs = new Map<string, unknown>();
  let runtimeConfig: unknown;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocikit-schema-'));
    const layout = join(dir, 'L');
    const run = (...args: string[]): void => {
      execFileSync('umoci', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    };
    run('init', '--layout', layout);
    run('new', '--image', `${layout}:t`);
    run('config', '--image', `${layout}:t`, '--config.env', 'A=B');
    const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
    run('unpack', ...rootless, '--image', `${layout}:t`, join(dir, 'bundle'));
    const blobDir = join(layout, 'blobs', 'sha256');
    for (const name of await readdir(blobDir)) {
      blobs.set(name, JSON.parse(await readFile(join(blobDir, name), 'utf8')));
    }
    blobs.set('index.json', JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')));
    blobs.set('oci-layout', JSON.parse(await readFile(join(layout, 'oci-layout'), 'utf8')));
    runtimeConfig = JSON.parse(await readFile(join(dir, 'bundle', 'config.json'), 'utf8'));
  });
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** umoci's blobs, sorted by what they are (a manifest has schemaVersion, a config has rootfs). */
  const byKind = (kind: 'manifest' | 'config'): unknown[] =>
    [...blobs.entries()]
      .filter(([name]) => /^[a-f0-9]{64}$/.test(name))
      .map(([, v]) => v as Record<string, unknown>)
      .filter((v) => (kind === 'manifest' ? 'schemaVersion' in v : 'rootfs' in v));

  test('oci-layout and index.json', async () => {
    await assertValid('layout', blobs.get('oci-layout'));
    await assertValid('index', blobs.get('index.json'));
  });
  test('manifests (with "layers": [])', async () => {
    const manifests = byKind('manifest');
    assert.equal(manifests.length, 2);
    for (const m of manifests) {
      assert.deepEqual((m as { layers: unknown }).layers, []);
      await assertValid('manifest', m);
      await assertValid('descriptor', (m as { config: unknown }).config);
    }
  });
  test('image configs (new, then config --config.env)', async () => {
    const configs = byKind('config');
    assert.equal(configs.length, 2);
    for (const c of configs) await assertValid('config', c);
    assert.ok(configs.some((c) => JSON.stringify(c).includes('"Env":["A=B"]')));
  });
  test('the config.json that unpack writes', () => assertValid('runtime-config', runtimeConfig));
});
