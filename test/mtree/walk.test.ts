import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, link, lutimes, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as xattr from '@napi-rs/xattr';
import { walkTree, formatMode, Limiter } from '../../src/mtree/walk.js';
import { formatMtree } from '../../src/mtree/format.js';
import { parseMtree } from '../../src/mtree/parse.js';
import type { MtreeEntry } from '../../src/mtree/spec.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { goMtreeCheck, goMtreeChecker, umociBundle, umociBundleSkip } from '../tools/gomtree/oracle.js';

const HEADER = { user: 'root', machine: 'test', tree: 'rootfs', date: 'Mon Jan 2 15:04:05 2006' };

function byPath(entries: MtreeEntry[]): Map<string, Record<string, string>> {
  return new Map(entries.map((e) => [e.path, Object.fromEntries([...e.keywords].sort())]));
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('walkTree', () => {
  test('gives go-mtree values for every umoci keyword', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await mkdir(join(root, 'd'));
    await writeFile(join(root, 'd/f'), 'hello\n');
    await link(join(root, 'd/f'), join(root, 'd/hard'));
    await symlink('../d/f target', join(root, 'd/l'));
    await writeFile(join(root, 'suid'), 'x');
    await chmod(join(root, 'suid'), 0o4755);
    await writeFile(join(root, 'none'), '');
    await chmod(join(root, 'none'), 0);
    execFileSync('mkfifo', [join(root, 'fifo')]);
    await utimes(join(root, 'd/f'), 1234567890.999, 1234567890.999);
    await lutimes(join(root, 'd/l'), 1000, 1000);
    await utimes(join(root, 'd'), 42, 42);

    const m = byPath(await walkTree(root));
    assert.deepEqual([...m.keys()], ['.', 'd', 'd/f', 'd/hard', 'd/l', 'fifo', 'none', 'suid']);
    const f = m.get('d/f')!;
    assert.equal(f['type'], 'file');
    assert.equal(f['size'], '6');
    assert.equal(f['nlink'], '2');
    assert.equal(f['tar_time'], '1234567890.000000000'); // rounded down
    assert.equal(f['sha256digest'], sha256('hello\n'));
    assert.equal(f['uid'], String(process.getuid!()));
    assert.deepEqual(m.get('d/l'), {
      gid: String(process.getgid!()), link: '../d/f\\040target', mode: '0777', nlink: '1', size: '13',
      tar_time: '1000.000000000', type: 'link', uid: String(process.getuid!()),
    });
    assert.equal(m.get('d')!['tar_time'], '42.000000000');
    assert.equal(m.get('d')!['type'], 'dir');
    assert.equal(m.get('suid')!['mode'], '04755');
    assert.equal(m.get('none')!['mode'], '0');
    assert.equal(m.get('fifo')!['type'], 'fifo');
    assert.equal(m.get('fifo')!['sha256digest'], undefined);
    assert.equal(m.get('.')!['type'], 'dir');
  });

  test('records xattrs of files and directories only, with vis-encoded names and base64 values', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await writeFile(join(root, 'f'), 'x');
    await mkdir(join(root, 'd'));
    await xattr.setAttribute(join(root, 'f'), 'user.a b', Buffer.from([0x80, 0, 0xff]));
    await xattr.setAttribute(join(root, 'd'), 'user.dir', 'v');
    await symlink('f', join(root, 'l'));
    const m = byPath(await walkTree(root));
    assert.equal(m.get('f')!['xattr.user.a\\040b'], 'gAD/');
    assert.equal(m.get('d')!['xattr.user.dir'], 'dg==');
    assert.ok(!Object.keys(m.get('l')!).some((k) => k.startsWith('xattr.')));
  });

  test('computes only the keywords asked for, accepting synonyms', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await writeFile(join(root, 'f'), 'abc');
    await utimes(join(root, 'f'), 5.25, 5.25);
    const [, f] = await walkTree(root, { keywords: ['type', 'time', 'sha1', 'md5', 'flags'] });
    assert.deepEqual([...f!.keywords], [
      ['type', 'file'],
      ['time', '5.250000000'],
      ['sha1digest', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
      ['md5digest', '900150983cd24fb0d6963f7d28e17f72'],
      ['flags', 'none'],
    ]);
  });

  test('refuses keywords it cannot compute', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await assert.rejects(walkTree(root, { keywords: ['type', 'bogus'] }), { code: 'USAGE', message: /"bogus"/ });
    await assert.rejects(walkTree(root, { keywords: ['cksum'] }), { code: 'USAGE', message: /"cksum" is not supported/ });
  });

  test('takes sha256 digests from digestHint instead of reading the file', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await writeFile(join(root, 'a'), 'aaa');
    await writeFile(join(root, 'b'), 'bbb');
    const asked: string[] = [];
    const entries = await walkTree(root, {
      digestHint: (rel, st) => {
        asked.push(rel);
        assert.equal(Number(st.size), 3);
        return rel === 'a' ? 'f'.repeat(64) : undefined;
      },
    });
    assert.deepEqual(asked.sort(), ['a', 'b']);
    const m = byPath(entries);
    assert.equal(m.get('a')!['sha256digest'], 'f'.repeat(64));
    assert.equal(m.get('b')!['sha256digest'], sha256('bbb'));
  });

  test('leaves out excluded paths and everything under an excluded directory', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await mkdir(join(root, 'skip/deep'), { recursive: true });
    await writeFile(join(root, 'skip/deep/x'), '');
    await writeFile(join(root, 'keep'), '');
    const seen: string[] = [];
    const entries = await walkTree(root, { exclude: (p) => (seen.push(p), p === 'skip') });
    assert.deepEqual(entries.map((e) => e.path), ['.', 'keep']);
    assert.ok(!seen.includes('skip/deep'));
  });

  test('keeps names that are not UTF-8 byte-exact', async (t) => {
    const { path: root } = await makeTmpDir(t);
    const name = Buffer.from([0x61, 0xff, 0x62]);
    await writeFile(Buffer.concat([Buffer.from(root + '/'), name]), 'z');
    await xattr.setAttribute(join(root), 'user.root', 'r');
    const entries = await walkTree(root);
    const e = entries.find((x) => x.path !== '.')!;
    assert.deepEqual(e.pathBytes, name);
    assert.equal(e.keywords.get('sha256digest'), sha256('z'));
    const text = formatMtree(entries, HEADER);
    assert.match(text, /\n {4}a\\377b size=1 /);
  });

  test('hashes files larger than its read buffer, and empty files', async (t) => {
    const { path: root } = await makeTmpDir(t);
    const big = Buffer.alloc((5 << 19) + 7, 'xyz'); // 2.5 MiB + 7
    await writeFile(join(root, 'big'), big);
    await writeFile(join(root, 'empty'), '');
    const m = byPath(await walkTree(root));
    assert.equal(m.get('big')!['sha256digest'], createHash('sha256').update(big).digest('hex'));
    assert.equal(m.get('empty')!['sha256digest'], sha256(''));
  });

  test('hashes many files with a bounded number in flight', async (t) => {
    const { path: root } = await makeTmpDir(t);
    await Promise.all(Array.from({ length: 200 }, (_, i) => writeFile(join(root, `f${i}`), `content ${i}`)));
    const entries = await walkTree(root, { concurrency: 3 });
    assert.equal(entries.length, 201);
    for (const e of entries.slice(1)) assert.equal(e.keywords.get('sha256digest'), sha256(`content ${e.path.slice(1)}`));
  });
});

