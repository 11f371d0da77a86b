import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import {
  compressionOf,
  compressor,
  decompressor,
  GZIP_BLOCK_SIZE,
  layerMediaType,
  nativeZstd,
  type DecompressOptions,
} from '../../src/layer/compression.js';
import { hasCode } from '../helpers/assert.js';
import { ROOT } from '../helpers/ocikit.js';
import { makeTmpDir } from '../helpers/tmp.js';

const MiB = 1 << 20;

/** Runs `input` through `t`, fed in chunks of `chunk` bytes. */
async function run(t: Transform, input: Buffer, chunk = 64 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    for (let at = 0; at < input.length; at += chunk) yield input.subarray(at, at + chunk);
  }
  await pipeline(
    Readable.from(source()),
    t,
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

const gunzip = (gz: Buffer, opts?: DecompressOptions, chunk?: number): Promise<Buffer> => run(decompressor('gzip', opts), gz, chunk);

/** Compressible data: text-like lines with some repetition. */
function textLike(n: number): Buffer {
  const words = ['usr', 'lib', 'share', 'doc', 'copyright', 'x86_64-linux-gnu', 'python3', 'README', '0755', 'root'];
  const out = Buffer.alloc(n);
  let seed = 7;
  let at = 0;
  while (at < n) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    at += out.write(`${words[seed % words.length]}/${seed % 997}\n`, at);
  }
  return out;
}

const oneLine = (re: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof Error && !err.message.includes('\n'), `one line: ${String(err)}`);
  assert.match(err.message, re);
  return true;
};

const SIZES: Array<[string, number]> = [
  ['0 bytes', 0],
  ['1 byte', 1],
  ['exactly one block', GZIP_BLOCK_SIZE],
  ['one block and one byte', GZIP_BLOCK_SIZE + 1],
  ['many blocks', 5 * GZIP_BLOCK_SIZE + 12345],
];

for (const [name, n] of SIZES) {
  for (const [kind, make] of [['random', randomBytes], ['compressible', textLike]] as const) {
    test(`gzip round trip: ${name} of ${kind} data, and gzip -t / gzip -dc accept it`, async () => {
      const input = make(n);
      const gz = await run(compressor('gzip'), input);
      assert.deepEqual(await gunzip(gz), input);
      execFileSync('gzip', ['-t'], { input: gz });
      assert.ok(execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 1 << 30 }).equals(input));
    });
  }
}

test('gzip output is the same bytes for the same input, whatever the chunking and the number of workers', async () => {
  const input = Buffer.concat([textLike(3 * MiB), randomBytes(MiB / 2)]);
  const a = await run(compressor('gzip'), input);
  const b = await run(compressor('gzip', { workers: 1 }), input, 4093);
  const c = await run(compressor('gzip', { workers: 4 }), input, 3 * MiB);
  assert.ok(a.equals(b) && a.equals(c));
});

test('gzip output is one member per 1 MiB block, with mtime 0 and OS byte 255 (Go compress/gzip)', async () => {
  const input = textLike(2 * MiB + 100);
  const gz = await run(compressor('gzip'), input);
  const blocks = [input.subarray(0, MiB), input.subarray(MiB, 2 * MiB), input.subarray(2 * MiB)];
  const expected = Buffer.concat(
    blocks.map((b) => {
      const m = zlib.gzipSync(b, { level: 6 });
      m[9] = 255;
      return m;
    }),
  );
  assert.ok(gz.equals(expected));
  assert.equal(gz.subarray(0, 10).toString('hex'), '1f8b08000000000000ff');
  // A small layer (compressed without a worker) gets the same member as a worker would make.
  const small = await run(compressor('gzip'), input.subarray(0, 1000));
  const m = zlib.gzipSync(input.subarray(0, 1000), { level: 6 });
  m[9] = 255;
  assert.ok(small.equals(m));
});

test('gzip level is honoured and refused outside 0..9', async () => {
  const input = textLike(MiB);
  const fast = await run(compressor('gzip', { level: 1 }), input);
  const best = await run(compressor('gzip', { level: 9 }), input);
  assert.ok(fast.length > best.length);
  assert.deepEqual(await gunzip(fast), input);
  assert.throws(() => compressor('gzip', { level: 10 }), hasCode('USAGE'));
});

