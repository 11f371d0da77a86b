import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { goQuote, isGoGraphic, quoteIfNeeded } from '../../src/util/go-quote.js';

// Expected values printed by Go's strconv.Quote / unicode.IsGraphic.
describe('goQuote matches strconv.Quote', () => {
  const cases: Array<[string, string]> = [
    ['', '""'],
    ['plain', '"plain"'],
    ['a b', '"a b"'],
    ['a\tb', '"a\\tb"'],
    ['x\ny', '"x\\ny"'],
    ['q"uote', '"q\\"uote"'],
    ['back\\slash', '"back\\\\slash"'],
    ['\x07\x08\x0b\x0c\r', '"\\a\\b\\v\\f\\r"'],
    ['\x00\x1f\x7f', '"\\x00\\x1f\\x7f"'],
    ['café', '"café"'],
    ['nb\u00a0sp', '"nb\\u00a0sp"'],
    ['soft\u00adhy', '"soft\\u00adhy"'],
    ['\u2028', '"\\u2028"'],
    ['emoji\u{1F600}', '"emoji\u{1F600}"'],
    ['\u{E0001}', '"\\U000e0001"'],
    ['zw\u200bsp', '"zw\\u200bsp"'],
    ['<&>', '"<&>"'],
    ['lone\ud800', '"lone\ufffd"'],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => assert.equal(goQuote(input), want));
  }
});

describe('quoteIfNeeded (umoci 0.6 quote)', () => {
  const cases: Array<[string, boolean, string]> = [
    ['plain', false, 'plain'],
    ['plain', true, 'plain'],
    ['a b', false, 'a b'],
    ['a b', true, '"a b"'],
    ['', false, ''],
    ['', true, '""'],
    ['a\tb', false, '"a\\tb"'],
    ['say "hi"', false, '"say \\"hi\\""'],
    ['<none> & co', false, '<none> & co'],
    ['nb\u00a0sp', false, '"nb\\u00a0sp"'],
    ['1.107kB', true, '1.107kB'],
    ['lone\udc00', false, 'lone\ufffd'],
  ];
  for (const [input, precise, want] of cases) {
    test(`${JSON.stringify(input)} precise=${precise}`, () => assert.equal(quoteIfNeeded(input, precise), want));
  }
});

describe('isGoGraphic on bytes (as umoci xxd uses it)', () => {
  const cases: Array<[number, boolean]> = [
    [0x00, false], [0x1f, false], [0x20, true], [0x41, true], [0x7e, true], [0x7f, false],
    [0x80, false], [0x9f, false], [0xa0, true], [0xa1, true], [0xad, false], [0xae, true], [0xff, true],
  ];
  for (const [b, want] of cases) {
    test(`0x${b.toString(16)} → ${want}`, () => assert.equal(isGoGraphic(b), want));
  }
});
