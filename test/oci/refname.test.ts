import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TAG, isValidRefName, parseImageName, parseLayoutPath } from '../../src/oci/refname.js';
import { hasCode } from '../helpers/assert.js';


// The image-layout grammar, as umoci's casext.IsValidReferenceName checks it:
//   refname ::= component ("/" component)*; component ::= alphanum (separator alphanum)*
//   alphanum ::= [A-Za-z0-9]+; separator ::= [-._:@+] | "--"
describe('isValidRefName', () => {
  const valid = [
    'latest', 'v1.0.0', 'A', '0', '1.2-rc_3', 'a:b', 'a@b', 'a+b', 'a--b', 'x/y', 'a/b/c',
    'registry.example.com:5000/ns/img:tag', 'sha256:abcdef', 'UPPER-lower.09',
  ];
  for (const name of valid) test(`accepts ${JSON.stringify(name)}`, () => assert.equal(isValidRefName(name), true));

  const invalid = [
    '', '-a', 'a-', '.a', 'a.', 'a..b', 'a---b', 'a-.b', '/a', 'a/', 'a//b', 'a b', 'a\tb', 'a\nb', 'latest\n',
    'é', 'a/é', 'a_', '_a', 'a/../b', '..', 'a%b', 'a#b', 'a$', '\u0000',
  ];
  for (const name of invalid) test(`refuses ${JSON.stringify(name)}`, () => assert.equal(isValidRefName(name), false));
});

describe('parseImageName', () => {
  test('defaults the tag to latest', () => {
    assert.equal(DEFAULT_TAG, 'latest');
    assert.deepEqual(parseImageName('dir'), { layout: 'dir', tag: 'latest' });
  });

  test('splits at the first colon, as umoci does', () => {
    assert.deepEqual(parseImageName('dir:v1'), { layout: 'dir', tag: 'v1' });
    assert.deepEqual(parseImageName('some/path:v1.2'), { layout: 'some/path', tag: 'v1.2' });
    // The rest, colons included, is the tag; ':' is a valid separator in it.
    assert.deepEqual(parseImageName('dir:a:b'), { layout: 'dir', tag: 'a:b' });
  });

  test('refuses an empty path with USAGE', () => {
    assert.throws(() => parseImageName(''), hasCode('USAGE', /empty path/));
    assert.throws(() => parseImageName(':tag'), hasCode('USAGE', /empty path/));
  });

  for (const value of ['dir:', 'dir:-x', 'dir:a b', 'dir:a/', 'dir:../etc']) {
    test(`refuses the tag in ${JSON.stringify(value)} with TAG_INVALID`, () => {
      assert.throws(() => parseImageName(value), hasCode('TAG_INVALID', /not a valid reference name/));
    });
  }
});

describe('parseLayoutPath', () => {
  test('returns a plain path unchanged', () => {
    assert.equal(parseLayoutPath('some/dir'), 'some/dir');
    assert.equal(parseLayoutPath('/abs/dir'), '/abs/dir');
  });

  test('refuses an empty path and any colon with USAGE', () => {
    assert.throws(() => parseLayoutPath(''), hasCode('USAGE', /empty path/));
    assert.throws(() => parseLayoutPath('dir:tag'), hasCode('USAGE', /path contains ':' character: 'dir:tag'/));
  });
});