test('gzip reading accepts any chunking of multi-member input, and header fields (FEXTRA, FNAME, FCOMMENT, FHCRC)', async () => {
  const input = textLike(300_000);
  const gz = await run(compressor('gzip', { blockSize: 64 * 1024 }), input);
  for (const chunk of [1, 7, 4096, gz.length]) assert.ok((await gunzip(gz, {}, chunk)).equals(input), `chunk ${chunk}`);

  const deflated = zlib.deflateRawSync(Buffer.from('hello'));
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(Buffer.from('hello')), 0);
  trailer.writeUInt32LE(5, 4);
  const header = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3]),
    Buffer.from([3, 0, 1, 2, 3]), // FEXTRA
    Buffer.from('name.tar\0comment\0'),
    Buffer.from([0xaa, 0xbb]), // FHCRC (not checked, as Go does not)
  ]);
  const member = Buffer.concat([header, deflated, trailer]);
  for (const chunk of [1, 3, 100]) assert.equal((await gunzip(Buffer.concat([member, member]), {}, chunk)).toString(), 'hellohello');
});

const TAILS: Array<[string, Buffer]> = [
  ['text', Buffer.from('garbage after the end')],
  ['NUL padding', Buffer.alloc(1000)],
  ['one 0x1f byte', Buffer.from([0x1f])],
  ['a gzip magic with a bad method', Buffer.from([0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])],
];

for (const [name, tail] of TAILS) {
  test(`trailing bytes after the last gzip member are ignored: ${name}`, async () => {
    const input = textLike(200_000);
    const gz = await run(compressor('gzip', { blockSize: 64 * 1024 }), input);
    for (const chunk of [1, 1000, 1 << 30]) assert.ok((await gunzip(Buffer.concat([gz, tail]), {}, chunk)).equals(input), `chunk ${chunk}`);
    await assert.rejects(gunzip(Buffer.concat([gz, tail]), { trailing: 'error' }), hasCode('VALIDATION_FAILED', /^gzip: invalid header$/));
  });
}

test('a gzip stream cut short fails with "gzip: unexpected end of file", wherever it is cut', async () => {
  const gz = await run(compressor('gzip', { blockSize: 64 * 1024 }), textLike(150_000));
  const firstMemberEnd = zlib.gzipSync(textLike(150_000).subarray(0, 64 * 1024)).length;
  for (const cut of [0, 1, 5, 10, 500, gz.length - 30_000, firstMemberEnd - 4, firstMemberEnd + 3, firstMemberEnd + 7, gz.length - 1]) {
    await assert.rejects(gunzip(gz.subarray(0, cut), {}, 1000), hasCode('VALIDATION_FAILED', /^gzip: unexpected end of file$/), `cut at ${cut}`);
  }
});

test('corrupt gzip fails with a one-line "gzip: ..." VALIDATION_FAILED', async () => {
  const input = textLike(200_000);
  const gz = await run(compressor('gzip'), input);
  const flipped = Buffer.from(gz);
  flipped[gz.length >> 1] = flipped[gz.length >> 1]! ^ 0xff;
  await assert.rejects(gunzip(flipped), hasCode('VALIDATION_FAILED'));
  await assert.rejects(gunzip(flipped), oneLine(/^gzip: /));
  const badCrc = Buffer.from(gz);
  badCrc[gz.length - 6] = badCrc[gz.length - 6]! ^ 0x01;
  await assert.rejects(gunzip(badCrc), hasCode('VALIDATION_FAILED', /^gzip: invalid checksum$/));
  const badSize = Buffer.from(gz);
  badSize[gz.length - 2] = badSize[gz.length - 2]! ^ 0x01;
  await assert.rejects(gunzip(badSize), hasCode('VALIDATION_FAILED', /^gzip: invalid length$/));
  await assert.rejects(gunzip(textLike(1000)), hasCode('VALIDATION_FAILED', /^gzip: invalid header$/));
});

