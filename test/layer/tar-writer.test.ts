import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable } from 'node:stream';
import { emptyHeader, type TarHeader } from '../../src/layer/tar-header.js';
import { encodeHeader, TarWriter } from '../../src/layer/tar-writer.js';
import { TarReader } from '../../src/layer/tar-reader.js';
import { hasCode } from '../helpers/assert.js';
import { makeTmpDir } from '../helpers/tmp.js';

// cap_setuid+ep as setcap writes it (v2): 0x80 and NUL bytes in the value.
const CAPABILITY = Buffer.from('0100000280000000000000000000000000000000', 'hex');
const SOURCE = fileURLToPath(new URL('../../../test/tools/gotar/main.go', import.meta.url));

interface Case {
  what: string;
  header: Partial<TarHeader>;
  body?: Buffer;
}

function h(over: Partial<TarHeader>, body?: Buffer): TarHeader {
  return { ...emptyHeader(), mtime: { sec: 1700000000, nsec: 0 }, ...over, size: over.size ?? body?.length ?? 0 };
}

const long = (n: number, c = 'a'): string => c.repeat(n);

/** Tricky headers: every branch of Go's format choice and field encodings. */
const CASES: Case[] = [
  { what: 'plain file with names and ids', header: { name: 'etc/hello.txt', uid: 1000, gid: 1000, uname: 'user', gname: 'users' }, body: Buffer.from('hello') },
  { what: 'name of 99 bytes', header: { name: `d/${long(97)}` }, body: Buffer.from('x') },
  { what: 'name of exactly 100 bytes, no slash', header: { name: long(100) } },
  { what: 'name of 101 bytes, not splittable', header: { name: long(101) } },
  { what: 'name of 101 bytes, splittable', header: { name: `dir/${long(97)}` } },
  { what: 'name of 155 bytes, splittable', header: { name: `${long(150, 'p')}/${long(4)}` } },
  { what: 'name of 156 bytes, splittable', header: { name: `${long(150, 'p')}/${long(5)}` } },
  { what: 'name of 156 bytes, one component', header: { name: long(156) } },
  { what: 'name of 255 bytes, splittable', header: { name: `${long(154, 'p')}/${long(100)}` } },
  { what: 'name of 256 bytes, split at the last possible slash', header: { name: `${long(155, 'p')}/${long(100)}` } },
  { what: 'name of 300 bytes', header: { name: `${long(100, 'p')}/${long(100, 'q')}/${long(98)}` } },
  { what: 'directory of 101 bytes with trailing slash', header: { name: `${long(50, 'd')}/${long(49, 'e')}/`, type: 'dir', mode: 0o755 } },
  { what: 'long directory cut at a slash in the name field', header: { name: `${long(99, 'x')}/${long(120, 'y')}/`, type: 'dir', mode: 0o755 } },
  { what: 'unicode name', header: { name: '日本語/ファイル.txt' }, body: Buffer.from('uni') },
  { what: 'long unicode name with emoji', header: { name: `${'é'.repeat(60)}/😀${long(40)}` } },
  { what: 'symlink with short target', header: { name: 'bin/sh', type: 'symlink', linkname: 'busybox', mode: 0o777 } },
  { what: 'symlink with 150-byte target', header: { name: 'lnk', type: 'symlink', linkname: `${long(70, 't')}/${long(79)}`, mode: 0o777 } },
  { what: 'hardlink', header: { name: 'usr/bin/b', type: 'hardlink', linkname: 'usr/bin/a' } },
  { what: 'char device', header: { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 } },
  { what: 'block device', header: { name: 'dev/sda', type: 'block', mode: 0o660, devmajor: 8, devminor: 0, gid: 6, gname: 'disk' } },
  { what: 'device number too big for octal (GNU)', header: { name: 'dev/big', type: 'block', devmajor: 259, devminor: 3000000 } },
  { what: 'GNU with a long name', header: { name: `${long(120)}`, type: 'char', devmajor: 2 ** 25 } },
  { what: 'GNU with a long name and a long link', header: { name: `${long(130)}/`, type: 'symlink', linkname: long(140, 'l'), devminor: 2 ** 25 } },
  { what: 'fifo', header: { name: 'run/fifo', type: 'fifo', mode: 0o600 } },
  { what: 'sticky directory', header: { name: 'tmp/', type: 'dir', mode: 0o1777 } },
  { what: 'setuid file', header: { name: 'usr/bin/su', mode: 0o4755 }, body: Buffer.from('#!') },
  { what: 'setgid directory', header: { name: 'srv/', type: 'dir', mode: 0o2775 } },
  { what: 'uid and gid 262144', header: { name: 'f', uid: 262144, gid: 262144 } },
  { what: 'uid 300000, gid 1000680000', header: { name: 'f', uid: 300000, gid: 1000680000 } },
  { what: 'uid beyond octal', header: { name: 'f', uid: 2 ** 21, gid: 2 ** 21 - 1 } },
  { what: 'user name longer than 32 bytes', header: { name: 'f', uname: long(33, 'u'), gname: 'g' } },
  { what: 'unicode user name', header: { name: 'f', uname: 'jürgen' } },
  { what: 'binary capability xattr', header: { name: 'usr/bin/newuidmap', mode: 0o755, xattrs: new Map([['security.capability', CAPABILITY]]) }, body: Buffer.from('ELF') },
  {
    what: 'several xattrs, out of order',
    header: {
      name: 'opt/x',
      xattrs: new Map([
        ['user.b', Buffer.from('2')],
        ['user.a', Buffer.from('1')],
        ['security.selinux', Buffer.from('system_u:object_r:bin_t:s0\0')],
        ['trusted.overlay.opaque', Buffer.from('y')],
      ]),
    },
  },
  { what: 'empty xattr value', header: { name: 'e', xattrs: new Map([['user.empty', Buffer.alloc(0)]]) } },
  { what: 'xattr record whose length gains a digit', header: { name: 'z', xattrs: new Map([['user.k', Buffer.alloc(80, 0x41)]]) } },
  { what: 'xattr on "./name"', header: { name: './foo', xattrs: new Map([['user.a', Buffer.from('1')]]) } },
  { what: 'xattr on an absolute name', header: { name: '/abs/x', xattrs: new Map([['user.a', Buffer.from('1')]]) } },
  { what: 'xattr on a name with ".."', header: { name: 'a/../../b', xattrs: new Map([['user.a', Buffer.from('1')]]) } },
  { what: 'xattr on a directory', header: { name: 'etc/', type: 'dir', mode: 0o755, xattrs: new Map([['user.a', Buffer.from('1')]]) } },
  { what: 'xattr on a long unicode name', header: { name: `ü/${long(120)}`, xattrs: new Map([['user.a', Buffer.from('1')]]) } },
  { what: 'mtime with nanoseconds (rounds down)', header: { name: 'f', mtime: { sec: 1700000000, nsec: 123456789 } } },
  { what: 'mtime with half a second (rounds up)', header: { name: 'f', mtime: { sec: 1700000000, nsec: 500000000 } } },
  { what: 'mtime 0', header: { name: 'f', mtime: { sec: 0, nsec: 0 } } },
  { what: 'negative mtime', header: { name: 'f', mtime: { sec: -1, nsec: 0 } } },
  { what: 'negative mtime with fraction', header: { name: 'f', mtime: { sec: -31600000, nsec: 250000000 } } },
  { what: 'mtime beyond octal', header: { name: 'f', mtime: { sec: 8 ** 11, nsec: 0 } } },
  { what: 'size 0', header: { name: 'empty' }, body: Buffer.alloc(0) },
  { what: 'size 512', header: { name: 'b512' }, body: Buffer.alloc(512, 7) },
  { what: 'size 513', header: { name: 'b513' }, body: Buffer.alloc(513, 9) },
  { what: 'body of 70000 bytes', header: { name: 'big' }, body: Buffer.alloc(70000, 0x80) },
];

