import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DigestMismatchError, OcikitError } from '../../src/errors.js';
import type { Descriptor } from '../../src/oci/types.js';
import { blobSize, deleteBlob, listBlobs, MAX_JSON_BLOB, openBlob, putBlob, readBlob } from '../../src/store/blobs.js';
import { Layout } from '../../src/store/layout.js';
import { TEMP_PREFIX } from '../../src/util/fsync.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';
import { hasCode } from '../helpers/assert.js';

const MEDIA_TYPE = 'application/octet-stream';

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function desc(data: Buffer | string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType: MEDIA_TYPE, digest: sha256(data), size: Buffer.byteLength(data), ...extra };
}


/** A fresh, open layout in a temporary directory, closed and removed after the test. */
async function freshLayout(t: AfterHook): Promise<Layout> {
  const { path: dir } = await makeTmpDir(t);
  await Layout.create(join(dir, 'img'));
  const layout = await Layout.open(join(dir, 'img'));
  t.after(() => layout.close());
  return layout;
}

/** Names in the layout root other than the three a layout has: leftover temporary files. */
async function strays(layout: Layout): Promise<string[]> {
  return (await readdir(layout.root)).filter((n) => !['blobs', 'index.json', 'oci-layout'].includes(n));
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Yields `data` in chunks of `size` bytes, then fails with `fail` if given. */
async function* chunked(data: Buffer, size: number, fail?: Error): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  if (fail !== undefined) throw fail;
}

/** Open descriptors of this process (Linux); undefined elsewhere. */
async function openFds(): Promise<string[] | undefined> {
  try {
    const fds = await readdir('/proc/self/fd');
    const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return targets;
  } catch {
    return undefined;
  }
}

