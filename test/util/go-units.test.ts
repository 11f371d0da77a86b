import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoG, humanSize } from '../../src/util/go-units.js';

// Expected values printed by Go 1.19 (`fmt.Sprintf("%.*g%s", 4, …)` after
// go-units' divide-by-1000 loop) and by umoci 0.4.7's `stat`.
describe('humanSize matches docker/go-units HumanSize', () => {
  const cases: Array<[number, string]> = [
    [0, '0B'],
    [1, '1B'],
    [238, '238B'],
    [999, '999B'],
    [1000, '1kB'],
    [1107, '1.107kB'],
    [12345, '12.35kB'],
    [100000, '100kB'],
    [999499, '999.5kB'],
    [999500, '999.5kB'],
    [999999, '1000kB'],
    [1000000, '1MB'],
    [1000500, '1MB'],
    [1062500, '1.062MB'], // exact tie: Go rounds half to even, toPrecision would say 1.063
    [1234500, '1.234MB'],
    [1234501, '1.235MB'],
    [38815000, '38.81MB'],
    [38820000, '38.82MB'],
    [38825000, '38.83MB'],
    [123456789, '123.5MB'],
    [1e15, '1PB'],
    [9007199254740991, '9.007PB'],
    [1.5e18, '1.5EB'],
    [2.5e27, '2500YB'],
    [1e30, '1e+06YB'],
    [-5, '-5B'],
    [140, '140B'],
    [2683, '2.683kB'],
  ];
  for (const [size, want] of cases) {
    test(`${size} → ${want}`, () => assert.equal(humanSize(size), want));
  }
});

describe('formatGoG matches Go %.4g', () => {
  const cases: Array<[number, string]> = [
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [123456, '1.235e+05'],
    [12345.6, '1.235e+04'],
    [1.0625, '1.062'],
    [0.5, '0.5'],
    [2.5, '2.5'],
    [99.995, '100'],
    [1e21, '1e+21'],
    [0, '0'],
  ];
  for (const [x, want] of cases) {
    test(`${x} → ${want}`, () => assert.equal(formatGoG(x, 4), want));
  }
});
