import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { unvisDecode, visEncode } from '../../src/mtree/vis.js';

describe('visEncode/unvisDecode (go-mtree DefaultVisFlags: VisWhite|VisOctal|VisGlob)', () => {
  test('round-trips every single byte 0x00-0xff and encodes to printable ASCII without white space', () => {
    for (let b = 0; b <= 0xff; b++) {
      const enc = visEncode(Buffer.from([b]));
      assert.match(enc, /^[\x21-\x7e]+$/, `byte ${b}`);
      assert.deepEqual(unvisDecode(enc), Buffer.from([b]), `byte ${b} as ${enc}`);
    }
  });

  test('round-trips all 256 bytes in one name, including invalid UTF-8', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(unvisDecode(visEncode(all)), all);
    const bad = Buffer.from([0x61, 0xc3, 0x28, 0xff, 0x5c, 0x30]);
    assert.deepEqual(unvisDecode(visEncode(bad)), bad);
  });

  test('keeps printable ASCII except glob magics, doubles backslash, octal for everything else', () => {
    // Expected values as umoci 0.4.7 wrote them (see test/fixtures/mtree/umoci-0.4.7-rootfs.mtree).
    assert.equal(visEncode('dir with space'), 'dir\\040with\\040space');
    assert.equal(visEncode('g#lob*'), 'g\\043lob\\052');
    assert.equal(visEncode('we ird\tta#b\\bs\nnl-é-*?[.txt'), 'we\\040ird\\011ta\\043b\\\\bs\\012nl-\\303\\251-\\052\\077\\133.txt');
    assert.equal(visEncode('ünïcödé'), '\\303\\274n\\303\\257c\\303\\266d\\303\\251');
    assert.equal(visEncode('a]b{c}~!'), 'a]b{c}~!');
    assert.equal(visEncode(Buffer.from([0x00, 0x7f, 0x80])), '\\000\\177\\200');
    assert.equal(visEncode(''), '');
  });

  test('decodes the other vis(3) forms go-mtree accepts', () => {
    const cases: Array<[string, number[]]> = [
      ['\\n\\r\\b\\a\\v\\t\\f\\s\\E', [10, 13, 8, 7, 11, 9, 12, 32, 27]],
      ['\\x41\\x7e', [0x41, 0x7e]],
      ['\\^A\\^?\\M^A\\M-a', [1, 0x7f, 0x81, 0xe1]],
      ['\\0a', [0, 0x61]],
      ['\\18', [1, 0x38]],
      ['a\\$b', [0x61, 0x62]],
      ['é', [0xc3, 0xa9]],
    ];
    for (const [enc, bytes] of cases) assert.deepEqual(unvisDecode(enc), Buffer.from(bytes), enc);
  });

  test('refuses malformed escapes', () => {
    for (const bad of ['\\', 'a\\', '\\q', '\\777', '\\x4', '\\xzz', '\\M', '\\Mx', '\\^']) {
      assert.throws(() => unvisDecode(bad), { code: 'VALIDATION_FAILED' }, bad);
    }
  });
});