describe('putBlob', () => {
  test('stores a buffer under blobs/sha256/<hex> and returns its digest and size', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('hello, blob\n');
    assert.deepEqual(await putBlob(layout, data), { digest: sha256(data), size: data.length, created: true });
    assert.deepEqual(await readFile(layout.blobPath(sha256(data))), data);
    assert.deepEqual(await strays(layout), []);
  });

  test('gives the same digest for a string, a buffer, a Readable and an async iterable', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('x'.repeat(100_000) + 'é');
    const want = { digest: sha256(data), size: data.length };
    // The first put stores the blob; the later ones find it there.
    assert.deepEqual(await putBlob(layout, data.toString('utf8')), { ...want, created: true });
    assert.deepEqual(await putBlob(layout, data), { ...want, created: false });
    assert.deepEqual(await putBlob(layout, Readable.from(chunked(data, 4096))), { ...want, created: false });
    assert.deepEqual(await putBlob(layout, chunked(data, 777)), { ...want, created: false });
    assert.deepEqual(await listBlobs(layout), [want.digest]);
    assert.deepEqual(await strays(layout), []);
  });

  test('stores an empty blob', async (t) => {
    const layout = await freshLayout(t);
    const result = await putBlob(layout, Buffer.alloc(0));
    assert.deepEqual(result, { digest: sha256(''), size: 0, created: true });
    assert.equal(await blobSize(layout, result.digest), 0);
    assert.deepEqual(await readBlob(layout, desc('')), Buffer.alloc(0));
  });

  test('is idempotent: putting an existing blob succeeds and leaves the stored file untouched', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('same bytes');
    const first = await putBlob(layout, data);
    const before = await stat(layout.blobPath(first.digest));
    await new Promise((resolve) => setTimeout(resolve, 20)); // a rewrite would show a later mtime
    const second = await putBlob(layout, Readable.from([data]), { digest: first.digest, size: first.size });
    const after = await stat(layout.blobPath(first.digest));
    assert.deepEqual(second, { ...first, created: false });
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.deepEqual(await strays(layout), []);
  });

  test('replaces a stored blob of the wrong size (a truncated one) with the right bytes', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('0123456789');
    const { digest } = await putBlob(layout, data);
    await truncate(layout.blobPath(digest), 4);
    await putBlob(layout, data);
    assert.deepEqual(await readBlob(layout, desc(data)), data);
  });

  test('checks what it is told to expect and accepts a match', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('expected');
    assert.deepEqual(await putBlob(layout, data, { digest: sha256(data), size: data.length }), { digest: sha256(data), size: data.length, created: true });
  });

  const mismatches: Array<[string, (data: Buffer) => Buffer | AsyncIterable<Buffer>, { digest?: string; size?: number }, string]> = [
    ['a wrong expected digest (buffer)', (d) => d, { digest: sha256('other') }, 'DIGEST_MISMATCH'],
    ['a wrong expected digest (stream)', (d) => chunked(d, 3), { digest: sha256('other') }, 'DIGEST_MISMATCH'],
    ['fewer bytes than the expected size (buffer)', (d) => d, { size: 1000 }, 'SIZE_MISMATCH'],
    ['fewer bytes than the expected size (stream)', (d) => chunked(d, 3), { size: 1000 }, 'SIZE_MISMATCH'],
    ['more bytes than the expected size (buffer)', (d) => d, { size: 3 }, 'SIZE_MISMATCH'],
    ['more bytes than the expected size (stream)', (d) => chunked(d, 3), { size: 3 }, 'SIZE_MISMATCH'],
  ];
  for (const [what, source, expect, code] of mismatches) {
    test(`refuses ${what}, storing nothing and leaving no temporary file`, async (t) => {
      const layout = await freshLayout(t);
      const data = Buffer.from('the actual content');
      await assert.rejects(putBlob(layout, source(data), expect), hasCode(code));
      assert.deepEqual(await listBlobs(layout), []);
      assert.equal(await blobSize(layout, sha256(data)), undefined);
      assert.deepEqual(await strays(layout), []);
    });
  }

  test('stops reading a stream as soon as it passes the expected size', async (t) => {
    const layout = await freshLayout(t);
    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        pulled++;
        yield Buffer.alloc(1024, 1);
      }
    }
    await assert.rejects(putBlob(layout, endless(), { size: 4096 }), hasCode('SIZE_MISMATCH'));
    assert.ok(pulled <= 6, `pulled ${pulled} chunks`);
    assert.deepEqual(await strays(layout), []);
  });

  test('refuses an invalid expected digest before writing anything', async (t) => {
    const layout = await freshLayout(t);
    await assert.rejects(putBlob(layout, 'x', { digest: 'sha256:../../etc' }), hasCode('DESCRIPTOR_INVALID'));
    assert.deepEqual(await strays(layout), []);
  });

  test('passes on a failing source and leaves no temporary file', async (t) => {
    const layout = await freshLayout(t);
    const boom = new Error('source broke');
    await assert.rejects(putBlob(layout, chunked(Buffer.alloc(10_000, 7), 1000, boom)), (err: unknown) => {
      assert.ok(err instanceof OcikitError);
      assert.match(err.message, /^put blob: .*source broke/);
      return true;
    });
    assert.deepEqual(await listBlobs(layout), []);
    assert.deepEqual(await strays(layout), []);
  });

  test('temporary files carry the prefix gc recognises', () => {
    assert.equal(TEMP_PREFIX, '.ocikit-tmp-');
  });
});

