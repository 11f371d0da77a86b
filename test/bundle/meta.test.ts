import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeBundleMeta, readBundleMeta, writeBundleMeta, type BundleMeta } from '../../src/bundle/meta.js';
import type { Descriptor } from '../../src/oci/types.js';
import { mapOptionsFrom } from '../../src/runtime/id-map.js';
import { hasCode } from '../helpers/assert.js';
import { makeTmpDir, type TmpDir } from '../helpers/tmp.js';

const D = (c: string): string => 'sha256:' + c.repeat(64);
const ENTRY: Descriptor = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: D('a'),
  size: 345,
  annotations: { 'org.opencontainers.image.ref.name': 'latest' },
};
const NO_MAP = { uidMappings: [], gidMappings: [], rootless: false };

describe('encodeBundleMeta', () => {
  test('one compact line in umoci key order, nil mapping lists as null', () => {
    assert.equal(
      encodeBundleMeta({ version: '2', from: [ENTRY], mapOptions: NO_MAP }),
      '{"umoci_version":"2","from_descriptor_path":{"descriptor_walk":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        `"digest":"${D('a')}","size":345,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]},` +
        '"map_options":{"uid_mappings":null,"gid_mappings":null,"rootless":false}}\n',
    );
  });
  test('mappings, a nested walk and Go escaping of descriptors', () => {
    const index: Descriptor = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: D('b'), size: 10, annotations: { 'org.opencontainers.image.ref.name': 'a<b>&c' } };
    const manifest: Descriptor = { digest: D('c'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 7, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } };
    const meta: BundleMeta = {
      version: '2',
      from: [index, manifest],
      mapOptions: { uidMappings: [{ containerID: 0, hostID: 1000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 5, size: 1 }, { containerID: 7, hostID: 9, size: 2 }], rootless: true },
    };
    assert.equal(
      encodeBundleMeta(meta),
      '{"umoci_version":"2","from_descriptor_path":{"descriptor_walk":[' +
        `{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"${D('b')}","size":10,"annotations":{"org.opencontainers.image.ref.name":"a\\u003cb\\u003e\\u0026c"}},` +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${D('c')}","size":7,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]},` +
        '"map_options":{"uid_mappings":[{"containerID":0,"hostID":1000,"size":65536}],' +
        '"gid_mappings":[{"containerID":0,"hostID":5,"size":1},{"containerID":7,"hostID":9,"size":2}],"rootless":true}}\n',
    );
  });
});

