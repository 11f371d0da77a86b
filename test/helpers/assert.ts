import assert from 'node:assert/strict';
import { OcikitError } from '../../src/errors.js';

/** For assert.throws/rejects: the error is an OcikitError with `code` (and a message matching `message`). */
export function hasCode(code: string, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof OcikitError, `expected an OcikitError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  };
}