function caseHeader(c: Case): TarHeader {
  return h(c.header, c.body);
}

function oracleJson(cases: Case[]): string {
  return JSON.stringify(
    cases.map((c) => {
      const x = caseHeader(c);
      const flag = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' }[x.type];
      return {
        typeflag: flag,
        name: x.name,
        linkname: x.linkname,
        size: x.size,
        mode: x.mode,
        uid: x.uid,
        gid: x.gid,
        uname: x.uname,
        gname: x.gname,
        mtimeSec: x.mtime.sec,
        mtimeNsec: x.mtime.nsec,
        devmajor: x.devmajor,
        devminor: x.devminor,
        xattrs: [...x.xattrs].map(([k, v]) => [k, v.toString('base64')]),
        body: (c.body ?? Buffer.alloc(0)).toString('base64'),
      };
    }),
  );
}

/** Builds the Go oracle once; null (and the reason) when Go is not installed. */
let oracle: Promise<{ bin: string } | { skip: string }> | undefined;
function goOracle(): Promise<{ bin: string } | { skip: string }> {
  oracle ??= (async () => {
    if (spawnSync('go', ['version']).error !== undefined) return { skip: 'go is not installed (apt-get install golang-go): Go oracle tests skipped' };
    const dir = await makeTmpDir(undefined, 'ocikit-gotar-');
    process.on('exit', () => spawnSync('rm', ['-rf', dir.path]));
    const bin = join(dir.path, 'gotar');
    const env = { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: process.env['GOCACHE'] ?? join(tmpdir(), 'ocikit-go-cache') };
    const r = spawnSync('go', ['build', '-o', bin, SOURCE], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`go build of the tar oracle failed: ${r.stderr}`);
    return { bin };
  })();
  return oracle;
}