describe('readBundleMeta / writeBundleMeta', () => {
  test('round-trips what writeBundleMeta wrote, atomically and with mode 0644', async (t) => {
    const { path } = await makeTmpDir(t);
    const meta: BundleMeta = { version: '2', from: [ENTRY], mapOptions: { uidMappings: [{ containerID: 0, hostID: 1, size: 1 }], gidMappings: [], rootless: true } };
    await writeBundleMeta(path, meta);
    assert.equal(await readFile(join(path, 'umoci.json'), 'utf8'), encodeBundleMeta(meta));
    assert.equal((await stat(join(path, 'umoci.json'))).mode & 0o777, 0o644);
    assert.deepEqual(await readdir(path), ['umoci.json']);
    assert.deepEqual(await readBundleMeta(path), meta);
    await writeBundleMeta(path, { ...meta, mapOptions: NO_MAP }); // replaces
    assert.deepEqual((await readBundleMeta(path)).mapOptions, NO_MAP);
  });

  test('a bundle without umoci.json is refused with a clear message', async (t) => {
    const { path } = await makeTmpDir(t);
    await assert.rejects(readBundleMeta(path), hasCode('VALIDATION_FAILED', /^bundle .* has no umoci\.json: not made by unpack$/));
  });

  const line = (rest: string): string =>
    `{"umoci_version":"2","from_descriptor_path":{"descriptor_walk":[{"mediaType":"m","digest":"${D('a')}","size":1}]},"map_options":{"uid_mappings":null,"gid_mappings":null,"rootless":false}${rest}}\n`;
  const refused: [string, string, RegExp][] = [
    ['another umoci_version', line('').replace('"2"', '"3"'), /unsupported umoci\.json version "3"/],
    ['a missing umoci_version', '{}', /unsupported umoci\.json version ""/],
    ['a non-zero whiteout_mode', line(',"whiteout_mode":1'), /deprecated \(broken\) whiteout_mode field set \(1\)/],
    ['bad JSON', '{"umoci_version":', /decode metadata/],
    ['an empty descriptor walk', line('').replace(/\[\{"mediaType.*?\}\]/, '[]'), /descriptor_walk is empty/],
    ['a bad mapping', line('').replace('"uid_mappings":null', '"uid_mappings":[{"containerID":-1}]'), /uid_mappings\[0\]\.containerID/],
    ['a non-boolean rootless', line('').replace('"rootless":false', '"rootless":1'), /rootless/],
  ];
  for (const [name, text, why] of refused) {
    test(`refuses ${name} with a one-line error`, async (t) => {
      const { path } = await makeTmpDir(t);
      await writeFile(join(path, 'umoci.json'), text);
      await assert.rejects(readBundleMeta(path), (err: unknown) => hasCode('VALIDATION_FAILED', why)(err) && !(err as Error).message.includes('\n'));
    });
  }

  test('a bad descriptor is refused', async (t) => {
    const { path } = await makeTmpDir(t);
    await writeFile(join(path, 'umoci.json'), line('').replace(D('a'), 'sha256:zz'));
    await assert.rejects(readBundleMeta(path), hasCode('DESCRIPTOR_INVALID', /descriptor_walk\[0\]/));
  });

  test('accepts whiteout_mode 0 (written by umoci 0.4.7) and keys in another case, as Go does', async (t) => {
    const { path } = await makeTmpDir(t);
    await writeFile(join(path, 'umoci.json'), line(',"whiteout_mode":0').replace('"rootless":false', '"ROOTLESS":true'));
    const meta = await readBundleMeta(path);
    assert.equal(meta.mapOptions.rootless, true);
    assert.equal(meta.from[0]?.digest, D('a'));
  });
});

const HAVE_UMOCI = spawnSync('umoci', ['--version']).status === 0;

/**
 * umoci.json differential against umoci 0.4.7's unpack, byte for byte after
 * one normalisation: 0.4.7 writes `"whiteout_mode":0`, which umoci >= 0.5
 * leaves out (omitempty).
 */
describe('umoci.json against umoci 0.4.7 unpack', { skip: HAVE_UMOCI ? false : 'umoci not installed' }, () => {
  let tmp: TmpDir;
  const umoci = (...args: string[]): string => execFileSync('umoci', args, { cwd: tmp.path, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  before(async () => {
    tmp = await makeTmpDir();
    umoci('init', '--layout', 'L');
    umoci('new', '--image', 'L:t');
    umoci('config', '--image', 'L:t', '--config.label', 'a=<b>');
    await mkdir(join(tmp.path, 'x'));
  });
  after(() => tmp?.cleanup());

  const modes: Record<string, { rootless: boolean; uidMap: string[]; gidMap: string[] }> = {
    plain: { rootless: false, uidMap: [], gidMap: [] },
    rootless: { rootless: true, uidMap: [], gidMap: [] },
    mapped: { rootless: false, uidMap: ['0:1000:65536'], gidMap: ['0:1000:65536', '70000:5:1'] },
  };
  for (const [mode, flags] of Object.entries(modes)) {
    test(mode, async () => {
      const args = [...(flags.rootless ? ['--rootless'] : []), ...flags.uidMap.flatMap((m) => ['--uid-map', m]), ...flags.gidMap.flatMap((m) => ['--gid-map', m])];
      umoci('unpack', '--image', 'L:t', ...args, `B-${mode}`);
      const theirs = await readFile(join(tmp.path, `B-${mode}`, 'umoci.json'), 'utf8');
      const index = JSON.parse(await readFile(join(tmp.path, 'L/index.json'), 'utf8')) as { manifests: Descriptor[] };
      const ours = encodeBundleMeta({ version: '2', from: [index.manifests[0]!], mapOptions: mapOptionsFrom(flags) });
      const normalised = theirs.replace(/,"whiteout_mode":0\}\n$/, '}\n');
      assert.equal(ours, normalised);
      // Reading umoci's file and writing it back gives the same bytes.
      assert.equal(encodeBundleMeta(await readBundleMeta(join(tmp.path, `B-${mode}`))), normalised);
    });
  }
});
