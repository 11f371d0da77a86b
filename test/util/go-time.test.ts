import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { goRfc3339Nano } from '../../src/util/go-time.js';

// Expected values printed by Go: json.Unmarshal into time.Time, then Format(time.RFC3339Nano).
describe('goRfc3339Nano', () => {
  const cases: Array<[string, string | undefined]> = [
    ['2020-01-02T03:04:05Z', '2020-01-02T03:04:05Z'],
    ['2020-01-02T03:04:05.120000000+00:00', '2020-01-02T03:04:05.12Z'],
    ['2020-01-02T03:04:05.1234567891234Z', '2020-01-02T03:04:05.123456789Z'],
    ['2020-01-02T03:04:05.000Z', '2020-01-02T03:04:05Z'],
    ['2020-01-02T03:04:05-00:00', '2020-01-02T03:04:05Z'],
    ['2020-01-02T03:04:05.5+05:30', '2020-01-02T03:04:05.5+05:30'],
    ['2020-01-02T04:00:00.5-07:30', '2020-01-02T04:00:00.5-07:30'],
    ['2020-01-02t03:04:05Z', undefined],
    ['2020-01-02T03:04:05z', undefined],
    ['2020-02-30T03:04:05Z', undefined],
    ['2020-01-02T24:00:00Z', undefined],
    ['2020-01-02T03:04:60Z', undefined],
    ['yesterday', undefined],
  ];
  for (const [input, want] of cases) {
    test(`${input} → ${String(want)}`, () => assert.equal(goRfc3339Nano(input), want));
  }
});