function runOracle(bin: string, cases: Case[]): Buffer {
  const r = spawnSync(bin, [], { input: oracleJson(cases), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`gotar: ${r.stderr.toString()}`);
  return r.stdout;
}

async function writeAll(entries: Array<[TarHeader, Buffer | AsyncIterable<Buffer> | undefined]>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  for (const [hdr, body] of entries) await w.add(hdr, body);
  await w.finish();
  assert.equal(w.bytesWritten, Buffer.concat(chunks).length);
  return Buffer.concat(chunks);
}

/** First differing 512-byte block, for a readable failure. */
function firstDiff(a: Buffer, b: Buffer): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const blk = Math.floor(i / 512) * 512;
      return `first difference at byte ${i} (block at ${blk}, field offset ${i - blk}); ours ${a.length} bytes, Go ${b.length}\nours: ${JSON.stringify(a.subarray(blk, blk + 512).toString('latin1'))}\ngo:   ${JSON.stringify(b.subarray(blk, blk + 512).toString('latin1'))}`;
    }
  }
  return 'equal';
}

for (const c of CASES) {
  test(`writes the same bytes as Go's archive/tar: ${c.what}`, async (t) => {
    const o = await goOracle();
    if ('skip' in o) return t.skip(o.skip);
    const ours = await writeAll([[caseHeader(c), c.body]]);
    const go = runOracle(o.bin, [c]);
    assert.ok(ours.equals(go), firstDiff(ours, go));
  });
}

test("a whole archive of every case equals Go's, with bodies streamed in pieces", async (t) => {
  const o = await goOracle();
  if ('skip' in o) return t.skip(o.skip);
  async function* pieces(b: Buffer): AsyncIterable<Buffer> {
    for (let i = 0; i < b.length; i += 333) yield b.subarray(i, i + 333);
  }
  const ours = await writeAll(CASES.map((c) => [caseHeader(c), c.body === undefined ? undefined : pieces(c.body)]));
  const go = runOracle(o.bin, CASES);
  assert.ok(ours.equals(go), firstDiff(ours, go));
});

test('encodeHeader gives the header blocks alone', () => {
  const c = CASES.find((x) => x.what === 'binary capability xattr')!;
  const hdr = encodeHeader(caseHeader(c));
  assert.equal(hdr.length % 512, 0);
  assert.equal(hdr.length, 512 * 3); // PAX header, its records, the entry's header
  assert.equal(hdr[156], 0x78);
  assert.ok(hdr.includes(Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), CAPABILITY, Buffer.from('\n')])));
});

