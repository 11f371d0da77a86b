import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareUtf8 } from '../../src/util/byte-order.js';

test('compareUtf8 orders as Buffer.compare of the UTF-8 bytes', () => {
  const words = ['', 'a', 'b', 'a/b', 'a.b', 'ab', 'Z', 'é', '\u{e000}', '\u{ffff}', '😀', '😀a', 'a😀', '\u{10000}', 'ÿ', '\u007f'];
  for (const a of words) {
    for (const b of words) {
      const want = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.equal(Math.sign(compareUtf8(a, b)), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
});
