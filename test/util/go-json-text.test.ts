import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { goCompactJson } from '../../src/util/go-json-text.js';

describe('goCompactJson (json.RawMessage through an Encoder)', () => {
  test('drops white space outside strings, escapes <>& and U+2028/9, keeps existing escapes', () => {
    // Go: json.NewEncoder(w).Encode(struct{A json.RawMessage}{…}) printed the "a" member as below.
    const raw = Buffer.from('{ "k" : [1, 2],\n "h": "<a & b>\\/\\u003c\u2028\u2029", "s" : "x y\\"z" }', 'utf8');
    assert.equal(goCompactJson(raw), '{"k":[1,2],"h":"\\u003ca \\u0026 b\\u003e\\/\\u003c\\u2028\\u2029","s":"x y\\"z"}');
  });

  test('keeps white space inside strings, including after escaped quotes and backslashes', () => {
    const raw = Buffer.from('[ "a \\\\", " b\\" c " ,\t"\\u0020" ]');
    assert.equal(goCompactJson(raw), '["a \\\\"," b\\" c ","\\u0020"]');
  });

  test('leaves compact Go output unchanged', () => {
    const raw = '{"schemaVersion":2,"annotations":{"x":"\\u003cy\\u003e"}}';
    assert.equal(goCompactJson(Buffer.from(raw)), raw);
  });
});
