import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMtree } from '../../src/mtree/parse.js';
import type { MtreeEntry } from '../../src/mtree/spec.js';
import { ROOT } from '../helpers/ocikit.js';

const FIXTURE = join(ROOT, 'test/fixtures/mtree/umoci-0.4.7-rootfs.mtree');
const WEIRD = 'we ird\tta#b\\bs\nnl-é-*?[.txt';

function byPath(entries: MtreeEntry[]): Map<string, MtreeEntry> {
  return new Map(entries.map((e) => [e.path, e]));
}

describe('parseMtree on umoci 0.4.7 output', () => {
  const entries = parseMtree(readFileSync(FIXTURE, 'utf8'));
  const m = byPath(entries);

  test('lists every file in manifest order with decoded, root-relative paths', () => {
    assert.deepEqual(
      entries.map((e) => e.path),
      [
        '.', 'g#lob*', WEIRD, 'ünïcödé',
        'dir with space', 'dir with space/sl',
        'etc', 'etc/fifo', 'etc/hard', 'etc/hello.txt', 'etc/link', 'etc/suid', 'etc/xa',
        'etc/sub', 'etc/sub/own', 'etc/sub/deep', 'etc/sub/deep/x',
      ],
    );
    assert.ok(entries.every((e) => e.pathBytes === undefined));
  });

  test('gives types, including defaults from /set', () => {
    const types = Object.fromEntries(entries.map((e) => [e.path, e.type]));
    assert.equal(types['.'], 'dir');
    assert.equal(types['etc/sub/deep'], 'dir');
    assert.equal(types['etc/link'], 'link');
    assert.equal(types['etc/fifo'], 'fifo');
    assert.equal(types['etc/hello.txt'], 'file');
    assert.equal(types[WEIRD], 'file');
  });

  test('applies the current /set: uid/gid switch per directory and back', () => {
    const kw = (p: string): Record<string, string> => Object.fromEntries(m.get(p)!.keywords);
    assert.deepEqual(kw('etc/sub/own'), {
      type: 'file', nlink: '1', mode: '0664', uid: '1000', gid: '1001', size: '1',
      tar_time: '1795454542.000000000',
      sha256digest: '65c74c15a686187bb6bbf9958f494fc6b80068034a659a9ad44991b08c58f2d2',
    });
    assert.equal(kw('etc/sub')['uid'], '1000');
    assert.equal(kw('etc/sub/deep/x')['uid'], '0');
    assert.equal(kw('etc/sub/deep/x')['mode'], '0600');
    assert.equal(kw('etc/suid')['mode'], '04755');
    assert.equal(kw('.')['nlink'], '4');
    assert.equal(kw('etc/hard')['nlink'], '2');
    assert.equal(kw('etc/hello.txt')['tar_time'], '1577934245.000000000');
  });

  test('keeps link targets and xattr names as written (vis-encoded), xattrs in file order', () => {
    assert.equal(m.get('dir with space/sl')!.keywords.get('link'), 'tar\\040get\\040with\\040space');
    assert.equal(m.get('etc/link')!.keywords.get('link'), '../etc/hello.txt');
    const xa = [...m.get('etc/xa')!.keywords].filter(([k]) => k.startsWith('xattr.'));
    assert.deepEqual(xa, [['xattr.user.sp\\040ace', 'djI='], ['xattr.user.foo', 'YmFy']]);
    assert.equal(Buffer.from(xa[1]![1], 'base64').toString(), 'bar');
  });
});

describe('parseMtree on hand-written manifests', () => {
  test('joins continuation lines, handles full paths, /unset, comments and CRLF', () => {
    const text = [
      '#mtree v2.0',
      '/set type=file \\',
      '  uid=5',
      '. type=dir',
      '    a size=1 \\',
      '      mode=0600',
      '  # indented comment',
      'sub type=dir',
      '    b',
      '..',
      'sub/c size=3\r',
      '/unset all',
      'x/y/../z type=link link=t',
      'd/e type=dir',
      'f type=fifo',
      '..',
      '..',
      '',
    ].join('\n');
    const got = parseMtree(text).map((e) => [e.path, e.type, Object.fromEntries(e.keywords)]);
    assert.deepEqual(got, [
      ['.', 'dir', { type: 'dir', uid: '5' }],
      ['a', 'file', { type: 'file', uid: '5', size: '1', mode: '0600' }],
      ['sub', 'dir', { type: 'dir', uid: '5' }],
      ['sub/b', 'file', { type: 'file', uid: '5' }],
      ['sub/c', 'file', { type: 'file', uid: '5', size: '3' }],
      ['x/z', 'link', { type: 'link', link: 't' }],
      ['d/e', 'dir', { type: 'dir' }],
      ['d/e/f', 'fifo', { type: 'fifo' }],
    ]);
  });

  test('does not treat an escaped trailing backslash as a continuation', () => {
    const got = parseMtree('. type=dir\n    f link=a\\\\\n    g\n');
    assert.deepEqual(got.map((e) => e.path), ['.', 'f', 'g']);
    assert.equal(got[1]!.keywords.get('link'), 'a\\\\');
  });

  test('keeps names inside the root and exposes non-UTF-8 bytes', () => {
    const got = parseMtree('. type=dir\n    ..\\057..\\057etc\n    \\377x\n');
    assert.equal(got[1]!.path, 'etc');
    assert.deepEqual(got[2]!.pathBytes, Buffer.from([0xff, 0x78]));
  });

  test('refuses an unknown type', () => {
    assert.throws(() => parseMtree('x type=door\n'), { code: 'VALIDATION_FAILED' });
  });
});

describe('parseMtree on a directory name with a newline (umoci 0.4.7 output)', () => {
  test('skips the stray line go-mtree\'s raw "# path" comment makes', () => {
    const text = readFileSync(join(ROOT, 'test/fixtures/mtree/umoci-0.4.7-newline-dir.mtree'), 'utf8');
    const got = parseMtree(text).map((e) => `${e.path} ${e.type}`);
    assert.deepEqual(got, [
      '. dir', 'a dir', 'a/b file', 'a/null char',
      'nl\ndir dir', 'nl\ndir/f file',
      'é d#ir dir', 'é d#ir/z file', 'é d#ir/empty dir',
    ]);
    const b = parseMtree(text).find((e) => e.path === 'a/b')!;
    assert.equal(b.keywords.get('uid'), '7');
  });
});
