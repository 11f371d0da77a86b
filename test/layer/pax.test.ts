import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePax, encodePaxRecord, paxMap, parsePax } from '../../src/layer/pax.js';
import { hasCode } from '../helpers/assert.js';

// cap_setuid+ep as setcap writes it: a v2 capability with a 0x80 byte in it.
const CAPABILITY = Buffer.from('0000000280000000000000000000000000000000', 'hex');

test('a binary xattr value (0x80 and NUL bytes) survives encode and parse unchanged', () => {
  const buf = encodePax([{ key: 'SCHILY.xattr.security.capability', value: CAPABILITY }]);
  const [rec] = parsePax(buf);
  assert.equal(rec!.key, 'SCHILY.xattr.security.capability');
  assert.deepEqual(rec!.value, CAPABILITY);
});

test('the length field counts its own digits, also where it gains one', () => {
  for (let n = 0; n < 1100; n += 7) {
    const rec = encodePaxRecord('k', 'x'.repeat(n));
    const len = Number(rec.toString('latin1').split(' ', 1)[0]);
    assert.equal(len, rec.length, `value of ${n} bytes`);
    assert.equal(parsePax(rec)[0]!.value.length, n);
  }
});

test('the records of a header made by GNU tar parse, and later records win', () => {
  const text = '30 mtime=1700000000.123456789\n18 path=a/b/\u00e9t\u00e9\n10 path=c\n';
  const recs = parsePax(Buffer.from(text, 'utf8'));
  assert.deepEqual(recs.map((r) => r.key), ['mtime', 'path', 'path']);
  assert.equal(paxMap(recs).get('path')!.toString(), 'c');
});

test('an empty value deletes the key; trailing NUL padding is allowed', () => {
  const buf = Buffer.concat([encodePax([{ key: 'uid', value: Buffer.from('300000') }, { key: 'uid', value: Buffer.alloc(0) }]), Buffer.alloc(9)]);
  assert.equal(paxMap(parsePax(buf)).has('uid'), false);
});

for (const [attack, text] of [
  ['a length running past the header', '99 path=x\n'],
  ['a length too short to hold the record', '3 path=x\n'],
  ['a record without a newline', '10 path=xyz'],
  ['a record without "="', '9 pathxy\n'],
  ['a zero length', '0 x=\n'],
  ['a negative length', '-5 x=\n'],
  ['a length that is not a number', 'ab path=x\n'],
  ['a missing length', 'path=x\n'],
  ['an empty key', '6 =xy\n'],
  ['a NUL inside the records', '8 a=b\n\u0000x8 a=b\n'],
] as const) {
  test(`refuses a hostile pax header: ${attack}`, () => {
    assert.throws(() => parsePax(Buffer.from(text, 'latin1')), hasCode('UNSAFE_ENTRY', /malformed pax header/));
  });
}
