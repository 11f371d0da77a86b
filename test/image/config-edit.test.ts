import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits, checkEdits, CLEAR_KEYS, configImage, parseKV, type ConfigEdits } from '../../src/image/config-edit.js';
import { readConfig, readManifest } from '../../src/image/json-blob.js';
import { resolveTag } from '../../src/image/resolve.js';
import { encodeGo } from '../../src/oci/go-json.js';
import { parseRfc3339 } from '../../src/oci/go-time.js';
import type { Annotations, History, ImageConfig } from '../../src/oci/types.js';
import { readIndex } from '../../src/store/index-file.js';
import type { Layout } from '../../src/store/layout.js';
import {
  addRoots, addTag, blobBytes, blobFiles, indexBytes, makeLayout, MT, onPlatform, putImage, putIndex, tagged, type BuiltImage,
} from '../helpers/layout-builder.js';
import { hasCode } from '../helpers/assert.js';


const HISTORY_0: History = { created: '2019-01-01T00:00:00Z', created_by: 'base', empty_layer: true };

const BASE: ImageConfig = {
  created: '2020-01-02T03:04:05.123456789+02:00',
  author: 'Original Author',
  architecture: 'amd64',
  os: 'linux',
  config: {
    User: 'root',
    ExposedPorts: { '80/tcp': {} },
    Env: ['PATH=/bin', 'A=1', 'AB=2', 'B=2'],
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo hi'],
    Volumes: { '/data': {} },
    WorkingDir: '/srv',
    Labels: { l: '1' },
    StopSignal: 'SIGTERM',
  },
  rootfs: { type: 'layers', diff_ids: [] },
  history: [HISTORY_0],
};
const ANNOTATIONS: Annotations = { 'org.example.a': '1' };

interface Row {
  name: string;
  edits: ConfigEdits;
  /** applies the expected change to copies of BASE's config and ANNOTATIONS */
  want(c: ImageConfig, ann: Annotations | undefined): Annotations | undefined | void;
  /** start from this config instead of BASE */
  from?: ImageConfig;
}

