import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSize, isDigest, MAX_BLOB_SIZE, parseDigest } from '../../src/oci/digest.js';
import { hasCode } from '../helpers/assert.js';

const SHA256 = `sha256:${'0123456789abcdef'.repeat(4)}`;
const SHA512 = `sha512:${'0123456789abcdef'.repeat(8)}`;


describe('parseDigest', () => {
  test('splits sha256 and sha512 digests into algorithm and hex', () => {
    assert.deepEqual(parseDigest(SHA256), { algorithm: 'sha256', hex: SHA256.slice(7) });
    assert.deepEqual(parseDigest(SHA512), { algorithm: 'sha512', hex: SHA512.slice(7) });
  });

  const unsupported: Array<[string, string]> = [
    ['no colon', '0123456789abcdef'.repeat(4)],
    ['an empty string', ''],
    ['an unknown algorithm', 'md5:d41d8cd98f00b204e9800998ecf8427e'],
    ['an upper-case algorithm', `SHA256:${SHA256.slice(7)}`],
    ['an algorithm with a path in it', `../sha256:${SHA256.slice(7)}`],
    ['a registered-but-unsupported algorithm', `blake3:${'a'.repeat(64)}`],
  ];
  for (const [what, digest] of unsupported) {
    test(`refuses ${what} as an unsupported algorithm`, () => {
      assert.throws(() => parseDigest(digest), hasCode('DESCRIPTOR_INVALID', /unsupported digest algorithm/));
      assert.equal(isDigest(digest), false);
    });
  }

  const invalid: Array<[string, string]> = [
    ['a path traversal', 'sha256:../../etc'],
    ['a traversal padded to 64 characters', `sha256:../../${'a'.repeat(58)}`],
    ['upper-case hex', SHA256.toUpperCase().replace('SHA256', 'sha256')],
    ['a short hex', SHA256.slice(0, -1)],
    ['a long hex', `${SHA256}0`],
    ['a trailing newline', `${SHA256.slice(0, -1)}\n`],
    ['a trailing slash', `${SHA256.slice(0, -1)}/`],
    ['a sha512 hex on sha256', `sha256:${SHA512.slice(7)}`],
    ['a sha256 hex on sha512', `sha512:${SHA256.slice(7)}`],
    ['an empty hex', 'sha256:'],
    ['a second colon', `sha256:${SHA256}`],
  ];
  for (const [what, digest] of invalid) {
    test(`refuses ${what}`, () => {
      assert.throws(() => parseDigest(digest), hasCode('DESCRIPTOR_INVALID', /invalid digest/));
      assert.equal(isDigest(digest), false);
    });
  }

  test('isDigest accepts what parseDigest accepts', () => {
    assert.equal(isDigest(SHA256), true);
    assert.equal(isDigest(SHA512), true);
  });
});

describe('checkSize', () => {
  test('returns valid sizes unchanged', () => {
    for (const size of [0, 1, 1 << 30, MAX_BLOB_SIZE]) assert.equal(checkSize(size, 'blob'), size);
  });

  const refused: Array<[string, unknown]> = [
    ['a negative size', -1],
    ['negative zero as a fraction', -0.5],
    ['a fractional size', 2.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2^53, which a double cannot count past exactly', 2 ** 53],
    ['a huge size', 1e300],
    ['a numeric string', '12'],
    ['a bigint', 12n],
    ['null', null],
    ['undefined', undefined],
  ];
  for (const [what, size] of refused) {
    test(`refuses ${what} with DESCRIPTOR_INVALID naming the subject`, () => {
      assert.throws(() => checkSize(size, 'descriptor sha256:x'), hasCode('DESCRIPTOR_INVALID', /^descriptor sha256:x: invalid size/));
    });
  }
});