describe('Limiter', () => {
  test('never runs more than its size at once and hands each call a distinct slot', async () => {
    const lim = new Limiter(3);
    let active = 0;
    let peak = 0;
    const slots = new Set<number>();
    await Promise.all(
      Array.from({ length: 30 }, () =>
        lim.run(async (slot) => {
          assert.ok(!slots.has(slot));
          slots.add(slot);
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, 1));
          active--;
          slots.delete(slot);
        }),
      ),
    );
    assert.equal(peak, 3);
  });
});

test('formatMode writes Go %#o', () => {
  assert.equal(formatMode(0o100644), '0644');
  assert.equal(formatMode(0o42755), '02755');
  assert.equal(formatMode(0o1777), '01777');
  assert.equal(formatMode(0o100000), '0');
});

describe('walkTree against umoci 0.4.7 and go-mtree', () => {
  test('gives the entries umoci writes into the bundle mtree', async (t) => {
    const skip = umociBundleSkip();
    if (skip !== undefined) return t.skip(skip);
    const { path: dir } = await makeTmpDir(t);
    const { rootfs, mtree } = umociBundle(dir);
    const theirs = byPath(parseMtree(mtree));
    const ours = byPath(parseMtree(formatMtree(await walkTree(rootfs), HEADER)));
    assert.ok(theirs.size >= 15);
    assert.deepEqual(ours, theirs);
    // The capability value has a byte with the high bit set.
    assert.equal(Buffer.from(theirs.get('cap')!['xattr.security.capability']!, 'base64')[4], 0x80);
  });

  test('writes a manifest go-mtree accepts for the tree', async (t) => {
    const go = goMtreeChecker();
    if ('skip' in go) return t.skip(go.skip);
    const skip = umociBundleSkip();
    if (skip !== undefined) return t.skip(skip);
    const { path: dir } = await makeTmpDir(t);
    const { rootfs } = umociBundle(dir);
    const text = formatMtree(await walkTree(rootfs), HEADER);
    const r = goMtreeCheck(go.bin, text, rootfs, dir);
    assert.deepEqual(r.lines, []);
    assert.equal(r.status, 0);
    // and a changed tree is not accepted
    await writeFile(join(rootfs, 'd/f'), 'changed');
    assert.deepEqual(goMtreeCheck(go.bin, text, rootfs, dir).paths, ['d/f', 'd/hard']);
  });
});
