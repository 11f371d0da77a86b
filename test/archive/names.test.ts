/** Member-name safety (member-name.ts) and Docker names for archives (docker-name.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanMemberName, resolveLinkTarget } from '../../src/archive/member-name.js';
import { defaultArchiveName, dockerRepoName, dockerRepoTag, dockerTag, repoTagTag } from '../../src/archive/docker-name.js';
import { OcikitError } from '../../src/errors.js';

const unsafe = (fn: () => unknown): void => assert.throws(fn, (e: unknown) => e instanceof OcikitError && e.code === 'UNSAFE_ENTRY');

test('member names are cleaned, hostile ones refused', () => {
  assert.equal(cleanMemberName('./a//b/'), 'a/b');
  assert.equal(cleanMemberName('manifest.json'), 'manifest.json');
  assert.equal(cleanMemberName('./'), '');
  for (const bad of ['../x', 'a/../../x', 'a/..', '/etc/passwd', 'a\0b', '']) unsafe(() => cleanMemberName(bad));
});

test('link targets resolve inside the archive only', () => {
  assert.equal(resolveLinkTarget('id/layer.tar', '../abc.tar'), 'abc.tar');
  assert.equal(resolveLinkTarget('a/b/c', './d'), 'a/b/d');
  for (const bad of ['../../etc/passwd', '/etc/passwd', '']) unsafe(() => resolveLinkTarget('id/layer.tar', bad));
});

test('Docker names are made from the layout directory and the tag', () => {
  const cases: Array<[string, string]> = [
    ['images', 'images'],
    ['My Images', 'my-images'],
    ['My_Images', 'my_images'],
    ['a...b', 'a-b'],
    ['--x--', 'x'],
    ['Ünïcode', 'n-code'],
    ['___', 'image'],
  ];
  for (const [input, want] of cases) assert.equal(dockerRepoName(input), want, input);
  assert.equal(dockerTag('1.0+build/x'), '1.0-build-x');
  assert.equal(dockerTag('v1'), 'v1');
  assert.equal(dockerTag('a'.repeat(200)).length, 128);
  assert.equal(dockerRepoTag('/tmp/x/My Images', 'v1'), 'my-images:v1');
  assert.equal(defaultArchiveName('./some/App', 'latest'), 'app-latest.tar');
  assert.equal(repoTagTag('docker.io/foo/bar:v1'), 'v1');
  assert.equal(repoTagTag('localhost:5000/foo'), undefined);
  assert.equal(repoTagTag('foo'), undefined);
});