const ROWS: Row[] = [
  { name: 'no edits change nothing', edits: {}, want: () => undefined },
  {
    name: 'a clear runs before the setter of the same key, whatever the flag order',
    edits: { env: ['X=1'], clear: ['config.env'] },
    want: (c) => void (c.config.Env = ['X=1']),
  },
  {
    name: 'clear and add labels, ports and volumes',
    edits: { clear: ['config.labels', 'config.exposedports', 'config.volume'], labels: ['n=v'], exposedPorts: ['443/tcp'], volumes: ['/v'] },
    want: (c) => {
      c.config.Labels = { n: 'v' };
      c.config.ExposedPorts = { '443/tcp': {} };
      c.config.Volumes = { '/v': {} };
    },
  },
  {
    name: 'every clear key empties its part',
    edits: { clear: [...CLEAR_KEYS] },
    want: (c) => {
      for (const k of ['Labels', 'ExposedPorts', 'Env', 'Volumes', 'Cmd', 'Entrypoint'] as const) delete c.config[k];
      return undefined;
    },
  },
  {
    name: 'an env entry of an existing name is replaced in place',
    edits: { env: ['A=new'] },
    want: (c) => void (c.config.Env = ['PATH=/bin', 'A=new', 'AB=2', 'B=2']),
  },
  {
    name: 'an env entry of a new name is appended (a name that is a prefix of another is new)',
    edits: { env: ['C=3', 'P=x'] },
    want: (c) => void c.config.Env!.push('C=3', 'P=x'),
  },
  {
    name: 'env values keep their "=" and an empty value is allowed',
    edits: { env: ['B=x=y', 'E='] },
    want: (c) => void (c.config.Env = ['PATH=/bin', 'A=1', 'AB=2', 'B=x=y', 'E=']),
  },
  {
    name: 'a name given twice ends with the last value, once',
    edits: { env: ['N=1', 'N=2'] },
    want: (c) => void c.config.Env!.push('N=2'),
  },
  {
    name: 'an existing env entry without "=" is not replaced (umoci matches NAME=)',
    from: { ...BASE, config: { Env: ['FOO', 'BAR=1'] } },
    edits: { env: ['FOO=1'] },
    want: (c) => void (c.config.Env = ['FOO', 'BAR=1', 'FOO=1']),
  },
  {
    name: 'env is created when the config has none',
    from: { ...BASE, config: {} },
    edits: { env: ['A=1'] },
    want: (c) => void (c.config = { Env: ['A=1'] }),
  },
  {
    name: 'entrypoint and cmd replace the whole list',
    edits: { entrypoint: ['/entry', '--flag'], cmd: ['-c'] },
    want: (c) => {
      c.config.Entrypoint = ['/entry', '--flag'];
      c.config.Cmd = ['-c'];
    },
  },
  {
    name: 'labels are added and overwrite by name; a value may hold "="',
    edits: { labels: ['l=2', 'm=a=b'] },
    want: (c) => void (c.config.Labels = { l: '2', m: 'a=b' }),
  },
  {
    name: 'volumes and ports are added to the sets',
    edits: { volumes: ['/data', '/new'], exposedPorts: ['80/tcp', '53/udp'] },
    want: (c) => {
      c.config.Volumes = { '/data': {}, '/new': {} };
      c.config.ExposedPorts = { '80/tcp': {}, '53/udp': {} };
    },
  },
  {
    name: 'manifest annotations are added and overwrite by name',
    edits: { manifestAnnotations: ['org.example.a=2', 'b=x=y'] },
    want: () => ({ 'org.example.a': '2', b: 'x=y' }),
  },
  {
    name: '--clear manifest.annotations drops them all',
    edits: { clear: ['manifest.annotations'] },
    want: () => undefined,
  },
  {
    name: '--clear manifest.annotations, then new ones',
    edits: { clear: ['manifest.annotations'], manifestAnnotations: ['n=1'] },
    want: () => ({ n: '1' }),
  },
  {
    name: 'scalar setters',
    edits: { user: '1000:1000', workingDir: '/w', stopSignal: 'SIGKILL', author: 'New <n@example.com>', os: 'freebsd', architecture: 'arm64', variant: 'v8' },
    want: (c) => {
      Object.assign(c.config, { User: '1000:1000', WorkingDir: '/w', StopSignal: 'SIGKILL' });
      Object.assign(c, { author: 'New <n@example.com>', os: 'freebsd', architecture: 'arm64', variant: 'v8' });
    },
  },
  {
    name: 'a setter may set an empty string',
    edits: { user: '', author: '' },
    want: (c) => {
      c.config.User = '';
      c.author = '';
    },
  },
  {
    name: 'a missing created becomes Go\'s zero time, as umoci writes it',
    from: (({ created: _, ...rest }) => rest)(BASE),
    edits: {},
    want: (c) => void (c.created = '0001-01-01T00:00:00Z'),
  },
  {
    name: 'a missing config section becomes {}',
    from: (({ config: _, ...rest }) => rest as ImageConfig)(BASE),
    edits: {},
    want: (c) => void (c.config = {}),
  },
];

/** --created inputs and what Go's time.Format(RFC3339Nano) makes of them. */
const CREATED: Array<[string, string]> = [
  ['2021-06-01T12:00:00Z', '2021-06-01T12:00:00Z'],
  ['2021-06-01T12:00:00.500+02:00', '2021-06-01T12:00:00.5+02:00'],
  ['2021-06-01T12:00:00.000Z', '2021-06-01T12:00:00Z'],
  ['2021-06-01T12:00:00+00:00', '2021-06-01T12:00:00Z'],
  ['2021-06-01T12:00:00-00:00', '2021-06-01T12:00:00Z'],
  ['2021-06-01T12:00:00.1234567891Z', '2021-06-01T12:00:00.123456789Z'],
  ['2021-06-01T1:02:03,25Z', '2021-06-01T01:02:03.25Z'],
  ['2021-06-01T12:00:00-07:30', '2021-06-01T12:00:00-07:30'],
];