test('refuses a body whose length is not the header size, and stays refused', async () => {
  const w = new TarWriter(new PassThrough().resume());
  await assert.rejects(w.add(h({ name: 'f', size: 3 }), Buffer.from('ab')), hasCode('IO', /"f" is 2 bytes, its header says 3/));
  await assert.rejects(w.add(h({ name: 'g' }), Buffer.alloc(0)), hasCode('IO'));
  async function* more(): AsyncIterable<Buffer> {
    yield Buffer.from('abcd');
  }
  const w2 = new TarWriter(new PassThrough().resume());
  await assert.rejects(w2.add(h({ name: 'f', size: 3 }), more()), hasCode('IO', /more than 4 bytes/));
});

test('refuses headers Go cannot encode, without breaking the writer', async () => {
  const w = new TarWriter(new PassThrough().resume());
  await assert.rejects(w.add(h({ name: 'a\0b' })), hasCode('UNSAFE_ENTRY', /NUL/));
  await assert.rejects(w.add(h({ name: 'file/' })), hasCode('UNSAFE_ENTRY', /trailing slash/));
  await assert.rejects(w.add(h({ name: 'x', xattrs: new Map([['a=b', Buffer.from('1')]]) })), hasCode('UNSAFE_ENTRY', /xattr name/));
  await assert.rejects(w.add(h({ name: 'x', mode: 2 ** 60 })), hasCode('UNSAFE_ENTRY'));
  await w.add(h({ name: 'ok' }));
  await w.finish();
  assert.equal(w.bytesWritten, 512 * 3);
});

test('waits for drain when the output pushes back', async () => {
  let pending = 0;
  let maxPending = 0;
  const chunks: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      pending++;
      maxPending = Math.max(maxPending, pending);
      chunks.push(chunk);
      setImmediate(() => {
        pending--;
        cb();
      });
    },
  });
  const w = new TarWriter(slow);
  for (let i = 0; i < 50; i++) await w.add(h({ name: `f${i}` }, Buffer.alloc(3000, i)), Buffer.alloc(3000, i));
  await w.finish();
  const all = Buffer.concat(chunks);
  assert.equal(all.length, w.bytesWritten);
  const r = new TarReader((async function* () {
    yield all;
  })());
  let n = 0;
  while ((await r.next()) !== null) n++;
  assert.equal(n, 50);
});

test('what the writer wrote reads back field for field', async () => {
  const tar = await writeAll(CASES.map((c) => [caseHeader(c), c.body]));
  const r = new TarReader((async function* () {
    for (let i = 0; i < tar.length; i += 4000) yield tar.subarray(i, i + 4000);
  })());
  for (const c of CASES) {
    const want = caseHeader(c);
    const got = await r.next();
    assert.ok(got !== null, c.what);
    assert.equal(got.name, want.name, c.what);
    assert.equal(got.type, want.type, c.what);
    assert.equal(got.linkname, want.linkname, c.what);
    for (const k of ['mode', 'uid', 'gid', 'uname', 'gname', 'devmajor', 'devminor', 'size'] as const) assert.equal(got[k], want[k], `${c.what}: ${k}`);
    const sec = want.mtime.sec + (want.mtime.nsec >= 5e8 ? 1 : 0);
    assert.deepEqual(got.mtime, { sec, nsec: 0 }, c.what);
    // An empty value is no xattr on reading, as in Go's reader (and POSIX: it deletes the key).
    // Records come back in Go's order (sorted by key).
    const sorted = (m: Map<string, Buffer>): Array<[string, Buffer]> => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    assert.deepEqual(sorted(got.xattrs), sorted(want.xattrs).filter(([, v]) => v.length > 0), c.what);
    assert.deepEqual(await r.readBody(), c.body ?? Buffer.alloc(0), c.what);
  }
  assert.equal(await r.next(), null);
});
