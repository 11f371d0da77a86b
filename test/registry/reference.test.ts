/** Docker's reference normalisation, case by case (expected values as `docker pull` resolves them). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHost, familiarReference, formatReference, parseReference } from '../../src/registry/reference.js';
import { hasCode } from '../helpers/assert.js';

const D = 'sha256:' + 'ab'.repeat(32);

const OK: Array<[string, string, string]> = [
  ['alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
  ['alpine:3.20', 'docker.io/library/alpine:3.20', 'alpine:3.20'],
  ['library/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
  ['docker.io/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
  ['index.docker.io/library/alpine:edge', 'docker.io/library/alpine:edge', 'alpine:edge'],
  ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
  ['user/app/sub:v1', 'docker.io/user/app/sub:v1', 'user/app/sub:v1'],
  ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
  ['localhost:5000/app:1', 'localhost:5000/app:1', 'localhost:5000/app:1'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'],
  ['127.0.0.1:5000/a/b', '127.0.0.1:5000/a/b:latest', '127.0.0.1:5000/a/b:latest'],
  ['[::1]:5000/a', '[::1]:5000/a:latest', '[::1]:5000/a:latest'],
  ['ghcr.io/o/r@' + D, 'ghcr.io/o/r@' + D, 'ghcr.io/o/r@' + D],
  ['alpine:3@' + D, 'docker.io/library/alpine:3@' + D, 'alpine:3@' + D],
  ['Registry/app', 'Registry/app:latest', 'Registry/app:latest'],
  ['a_b-c__d/x--y.z', 'docker.io/a_b-c__d/x--y.z:latest', 'a_b-c__d/x--y.z:latest'],
];

for (const [input, full, familiar] of OK) {
  test(`parses ${input}`, () => {
    const ref = parseReference(input);
    assert.equal(formatReference(ref), full);
    assert.equal(familiarReference(ref), familiar);
  });
}

const BAD: Array<[string, RegExp]> = [
  ['', /invalid reference format/],
  ['Alpine', /must be lowercase/],
  ['docker.io/User/app', /must be lowercase/],
  ['alpine:', /invalid tag/],
  ['alpine:-x', /invalid tag/],
  ['alpine@sha256:abc', /invalid digest/],
  ['a//b', /invalid reference format/],
  ['/a', /invalid reference format/],
  ['a/', /invalid reference format/],
  ['-a', /invalid reference format/],
  ['a..b', /invalid reference format/],
  ['ho_st.io/a', /invalid registry host/],
  ['host:port/a', /invalid registry host/],
  ['a_b.c/x', /invalid registry host/],
  ['ab'.repeat(32), /64-byte hexadecimal/],
  ['x/' + 'a'.repeat(260), /longer than 255/],
  ['a:' + 'x'.repeat(129), /invalid tag/],
];

for (const [input, why] of BAD) {
  test(`refuses ${JSON.stringify(input.slice(0, 40))}`, () => {
    assert.throws(() => parseReference(input), hasCode('USAGE', why));
  });
}

test('docker.io is served from registry-1.docker.io; other registries from themselves', () => {
  assert.equal(apiHost(parseReference('alpine')), 'registry-1.docker.io');
  assert.equal(apiHost(parseReference('localhost:5000/a')), 'localhost:5000');
});
