import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../src/registry/challenge.js';
import { hasCode } from '../helpers/assert.js';

test("Docker Hub's bearer challenge", () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
  ]);
});

test('a quoted value may hold commas, escapes and spaces; names are case-insensitive', () => {
  assert.deepEqual(parseChallenges('BEARER Realm="http://x/t", Scope="repository:a:pull,push", error="invalid \\"token\\""'), [
    { scheme: 'bearer', params: { realm: 'http://x/t', scope: 'repository:a:pull,push', error: 'invalid "token"' } },
  ]);
});

test('several challenges in one header, and unquoted values', () => {
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm", Bearer realm=https://h/token,service=h'), [
    { scheme: 'basic', params: { realm: 'Registry Realm' } },
    { scheme: 'bearer', params: { realm: 'https://h/token', service: 'h' } },
  ]);
});

test('a scheme alone and a token68', () => {
  assert.deepEqual(parseChallenges('Basic'), [{ scheme: 'basic', params: {} }]);
  assert.deepEqual(parseChallenges('Negotiate abc==, Basic realm=r'), [
    { scheme: 'negotiate', params: { '': 'abc==' } },
    { scheme: 'basic', params: { realm: 'r' } },
  ]);
  assert.deepEqual(parseChallenges(''), []);
});

test('malformed headers are refused with one line', () => {
  assert.throws(() => parseChallenges('Bearer realm="unterminated'), hasCode('AUTH', /unterminated/));
  assert.throws(() => parseChallenges('"quoted" realm=x'), hasCode('AUTH', /malformed/));
});