test('a decompression bomb stops at maxOutput with UNSAFE_ENTRY, for every compression', async () => {
  const zeros = Buffer.alloc(20 * MiB);
  const msg = /^layer decompresses to more than 1048576 bytes$/;
  const gz = zlib.gzipSync(zeros);
  await assert.rejects(gunzip(gz, { maxOutput: MiB }), hasCode('UNSAFE_ENTRY', msg));
  await assert.rejects(run(decompressor('none', { maxOutput: MiB }), zeros), hasCode('UNSAFE_ENTRY', msg));
  const zs = execFileSync('zstd', ['-c', '-q'], { input: zeros });
  await assert.rejects(run(decompressor('zstd', { maxOutput: MiB }), zs), hasCode('UNSAFE_ENTRY', msg));
  // At the bound exactly, it passes.
  assert.equal((await gunzip(gz, { maxOutput: zeros.length })).length, zeros.length);
});

test('backpressure: a compressor or decompressor whose output is not read stops taking input', async () => {
  let pulled = 0;
  const endless = new Readable({
    read() {
      pulled += 64 * 1024;
      this.push(textLike(64 * 1024));
    },
  });
  const c = compressor('gzip');
  endless.pipe(c);
  await new Promise((r) => setTimeout(r, 1500));
  endless.unpipe(c);
  endless.destroy();
  c.destroy();
  assert.ok(pulled < 16 * MiB, `pulled ${pulled} bytes`);

  const bomb = zlib.gzipSync(Buffer.alloc(200 * MiB));
  const d = decompressor('gzip');
  Readable.from([bomb]).pipe(d);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(d.readableLength < 4 * MiB, `buffered ${d.readableLength} bytes`);
  d.destroy();
});

test('zstd round trips, and the zstd program reads what we write', async () => {
  for (const input of [Buffer.alloc(0), Buffer.from('x'), textLike(3 * MiB), randomBytes(MiB)]) {
    const zs = await run(compressor('zstd'), input);
    assert.ok((await run(decompressor('zstd'), zs)).equals(input));
    assert.ok(execFileSync('zstd', ['-dc', '-q'], { input: zs, maxBuffer: 1 << 30 }).equals(input));
    // Deterministic: the same bytes again.
    assert.ok((await run(compressor('zstd'), input, 5000)).equals(zs));
  }
});

test('corrupt or truncated zstd fails with a one-line "zstd: ..." VALIDATION_FAILED', async () => {
  const zs = execFileSync('zstd', ['-c', '-q'], { input: textLike(MiB) });
  await assert.rejects(run(decompressor('zstd'), zs.subarray(0, zs.length >> 1)), hasCode('VALIDATION_FAILED'));
  await assert.rejects(run(decompressor('zstd'), zs.subarray(0, zs.length >> 1)), oneLine(/^zstd: /));
  await assert.rejects(run(decompressor('zstd'), Buffer.from('not zstd at all')), oneLine(/^zstd: /));
  if (!nativeZstd()) {
    await assert.rejects(run(decompressor('zstd'), zs.subarray(0, 100)), hasCode('VALIDATION_FAILED', /^zstd: unexpected end of file$/));
  }
});

test('without the zstd program (and without node:zlib zstd), zstd layers fail with one line saying so', { skip: nativeZstd() && 'node:zlib has zstd' }, async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const msg = /^zstd layers need the zstd program/;
    await assert.rejects(run(decompressor('zstd'), Buffer.from('x')), hasCode('MEDIA_TYPE_UNSUPPORTED', msg));
    await assert.rejects(run(compressor('zstd'), Buffer.from('x')), hasCode('MEDIA_TYPE_UNSUPPORTED', msg));
  } finally {
    process.env.PATH = path;
  }
});

test('media types map to compressions and back', () => {
  const table: Array<[string, string | undefined]> = [
    ['application/vnd.oci.image.layer.v1.tar', 'none'],
    ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
    ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
    ['application/vnd.oci.image.layer.v1.tar+bzip2', undefined],
    ['application/vnd.oci.image.config.v1+json', undefined],
    ['', 'none'],
    ['+gzip', 'gzip'],
    ['+zstd', 'zstd'],
    ['+bzip2', undefined],
  ];
  for (const [mt, c] of table) assert.equal(compressionOf(mt), c, mt);
  for (const c of ['none', 'gzip', 'zstd'] as const) assert.equal(compressionOf(layerMediaType(c)), c);
  assert.equal(layerMediaType('gzip'), 'application/vnd.oci.image.layer.v1.tar+gzip');
});

