import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  formatMtreeDifference,
  formatMtreeDifferences,
  goQuoteBytes,
  manifestKeywords,
  mtreeValidationError,
  parseMtreeKeywordArg,
  validateKeywords,
} from '../../src/mtree/report.js';
import { compareTree } from '../../src/mtree/compare.js';
import { walkTree } from '../../src/mtree/walk.js';
import { formatMtree } from '../../src/mtree/format.js';
import { parseMtree } from '../../src/mtree/parse.js';
import { UMOCI_MTREE_KEYWORDS } from '../../src/mtree/spec.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { goMtreeCheck, goMtreeChecker } from '../tools/gomtree/oracle.js';

const HEADER = { user: 'root', machine: 'test', tree: 'rootfs', date: 'Mon Jan 2 15:04:05 2006' };

describe('formatMtreeDifference', () => {
  test('writes go-mtree InodeDelta.String() for each kind', () => {
    assert.equal(formatMtreeDifference({ path: 'etc/passwd', kind: 'extra', keys: [] }), '"etc/passwd": unexpected path');
    assert.equal(formatMtreeDifference({ path: 'bin/rel', kind: 'missing', keys: [] }), '"bin/rel": missing path');
    assert.equal(
      formatMtreeDifference({ path: 'a', kind: 'modified', keys: [{ keyword: 'size', expected: '62', got: '64' }, { keyword: 'mode', expected: '0644', got: '0600' }] }),
      '"a": keyword "size": expected 62; got 64',
    );
  });

  test('leaves a value empty when only one side has the key', () => {
    assert.equal(
      formatMtreeDifference({ path: 'xa', kind: 'modified', keys: [{ keyword: 'xattr.user.foo', expected: 'YmFy' }] }),
      '"xa": keyword "xattr.user.foo": expected YmFy; got ',
    );
    assert.equal(
      formatMtreeDifference({ path: 'f', kind: 'modified', keys: [{ keyword: 'sha1digest', got: 'ab' }] }),
      '"f": keyword "sha1digest": expected ; got ab',
    );
  });

  test('quotes paths like Go %q, bytes that are not UTF-8 as \\x', () => {
    assert.equal(goQuoteBytes(Buffer.from('we ird\tta#b\\bs\n"é\u00a0\x01')), '"we ird\\tta#b\\\\bs\\n\\"é\\u00a0\\x01"');
    assert.equal(goQuoteBytes(Buffer.from([0x61, 0xff, 0xc3, 0x62, 0xed, 0xa0, 0x80])), '"a\\xff\\xc3b\\xed\\xa0\\x80"');
    const d = { path: '\ufffd', pathBytes: Buffer.from([0xfe]), kind: 'missing' as const, keys: [] };
    assert.equal(formatMtreeDifference(d), '"\\xfe": missing path');
  });

  test('ends every line with a newline', () => {
    assert.equal(formatMtreeDifferences([]), '');
    assert.equal(
      formatMtreeDifferences([{ path: 'a', kind: 'extra', keys: [] }, { path: 'b', kind: 'missing', keys: [] }]),
      '"a": unexpected path\n"b": missing path\n',
    );
  });

  test('fails with umoci\'s message', () => {
    const err = mtreeValidationError(3);
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.equal(err.message, 'validation failed: 3 differences found');
  });
});

describe('keyword lists', () => {
  test('split on commas and spaces and map synonyms', () => {
    assert.deepEqual(parseMtreeKeywordArg('size,type sha256,,xattrs  md5'), ['size', 'type', 'sha256digest', 'xattr', 'md5digest']);
    assert.deepEqual(parseMtreeKeywordArg(''), []);
  });

  test('refuse an unknown keyword, naming it', () => {
    assert.throws(() => parseMtreeKeywordArg('size,bogus'), { code: 'USAGE', message: 'keyword "bogus" is not an mtree keyword' });
  });

  test('default to the manifest\'s keywords, -k replaces, -K adds, type comes first', () => {
    const manifest = parseMtree('/set type=file mode=0644\n. type=dir time=1.000000000\n    f size=1 xattr.user.a=eA==\n..\n');
    assert.deepEqual(manifestKeywords(manifest), ['type', 'mode', 'time', 'size', 'xattr']);
    assert.deepEqual(validateKeywords({ manifest }), ['type', 'mode', 'time', 'size', 'xattr']);
    assert.deepEqual(validateKeywords({ manifest, use: 'sha1' }), ['type', 'sha1digest']);
    assert.deepEqual(validateKeywords({ manifest, use: '' }), ['type']);
    assert.deepEqual(validateKeywords({ manifest, add: 'sha256digest,size' }), ['type', 'mode', 'time', 'size', 'xattr', 'sha256digest']);
    assert.deepEqual(validateKeywords({ manifest, umociKeywords: true }), [...UMOCI_MTREE_KEYWORDS]);
    assert.deepEqual(validateKeywords({ manifest, umociKeywords: true, use: 'size' }), ['type', 'size']);
  });
});

describe('raw mtree-validate output', () => {
  test('a keyword the manifest lacks is reported as keyword "sha1digest" on each file', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await writeFile(join(root, 'foobar'), 'foobar\n');
    const kws = ['size', 'type', 'uid', 'gid', 'mode', 'link', 'nlink', 'time', 'sha256digest'];
    const manifest = parseMtree(formatMtree(await walkTree(root, { keywords: kws }), HEADER, { keywords: kws }));
    assert.deepEqual(await compareTree(root, manifest, { keywords: validateKeywords({ manifest, add: 'sha256digest' }) }), []);
    for (const flags of [{ use: 'sha1digest' }, { add: 'sha1digest' }]) {
      const diffs = await compareTree(root, manifest, { keywords: validateKeywords({ manifest, ...flags }) });
      assert.equal(
        formatMtreeDifferences(diffs),
        '"foobar": keyword "sha1digest": expected ; got 988881adc9fc3655077dc2d4d757d480b5ea0e11\n',
      );
    }
  });

  test('prints what go-mtree prints for single-key changes', async (t) => {
    const go = goMtreeChecker();
    if ('skip' in go) return t.skip(go.skip);
    const { path: root } = await makeTmpDir(t);
    for (const n of ['a', 'b', 'c']) await writeFile(join(root, n), n);
    await chmod(join(root, 'a'), 0o644);
    const text = formatMtree(await walkTree(root), HEADER);
    const { atime, mtime } = await stat(root);
    await chmod(join(root, 'a'), 0o600);
    await rm(join(root, 'b'));
    await writeFile(join(root, 'd'), 'd');
    await utimes(root, atime, mtime);
    const ours = formatMtreeDifferences(await compareTree(root, parseMtree(text)));
    assert.equal(ours, '"a": keyword "mode": expected 0644; got 0600\n"b": missing path\n"d": unexpected path\n');
    assert.deepEqual(goMtreeCheck(go.bin, text, root, (await makeTmpDir(t)).path).lines.sort(), ours.trimEnd().split('\n'));
  });
});