describe('applyEdits', () => {
  for (const row of ROWS) {
    test(row.name, () => {
      const from = row.from ?? BASE;
      const frozen = structuredClone(from);
      const frozenAnn = structuredClone(ANNOTATIONS);
      const want = structuredClone(from);
      want.config ??= {};
      want.created ??= '0001-01-01T00:00:00Z';
      const wantAnn = row.want(want, structuredClone(ANNOTATIONS));
      const got = applyEdits(from, ANNOTATIONS, row.edits);
      assert.deepEqual(got.config, want);
      // `want` returning nothing means "annotations unchanged", except for the rows that drop them.
      const dropsAnnotations = row.edits.clear?.includes('manifest.annotations') && row.edits.manifestAnnotations === undefined;
      assert.deepEqual(got.annotations, wantAnn ?? (dropsAnnotations ? undefined : ANNOTATIONS));
      assert.deepEqual(from, frozen, 'the input config was changed');
      assert.deepEqual(ANNOTATIONS, frozenAnn, 'the input annotations were changed');
    });
  }

  for (const [input, output] of CREATED) {
    test(`--created ${input} is stored as Go prints it: ${output}`, () => {
      assert.equal(applyEdits(BASE, undefined, { created: input }).config.created, output);
    });
  }

  test('keeps an existing created string as it is (nanoseconds and offset)', () => {
    assert.equal(applyEdits(BASE, undefined, {}).config.created, BASE.created);
  });

  test('adds manifest annotations when the manifest had none', () => {
    assert.deepEqual(applyEdits(BASE, undefined, { manifestAnnotations: ['a=b'] }).annotations, { a: 'b' });
    assert.equal(applyEdits(BASE, undefined, {}).annotations, undefined);
  });

  test('keeps fields it does not edit (history, rootfs, os.version)', () => {
    const from: ImageConfig = { ...BASE, 'os.version': '10.0', rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`] } };
    const got = applyEdits(from, undefined, { user: 'x' }).config;
    assert.deepEqual(got.history, from.history);
    assert.deepEqual(got.rootfs, from.rootfs);
    assert.equal(got['os.version'], '10.0');
  });
});

describe('checkEdits', () => {
  const BAD: Array<[string, ConfigEdits, RegExp]> = [
    ['--clear rootfs.diffids', { clear: ['rootfs.diffids'] }, /^--clear=rootfs\.diffids is not safe$/],
    ['an unknown --clear key', { clear: ['config.user'] }, /^unknown key to --clear: config\.user$/],
    ['an env entry without "="', { env: ['FOO'] }, /^config\.env: must contain '=': FOO$/],
    ['an env entry with an empty name', { env: ['=x'] }, /^config\.env: must have non-empty name: =x$/],
    ['a label without "="', { labels: ['k'] }, /^config\.label: must contain '='/],
    ['a label with an empty name', { labels: ['=v'] }, /^config\.label: must have non-empty name/],
    ['a manifest annotation without "=" (umoci crashes)', { manifestAnnotations: ['k'] }, /^manifest\.annotation: must contain '='/],
    ['a --created that is not RFC 3339', { created: '2021-06-01 12:00:00' }, /^parse --created: parsing time "2021-06-01 12:00:00"/],
    ['a --created without a zone', { created: '2021-06-01T12:00:00' }, /^parse --created: /],
    ['a --created on a day that does not exist', { created: '2021-02-30T00:00:00Z' }, /day out of range/],
  ];
  for (const [name, edits, message] of BAD) {
    test(`refuses ${name} as USAGE`, () => {
      assert.throws(() => checkEdits(edits), hasCode('USAGE', message));
    });
  }

  test('accepts every clear key and well-formed values', () => {
    assert.doesNotThrow(() =>
      checkEdits({
        clear: [...CLEAR_KEYS],
        env: ['A=', 'B=x=y'],
        labels: ['l=1'],
        manifestAnnotations: ['a=b'],
        created: '2021-06-01T12:00:00.5+02:00',
      }),
    );
  });

  test('parseKV splits at the first "="', () => {
    assert.deepEqual(parseKV('a=b=c', 'x'), ['a', 'b=c']);
    assert.deepEqual(parseKV('a=', 'x'), ['a', '']);
  });
});

/** An image tagged "t" whose config is BASE and whose manifest carries ANNOTATIONS. */
async function baseImage(layout: Layout): Promise<BuiltImage> {
  const img = await putImage(layout, { config: BASE, layers: ['layer'], annotations: ANNOTATIONS });
  await addTag(layout, 't', img.manifest);
  return img;
}

async function configOf(layout: Layout, tag: string): Promise<{ config: ImageConfig; annotations: Annotations | undefined }> {
  const path = await resolveTag(layout, tag);
  const m = (await readManifest(layout, path[path.length - 1]!)).value;
  return { config: (await readConfig(layout, m.config)).value, annotations: m.annotations };
}

describe('configImage', () => {
  test('appends a history entry: created_by "umoci config", the edited author, empty_layer', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    const before = Date.now();
    const result = await configImage(layout, 't', { edits: { author: 'New <n@example.com>' }, env: {} });
    const { config } = await configOf(layout, 't');
    assert.deepEqual(config, result.config);
    assert.equal(config.history?.length, 2);
    assert.deepEqual(config.history?.[0], HISTORY_0);
    const entry = config.history![1]!;
    assert.deepEqual({ ...entry, created: undefined }, { created: undefined, created_by: 'umoci config', author: 'New <n@example.com>', empty_layer: true });
    // created is now, in RFC 3339 (local time, as umoci's time.Now()).
    const seconds = Number(parseRfc3339(entry.created!).seconds);
    assert.ok(seconds >= Math.floor(before / 1000) - 1 && seconds <= Date.now() / 1000 + 1, entry.created);
  });

  test('takes the image\'s unchanged author for the history entry, and leaves out an empty one', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    await configImage(layout, 't', { edits: { user: 'x' }, env: {} });
    assert.equal((await configOf(layout, 't')).config.history?.[1]?.author, 'Original Author');
    await configImage(layout, 't', { edits: { author: '' }, env: {} });
    const entry = (await configOf(layout, 't')).config.history?.[2];
    assert.equal(entry?.author, undefined);
    assert.ok(!('author' in entry!), 'Go omits an empty author');
  });

  test('uses the --history.* values when given', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    await configImage(layout, 't', {
      edits: {},
      history: { author: 'H', comment: 'why', created: '2022-03-04T05:06:07.10-01:00', createdBy: 'by hand' },
      env: { SOURCE_DATE_EPOCH: '1700000000' },
    });
    assert.deepEqual((await configOf(layout, 't')).config.history?.[1], {
      created: '2022-03-04T05:06:07.1-01:00',
      created_by: 'by hand',
      author: 'H',
      comment: 'why',
      empty_layer: true,
    });
  });

  test('dates the history entry from SOURCE_DATE_EPOCH, in UTC, and leaves the image created alone', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    await configImage(layout, 't', { edits: {}, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    const { config } = await configOf(layout, 't');
    assert.equal(config.history?.[1]?.created, '2023-11-14T22:13:20Z');
    assert.equal(config.created, BASE.created);
  });

  test('refuses an invalid SOURCE_DATE_EPOCH before writing anything', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    const index = await indexBytes(layout);
    const blobs = await blobFiles(layout);
    await assert.rejects(configImage(layout, 't', { edits: {}, env: { SOURCE_DATE_EPOCH: 'yesterday' } }), hasCode('USAGE', /SOURCE_DATE_EPOCH/));
    assert.deepEqual(await indexBytes(layout), index);
    assert.deepEqual(await blobFiles(layout), blobs);
  });

  test('with history false (--no-history) adds no entry but still commits the edit', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    await configImage(layout, 't', { edits: { user: 'nobody' }, history: false, env: {} });
    const { config } = await configOf(layout, 't');
    assert.deepEqual(config.history, [HISTORY_0]);
    assert.equal(config.config.User, 'nobody');
  });

  test('applies config and manifest edits and writes them Go-encoded', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    const result = await configImage(layout, 't', {
      edits: { clear: ['config.env'], env: ['Z=1'], manifestAnnotations: ['new=1'], created: '2021-06-01T12:00:00.500+02:00' },
      history: false,
      env: {},
    });
    const { config, annotations } = await configOf(layout, 't');
    assert.deepEqual(config.config.Env, ['Z=1']);
    assert.equal(config.created, '2021-06-01T12:00:00.5+02:00');
    assert.deepEqual(annotations, { ...ANNOTATIONS, new: '1' });
    const m = (await readManifest(layout, result.path[result.path.length - 1]!)).value;
    assert.deepEqual(result.configBytes, await blobBytes(layout, m.config.digest));
    assert.equal(result.configBytes.toString('utf8'), encodeGo('config', JSON.parse(result.configBytes.toString('utf8'))));
  });

  test('keeps the stored created string byte for byte when it is not edited', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    const result = await configImage(layout, 't', { edits: {}, history: false, env: {} });
    assert.match(result.configBytes.toString('utf8'), /^\{"created":"2020-01-02T03:04:05\.123456789\+02:00",/);
  });

  test('writes the zero time for an image without created, as umoci does', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { rawConfig: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } });
    await addTag(layout, 't', img.manifest);
    await configImage(layout, 't', { edits: {}, history: false, env: {} });
    assert.equal((await configOf(layout, 't')).config.created, '0001-01-01T00:00:00Z');
  });

  test('--clear manifest.annotations removes the manifest\'s annotations field', async (t) => {
    const layout = await makeLayout(t);
    await baseImage(layout);
    const result = await configImage(layout, 't', { edits: { clear: ['manifest.annotations'] }, history: false, env: {} });
    const m = (await readManifest(layout, result.path[0]!)).value;
    assert.ok(!('annotations' in m));
  });

  test('with a tag option, writes the new tag and leaves the old one as it was', async (t) => {
    const layout = await makeLayout(t);
    const img = await baseImage(layout);
    const result = await configImage(layout, 't', { edits: { user: 'new' }, tag: 'edited', env: {} });
    // result.path[0] is the new root as the walk saw it (still annotated with
    // the source tag's name); index.json holds it under the new name.
    assert.deepEqual((await readIndex(layout)).manifests, [tagged(img.manifest, 't'), tagged(result.path[0]!, 'edited')]);
    assert.equal((await configOf(layout, 't')).config.config.User, 'root');
    assert.equal((await configOf(layout, 'edited')).config.config.User, 'new');
  });

  test('with a tag option, replaces an existing entry of the new name', async (t) => {
    const layout = await makeLayout(t);
    const img = await baseImage(layout);
    const other = await putImage(layout, { config: { author: 'other' } });
    await addTag(layout, 'edited', other.manifest);
    const result = await configImage(layout, 't', { edits: {}, tag: 'edited', env: {} });
    assert.deepEqual((await readIndex(layout)).manifests, [tagged(img.manifest, 't'), tagged(result.path[0]!, 'edited')]);
  });

  test('edits an image behind a nested index, keeping the index levels', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { config: BASE });
    const m = onPlatform(img.manifest, { os: 'linux', architecture: 'amd64' });
    const inner = await putIndex(layout, [m], { descriptor: { annotations: { inner: 'yes' } } });
    await addTag(layout, 'multi', await putIndex(layout, [inner]));
    const result = await configImage(layout, 'multi', { edits: { user: 'deep' }, env: {} });
    assert.equal(result.path.length, 3);
    assert.deepEqual(result.path[1]?.annotations, { inner: 'yes' });
    assert.deepEqual(result.path[2]?.platform, { os: 'linux', architecture: 'amd64' });
    assert.equal((await configOf(layout, 'multi')).config.config.User, 'deep');
  });

  test('edits a Docker image in place, keeping its Docker media types, and can edit it again', async (t) => {
    const layout = await makeLayout(t);
    const img = await putImage(layout, { mediaType: MT.dockerManifest, configMediaType: MT.dockerConfig, layerMediaType: MT.dockerLayer, layers: ['d'] });
    await addTag(layout, 'docker', img.manifest);
    await configImage(layout, 'docker', { edits: { user: 'first' }, env: {} });
    const result = await configImage(layout, 'docker', { edits: { user: 'second' }, env: {} });
    assert.equal(result.path[0]?.mediaType, MT.dockerManifest);
    const m = (await readManifest(layout, result.path[0]!)).value;
    assert.equal(m.mediaType, MT.dockerManifest);
    assert.equal(m.config.mediaType, MT.dockerConfig);
    assert.equal(result.config.config.User, 'second');
    assert.equal(result.config.history?.length, 2);
  });

  const REFUSED: Array<[string, (layout: Layout) => Promise<unknown>, string]> = [
    ['bad edits', (l) => configImage(l, 't', { edits: { env: ['NOEQUALS'] }, env: {} }), 'USAGE'],
    ['an invalid new tag', (l) => configImage(l, 't', { edits: {}, tag: 'bad tag', env: {} }), 'TAG_INVALID'],
    ['a tag that does not exist', (l) => configImage(l, 'absent', { edits: {}, env: {} }), 'TAG_NOT_FOUND'],
    ['an ambiguous tag', (l) => configImage(l, 'dup', { edits: {}, env: {} }), 'TAG_AMBIGUOUS'],
    ['an invalid --history.created', (l) => configImage(l, 't', { edits: {}, history: { created: 'now' }, env: {} }), 'USAGE'],
  ];
  for (const [name, run, code] of REFUSED) {
    test(`refuses ${name} with ${code}, leaving index.json and blobs as they were`, async (t) => {
      const layout = await makeLayout(t);
      const img = await baseImage(layout);
      const other = await putImage(layout, { config: { author: 'other' } });
      await addRoots(layout, tagged(img.manifest, 'dup'), tagged(other.manifest, 'dup'));
      const index = await indexBytes(layout);
      const blobs = await blobFiles(layout);
      await assert.rejects(run(layout), hasCode(code));
      assert.deepEqual(await indexBytes(layout), index);
      assert.deepEqual(await blobFiles(layout), blobs);
    });
  }
});