describe('readBlob', () => {
  test('returns the verified bytes of a stored blob', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('{"a":1}');
    await putBlob(layout, data);
    assert.deepEqual(await readBlob(layout, desc(data)), data);
  });

  test('refuses a blob with a flipped byte with DIGEST_MISMATCH', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('{"config":"original"}');
    await putBlob(layout, data);
    const flipped = Buffer.from(data);
    flipped[5] = (flipped[5] ?? 0) ^ 0x01;
    await writeFile(layout.blobPath(sha256(data)), flipped);
    await assert.rejects(readBlob(layout, desc(data)), (err: unknown) => {
      assert.ok(err instanceof DigestMismatchError);
      assert.equal(err.code, 'DIGEST_MISMATCH');
      assert.match(err.message, /verified reader digest mismatch/);
      assert.equal(err.expected, sha256(data));
      assert.equal(err.actual, sha256(flipped));
      return true;
    });
  });

  test('refuses a truncated blob with SIZE_MISMATCH', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('0123456789abcdef');
    await putBlob(layout, data);
    await truncate(layout.blobPath(sha256(data)), 10);
    await assert.rejects(readBlob(layout, desc(data)), hasCode('SIZE_MISMATCH', /verified reader size mismatch/));
  });

  test('refuses a blob longer than its descriptor with SIZE_MISMATCH', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('0123456789abcdef');
    await putBlob(layout, data);
    await writeFile(layout.blobPath(sha256(data)), Buffer.concat([data, Buffer.from('!')]));
    await assert.rejects(readBlob(layout, desc(data)), hasCode('SIZE_MISMATCH'));
  });

  test('refuses a descriptor whose size is smaller than the blob, even though the prefix is intact', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('0123456789abcdef');
    await putBlob(layout, data);
    await assert.rejects(readBlob(layout, { ...desc(data), size: 8 }), hasCode('SIZE_MISMATCH'));
  });

  test('reports a missing blob as BLOB_NOT_FOUND', async (t) => {
    const layout = await freshLayout(t);
    await assert.rejects(readBlob(layout, desc('never stored')), hasCode('BLOB_NOT_FOUND', /blob not found/));
  });

  test('reports a directory where a blob should be as an OcikitError', async (t) => {
    const layout = await freshLayout(t);
    await mkdir(layout.blobPath(sha256('dir')));
    await assert.rejects(readBlob(layout, desc('dir')), hasCode('IO', /^read blob sha256:/));
  });

  const badSizes: Array<[string, unknown]> = [
    ['a negative size', -1],
    ['a fractional size', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a size beyond 2^53', 2 ** 53],
    ['a string size', '7'],
    ['no size', undefined],
  ];
  for (const [what, size] of badSizes) {
    test(`refuses ${what} with DESCRIPTOR_INVALID`, async (t) => {
      const layout = await freshLayout(t);
      const data = Buffer.from('1234567');
      await putBlob(layout, data);
      await assert.rejects(readBlob(layout, { ...desc(data), size: size as number }), hasCode('DESCRIPTOR_INVALID'));
      assert.throws(() => openBlob(layout, { ...desc(data), size: size as number }), hasCode('DESCRIPTOR_INVALID'));
    });
  }

  test('refuses a size over its in-memory limit before reading', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('1234567');
    await putBlob(layout, data);
    await assert.rejects(readBlob(layout, { ...desc(data), size: MAX_JSON_BLOB + 1 }), hasCode('DESCRIPTOR_INVALID', /limit/));
    await assert.rejects(readBlob(layout, desc(data), 4), hasCode('DESCRIPTOR_INVALID', /4-byte limit/));
  });

  const hostileDigests = ['sha256:../../etc', `sha256:../../../etc/passwd`, 'sha256:', `SHA256:${'a'.repeat(64)}`, 'md5:d41d8cd98f00b204e9800998ecf8427e'];
  for (const digest of hostileDigests) {
    test(`refuses the hostile digest ${JSON.stringify(digest)} without touching the file system`, async (t) => {
      const layout = await freshLayout(t);
      const { path: outside } = await makeTmpDir(t);
      await writeFile(join(outside, 'sentinel'), 'keep');
      const d: Descriptor = { mediaType: MEDIA_TYPE, digest, size: 4 };
      await assert.rejects(readBlob(layout, d), hasCode('DESCRIPTOR_INVALID'));
      assert.throws(() => openBlob(layout, d), hasCode('DESCRIPTOR_INVALID'));
      await assert.rejects(deleteBlob(layout, digest), hasCode('DESCRIPTOR_INVALID'));
      await assert.rejects(blobSize(layout, digest), hasCode('DESCRIPTOR_INVALID'));
      assert.equal(await readFile(join(outside, 'sentinel'), 'utf8'), 'keep');
    });
  }

  test('refuses a descriptor without a digest', async (t) => {
    const layout = await freshLayout(t);
    await assert.rejects(readBlob(layout, { mediaType: MEDIA_TYPE, size: 0 } as unknown as Descriptor), hasCode('DESCRIPTOR_INVALID'));
  });

  describe('embedded data', () => {
    test('returns checked embedded data without needing the blob on disk', async (t) => {
      const layout = await freshLayout(t);
      const data = Buffer.from('{}');
      assert.deepEqual(await readBlob(layout, desc(data, { data: data.toString('base64') })), data);
    });

    test('refuses embedded data that does not match the digest', async (t) => {
      const layout = await freshLayout(t);
      const data = Buffer.from('{}');
      await putBlob(layout, data);
      const d = desc(data, { data: Buffer.from('[]').toString('base64') });
      await assert.rejects(readBlob(layout, d), hasCode('DIGEST_MISMATCH', /verified reader digest mismatch/));
    });

    test('refuses embedded data that does not match the size', async (t) => {
      const layout = await freshLayout(t);
      const data = Buffer.from('{}');
      const d = { ...desc(data, { data: data.toString('base64') }), size: 3 };
      await assert.rejects(readBlob(layout, d), hasCode('SIZE_MISMATCH'));
    });
  });
});

