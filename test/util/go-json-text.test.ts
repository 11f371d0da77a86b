import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { goCompactJson, goJsonString } from '../../src/util/go-json-text.js';

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

describe('goJsonString (Go 1.22+ encoding/json)', () => {
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['a\x08\x0c\x01\u2028<>&"\\\t\n\r\x7fé', '"a\\b\\f\\u0001\\u2028\\u003c\\u003e\\u0026\\"\\\\\\t\\n\\r\x7fé"'],
    ['\u2029', '"\\u2029"'],
    ['lone\ud800', '"lone\\ufffd"'],
    ['emoji\u{1F600}', '"emoji\u{1F600}"'],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => assert.equal(goJsonString(input), want));
  }
});