/** Adds a gzip layer blob to the image `L:t` made by `umoci new`, editing manifest, config and index by hand. */
async function addLayer(layout: string, blob: Buffer, diffId: string): Promise<void> {
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const blobPath = (d: string): string => join(layout, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
  const put = async (b: Buffer): Promise<string> => {
    await writeFile(blobPath(sha(b)), b);
    return `sha256:${sha(b)}`;
  };
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(await readFile(blobPath(index.manifests[0].digest), 'utf8'));
  const config = JSON.parse(await readFile(blobPath(manifest.config.digest), 'utf8'));
  config.rootfs.diff_ids.push(diffId);
  const configBytes = Buffer.from(JSON.stringify(config));
  manifest.config.digest = await put(configBytes);
  manifest.config.size = configBytes.length;
  manifest.layers = [...(manifest.layers ?? []), { mediaType: layerMediaType('gzip'), digest: await put(blob), size: blob.length }];
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  index.manifests[0].digest = await put(manifestBytes);
  index.manifests[0].size = manifestBytes.length;
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
}

const hasUmoci = spawnSync('umoci', ['--version']).status === 0;

test('umoci raw unpack accepts a multi-member layer we compressed, and its diff_id', { skip: !hasUmoci && 'umoci not installed' }, async (t) => {
  const tmp = await makeTmpDir(t);
  const src = join(tmp.path, 'src');
  await mkdir(join(src, 'dir'), { recursive: true });
  const big = textLike(3 * MiB + 17);
  await writeFile(join(src, 'dir', 'big.txt'), big);
  await writeFile(join(src, 'random.bin'), randomBytes(MiB));
  const tar = execFileSync('tar', ['-C', src, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  const blob = await run(compressor('gzip'), tar);
  assert.ok(tar.length > 4 * MiB && blob.length > MiB); // five members
  const layout = join(tmp.path, 'layout');
  execFileSync('umoci', ['init', '--layout', layout]);
  execFileSync('umoci', ['new', '--image', `${layout}:t`]);
  await addLayer(layout, blob, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
  const rootfs = join(tmp.path, 'rootfs');
  const flags = process.getuid?.() === 0 ? [] : ['--rootless'];
  execFileSync('umoci', ['raw', 'unpack', ...flags, '--image', `${layout}:t`, rootfs], { stdio: 'pipe' });
  assert.ok((await readFile(join(rootfs, 'dir', 'big.txt'))).equals(big));
});

/** Runs an ES module in a fresh node; returns its stdout and how long it took to exit. */
function runScript(file: string): { stdout: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `${file}: status ${r.status} signal ${r.signal}\n${r.stderr}`);
  return { stdout: r.stdout, ms: Date.now() - t0 };
}

const SCRIPT = (importPath: string): string => `
import { compressor, decompressor } from ${JSON.stringify(importPath)};
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';
const input = Buffer.alloc(5 * 1024 * 1024, 'ocikit ');
const h = createHash('sha256');
await pipeline(Readable.from([input]), compressor('gzip'), decompressor('gzip'), new Writable({ write(c, e, cb) { h.update(c); cb(); } }));
console.log(h.digest('hex'));
`;

test('the process exits promptly after a compression ends (workers do not keep it alive), compiled and bundled', async (t) => {
  const tmp = await makeTmpDir(t);
  const expected = createHash('sha256').update(Buffer.alloc(5 * MiB, 'ocikit ')).digest('hex');
  const compiled = join(tmp.path, 'compiled.mjs');
  await writeFile(compiled, SCRIPT(join(ROOT, 'dist/src/layer/compression.js')));
  const a = runScript(compiled);
  assert.equal(a.stdout.trim(), expected);
  assert.ok(a.ms < 5000, `took ${a.ms} ms`);

  // The same through one esbuild bundle, as scripts/bundle.mjs makes dist/ocikit.mjs: the
  // worker code is inline, so no worker file needs to sit next to the bundle.
  const { build } = await import('esbuild');
  const bundled = join(tmp.path, 'bundled.mjs');
  await build({
    stdin: { contents: SCRIPT(join(ROOT, 'dist/src/layer/compression.js')), resolveDir: tmp.path, loader: 'js' },
    outfile: bundled,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  const b = runScript(bundled);
  assert.equal(b.stdout.trim(), expected);
  assert.ok(b.ms < 5000, `took ${b.ms} ms`);
});