describe('openBlob', () => {
  test('streams the verified bytes of a stored blob', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    await putBlob(layout, data);
    assert.deepEqual(await drain(openBlob(layout, desc(data))), data);
  });

  test('fails a stream of a blob with a flipped byte with DIGEST_MISMATCH at its end', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('layer bytes '.repeat(1000));
    await putBlob(layout, data);
    const flipped = Buffer.from(data);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 0x80;
    await writeFile(layout.blobPath(sha256(data)), flipped);
    await assert.rejects(drain(openBlob(layout, desc(data))), (err: unknown) => {
      assert.ok(err instanceof DigestMismatchError);
      assert.match(err.message, /verified reader digest mismatch/);
      assert.equal(err.bytesRead, data.length);
      return true;
    });
  });

  test('fails a stream of a truncated blob with SIZE_MISMATCH', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('abcdefgh'.repeat(100));
    await putBlob(layout, data);
    await truncate(layout.blobPath(sha256(data)), 500);
    await assert.rejects(drain(openBlob(layout, desc(data))), hasCode('SIZE_MISMATCH', /expected 800 bytes, read only 500/));
  });

  test('fails a stream of a blob longer than its descriptor with SIZE_MISMATCH', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.from('abcdefgh'.repeat(100));
    await putBlob(layout, data);
    await writeFile(layout.blobPath(sha256(data)), Buffer.concat([data, Buffer.from('tail')]));
    await assert.rejects(drain(openBlob(layout, desc(data))), hasCode('SIZE_MISMATCH', /read more than/));
  });

  test('fails a stream of a missing blob with BLOB_NOT_FOUND', async (t) => {
    const layout = await freshLayout(t);
    await assert.rejects(drain(openBlob(layout, desc('absent'))), hasCode('BLOB_NOT_FOUND'));
  });

  test('closes the blob file when a stream fails early or is destroyed', async (t) => {
    const layout = await freshLayout(t);
    const data = Buffer.alloc(1 << 20, 3);
    const { digest } = await putBlob(layout, data);
    const path = layout.blobPath(digest);
    const countOpen = async (): Promise<number | undefined> => (await openFds())?.filter((p) => p === path).length;
    if ((await countOpen()) === undefined) return t.skip('no /proc/self/fd here');
    for (let i = 0; i < 5; i++) {
      await assert.rejects(drain(openBlob(layout, { ...desc(data), size: 10 })), hasCode('SIZE_MISMATCH'));
      const s = openBlob(layout, desc(data));
      await new Promise((resolve) => s.once('readable', resolve));
      s.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await countOpen(), 0);
  });
});

describe('blobSize, deleteBlob, listBlobs', () => {
  test('blobSize gives the stored size, or undefined for an absent blob or a non-file', async (t) => {
    const layout = await freshLayout(t);
    const { digest } = await putBlob(layout, 'twelve bytes');
    assert.equal(await blobSize(layout, digest), 12);
    assert.equal(await blobSize(layout, sha256('absent')), undefined);
    await mkdir(layout.blobPath(sha256('a dir')));
    assert.equal(await blobSize(layout, sha256('a dir')), undefined);
  });

  test('deleteBlob removes a blob and accepts one that is already gone', async (t) => {
    const layout = await freshLayout(t);
    const { digest } = await putBlob(layout, 'bye');
    await deleteBlob(layout, digest);
    assert.equal(await blobSize(layout, digest), undefined);
    await deleteBlob(layout, digest);
  });

  test('listBlobs lists valid blob names sorted, ignoring stray files and unknown algorithms', async (t) => {
    const layout = await freshLayout(t);
    const digests = await Promise.all(['a', 'b', 'c'].map(async (s) => (await putBlob(layout, s)).digest));
    const blobs = join(layout.root, 'blobs');
    await writeFile(join(blobs, 'sha256', 'not-a-digest'), '');
    await writeFile(join(blobs, 'sha256', `${TEMP_PREFIX}0123`), '');
    await writeFile(join(blobs, 'stray-file'), '');
    await mkdir(join(blobs, 'md5'));
    await writeFile(join(blobs, 'md5', 'd41d8cd98f00b204e9800998ecf8427e'), '');
    const sha512 = `sha512:${createHash('sha512').update('x').digest('hex')}`;
    await mkdir(join(blobs, 'sha512'));
    await writeFile(layout.blobPath(sha512), 'x');
    assert.deepEqual(await listBlobs(layout), [...digests, sha512].sort());
  });
});
