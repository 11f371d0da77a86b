import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError } from '../../src/errors.js';
import { VerifiedStream, verifyBuffer, verifyEnd } from '../../src/store/verified-stream.js';
import { hasCode } from '../helpers/assert.js';

function digestOf(data: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}


/** Pipes `chunks` through a VerifiedStream and collects what comes out. */
async function through(chunks: Buffer[], digest: string, size: number): Promise<{ out: Buffer; stream: VerifiedStream }> {
  const stream = new VerifiedStream(digest, size);
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), stream, async function (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) out.push(chunk);
  });
  return { out: Buffer.concat(out), stream };
}

const DATA = Buffer.from('The quick brown fox jumps over the lazy dog.\n'.repeat(50));

describe('VerifiedStream', () => {
  test('passes through exactly the bytes the descriptor names and counts them', async () => {
    const chunks = [DATA.subarray(0, 7), DATA.subarray(7, 1000), DATA.subarray(1000)];
    const { out, stream } = await through(chunks, digestOf(DATA), DATA.length);
    assert.deepEqual(out, DATA);
    assert.equal(stream.bytesRead, DATA.length);
  });

  test('verifies sha512 digests too', async () => {
    const { out } = await through([DATA], digestOf(DATA, 'sha512'), DATA.length);
    assert.deepEqual(out, DATA);
  });

  test('accepts an empty blob', async () => {
    const { out } = await through([], digestOf(Buffer.alloc(0)), 0);
    assert.equal(out.length, 0);
  });

  test('fails at the end when a byte was flipped, with umoci\'s message', async () => {
    const bad = Buffer.from(DATA);
    bad[100] = (bad[100] ?? 0) ^ 0x20;
    await assert.rejects(through([bad], digestOf(DATA), DATA.length), (err: unknown) => {
      assert.ok(err instanceof DigestMismatchError);
      assert.equal(err.code, 'DIGEST_MISMATCH');
      assert.equal(err.message, `verified reader digest mismatch: expected ${digestOf(DATA)}, got ${digestOf(bad)}`);
      assert.equal(err.bytesRead, DATA.length);
      return true;
    });
  });

  test('fails at the end when the stream is short', async () => {
    await assert.rejects(
      through([DATA.subarray(0, 10)], digestOf(DATA), DATA.length),
      hasCode('SIZE_MISMATCH', new RegExp(`verified reader size mismatch: blob ${digestOf(DATA)}: expected ${DATA.length} bytes, read only 10$`)),
    );
  });

  test('fails as soon as more bytes arrive than the size allows, without passing them on', async () => {
    const stream = new VerifiedStream(digestOf(DATA), 10);
    const passed: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => passed.push(chunk));
    const failed = new Promise<unknown>((resolve) => stream.once('error', resolve));
    stream.write(DATA.subarray(0, 8));
    stream.write(DATA.subarray(8, 16)); // crosses the limit; the stream is never ended
    const err = await failed;
    assert.ok(hasCode('SIZE_MISMATCH', /expected 10 bytes, read more than 16/)(err));
    assert.deepEqual(Buffer.concat(passed), DATA.subarray(0, 8));
  });

  test('refuses a digest it cannot verify when constructed', () => {
    for (const digest of ['sha256:../../etc', 'md5:d41d8cd98f00b204e9800998ecf8427e', 'nodigest']) {
      assert.throws(() => new VerifiedStream(digest, 1), hasCode('DESCRIPTOR_INVALID'), digest);
    }
  });
});

describe('verifyEnd and verifyBuffer', () => {
  test('verifyEnd returns null for a match and an error for a size or digest mismatch', () => {
    const hash = (): ReturnType<typeof createHash> => createHash('sha256').update(DATA);
    assert.equal(verifyEnd(digestOf(DATA), DATA.length, DATA.length, hash()), null);
    assert.ok(hasCode('SIZE_MISMATCH', /read more than/)(verifyEnd(digestOf(DATA), 5, DATA.length, hash())));
    assert.ok(verifyEnd(digestOf(Buffer.from('x')), DATA.length, DATA.length, hash()) instanceof DigestMismatchError);
  });

  test('verifyBuffer accepts a matching buffer and throws for any mismatch', () => {
    verifyBuffer(DATA, digestOf(DATA), DATA.length);
    assert.throws(() => verifyBuffer(DATA, digestOf(DATA), DATA.length + 1), hasCode('SIZE_MISMATCH'));
    assert.throws(() => verifyBuffer(DATA.subarray(1), digestOf(DATA), DATA.length - 1), hasCode('DIGEST_MISMATCH'));
    assert.throws(() => verifyBuffer(DATA, 'sha256:00', DATA.length), hasCode('DESCRIPTOR_INVALID'));
  });
});
