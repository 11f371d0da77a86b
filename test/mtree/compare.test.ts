import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as xattr from '@napi-rs/xattr';
import { compareTree, type MtreeDifference } from '../../src/mtree/compare.js';
import { walkTree } from '../../src/mtree/walk.js';
import { formatMtree } from '../../src/mtree/format.js';
import { parseMtree } from '../../src/mtree/parse.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { goMtreeCheck, goMtreeChecker, umociBundle, umociBundleSkip } from '../tools/gomtree/oracle.js';

const HEADER = { user: 'root', machine: 'test', tree: 'rootfs', date: 'Mon Jan 2 15:04:05 2006' };

const summary = (ds: MtreeDifference[]): string[] => ds.map((d) => `${d.kind} ${d.path}`);

/** A tree with a directory of two files and a top-level file, and its manifest. */
async function fixture(t: Parameters<typeof makeTmpDir>[0], keywords?: string[]) {
  const { path: root } = await makeTmpDir(t);
  await mkdir(join(root, 'dir/sub'), { recursive: true });
  await writeFile(join(root, 'dir/a'), 'aaa');
  await writeFile(join(root, 'dir/sub/b'), 'bbb');
  await writeFile(join(root, 'top'), 'top');
  const manifest = parseMtree(formatMtree(await walkTree(root, { keywords }), HEADER, { keywords }));
  return { root, manifest };
}

describe('compareTree', () => {
  test('finds nothing for an unchanged tree', async (t) => {
    const { root, manifest } = await fixture(t);
    assert.deepEqual(await compareTree(root, manifest), []);
  });

  test('reports a missing directory and each of its children, sorted by path', async (t) => {
    const { root, manifest } = await fixture(t);
    await rm(join(root, 'dir'), { recursive: true });
    assert.deepEqual(summary(await compareTree(root, manifest)), [
      'modified .', // nlink and mtime of the parent
      'missing dir',
      'missing dir/a',
      'missing dir/sub',
      'missing dir/sub/b',
    ]);
  });

  test('reports an added directory and each of its children as extra, without keys', async (t) => {
    const { root, manifest } = await fixture(t);
    await mkdir(join(root, 'new/deeper'), { recursive: true });
    await writeFile(join(root, 'new/deeper/x'), '');
    const ds = (await compareTree(root, manifest)).filter((d) => d.path !== '.');
    assert.deepEqual(summary(ds), ['extra new', 'extra new/deeper', 'extra new/deeper/x']);
    assert.ok(ds.every((d) => d.keys.length === 0));
  });

  test('reports a directory replaced by a file as modified and its old children as missing', async (t) => {
    const { root, manifest } = await fixture(t);
    await rm(join(root, 'dir/sub'), { recursive: true });
    await writeFile(join(root, 'dir/sub'), 'now a file');
    const ds = await compareTree(root, manifest);
    assert.deepEqual(summary(ds).filter((s) => s.includes('sub')), ['modified dir/sub', 'missing dir/sub/b']);
    const sub = ds.find((d) => d.path === 'dir/sub')!;
    assert.deepEqual(sub.keys.find((k) => k.keyword === 'type'), { keyword: 'type', expected: 'dir', got: 'file' });
  });

  test('treats an xattr on one side only as a difference', async (t) => {
    const { root } = await fixture(t);
    await xattr.setAttribute(join(root, 'top'), 'user.gone', 'x');
    const manifest = parseMtree(formatMtree(await walkTree(root), HEADER));
    await xattr.removeAttribute(join(root, 'top'), 'user.gone');
    await xattr.setAttribute(join(root, 'dir/a'), 'user.new', 'y');
    const ds = await compareTree(root, manifest);
    assert.deepEqual(ds, [
      { path: 'dir/a', kind: 'modified', keys: [{ keyword: 'xattr.user.new', got: 'eQ==' }] },
      { path: 'top', kind: 'modified', keys: [{ keyword: 'xattr.user.gone', expected: 'eA==' }] },
    ]);
  });

  test('compares tar_time in whole seconds', async (t) => {
    const { root, manifest } = await fixture(t);
    await utimes(join(root, 'top'), 1000.25, 1000.25);
    const again = parseMtree(formatMtree(await walkTree(root), HEADER));
    await utimes(join(root, 'top'), 1000.75, 1000.75);
    assert.deepEqual(await compareTree(root, again), []);
    await utimes(join(root, 'top'), 1001, 1001);
    assert.deepEqual(await compareTree(root, again), [
      { path: 'top', kind: 'modified', keys: [{ keyword: 'tar_time', expected: '1000.000000000', got: '1001.000000000' }] },
    ]);
    assert.equal((await compareTree(root, manifest)).length, 1);
  });

  test('compares a "time" manifest exactly, or in whole seconds when tar_time is asked for', async (t) => {
    const kws = ['type', 'size', 'time'];
    const { root } = await fixture(t);
    await utimes(join(root, 'top'), 1000.25, 1000.25);
    const manifest = parseMtree(formatMtree(await walkTree(root, { keywords: kws }), HEADER, { keywords: kws }));
    await utimes(join(root, 'top'), 1000.5, 1000.5);
    assert.deepEqual(await compareTree(root, manifest, { keywords: kws }), [
      { path: 'top', kind: 'modified', keys: [{ keyword: 'time', expected: '1000.250000000', got: '1000.500000000' }] },
    ]);
    assert.deepEqual(await compareTree(root, manifest, { keywords: ['type', 'size', 'tar_time'] }), []);
  });

  test('reports a keyword the manifest lacks on every file the walk computes it for', async (t) => {
    const { root, manifest } = await fixture(t, ['type', 'size', 'sha256digest']);
    const ds = await compareTree(root, manifest, { keywords: ['sha1digest'] });
    assert.deepEqual(summary(ds), ['modified dir/a', 'modified dir/sub/b', 'modified top']);
    assert.deepEqual(ds[2]!.keys, [{ keyword: 'sha1digest', got: createHash('sha1').update('top').digest('hex') }]);
  });

  test('ignores keys outside the keyword list but always compares type', async (t) => {
    const { root, manifest } = await fixture(t);
    await chmod(join(root, 'top'), 0o600);
    assert.deepEqual(await compareTree(root, manifest, { keywords: ['size'] }), []);
    await rm(join(root, 'top'));
    await symlink('x', join(root, 'top'));
    const ds = await compareTree(root, manifest, { keywords: ['uid'] });
    assert.deepEqual(ds, [{ path: 'top', kind: 'modified', keys: [{ keyword: 'type', expected: 'file', got: 'link' }] }]);
  });

  test('does not hash files whose size changed, nor files not in the manifest', async (t) => {
    const { root, manifest } = await fixture(t);
    await writeFile(join(root, 'dir/a'), 'longer');
    await writeFile(join(root, 'dir/sub/b'), 'BBB'); // same size, other content
    await writeFile(join(root, 'added'), 'new');
    const hashed: string[] = [];
    const ds = await compareTree(root, manifest, { digestHint: (p) => void hashed.push(p) });
    assert.deepEqual(hashed.sort(), ['dir/sub/b', 'top']);
    assert.deepEqual(summary(ds.filter((d) => d.path !== '.')), ['extra added', 'modified dir/a', 'modified dir/sub/b']);
    assert.deepEqual(ds.find((d) => d.path === 'dir/a')!.keys, [{ keyword: 'size', expected: '3', got: '6' }]);
    assert.equal(ds.find((d) => d.path === 'dir/sub/b')!.keys[0]!.keyword, 'sha256digest');
  });

  test('leaves excluded paths out on both sides', async (t) => {
    const { root, manifest } = await fixture(t);
    await rm(join(root, 'dir/sub'), { recursive: true });
    await writeFile(join(root, 'dir/sub'), 'x');
    await writeFile(join(root, 'masked'), 'x');
    const ds = await compareTree(root, manifest, { exclude: (p) => p === 'dir/sub' || p === 'masked' });
    assert.deepEqual(summary(ds).filter((s) => !s.endsWith(' .') && !s.endsWith(' dir')), []);
  });
});

/**
 * The edits repack must notice, applied to a umoci-unpacked rootfs; each is a
 * shell command run in the rootfs.
 */
const EDITS = [
  'echo more >> d/f', // content (and its hardlink d/hard)
  'printf Y > xa', // same size, new content
  'chmod 0600 suid',
  'chown 7:8 own/f',
  'touch -d "1999-01-01 00:00:00" cap',
  'touch -d "@$(stat -c %Y own/deep)".5 own/deep', // sub-second only: no difference
  'echo new > added && mkdir -p newdir/x && touch newdir/x/y',
  'rm fifo',
  'rm -r d/sub && echo f > d/sub', // directory replaced by a file
  'setfattr -n user.added -v 1 own/f',
  'setfattr -x user.foo xa',
  'ln -sfn elsewhere "sp ace/l"',
  'rm -r own/deep',
];

describe('compareTree against go-mtree on a umoci bundle', () => {
  test('finds the same changed paths as go-mtree Check, before and after edits', async (t) => {
    const go = goMtreeChecker();
    if ('skip' in go) return t.skip(go.skip);
    const skip = umociBundleSkip();
    if (skip !== undefined) return t.skip(skip);
    const { path: dir } = await makeTmpDir(t);
    const { rootfs, mtree } = umociBundle(dir);
    const manifest = parseMtree(mtree);
    assert.deepEqual(await compareTree(rootfs, manifest), []);
    assert.equal(goMtreeCheck(go.bin, mtree, rootfs, dir).status, 0);

    execFileSync('sh', ['-c', EDITS.join('\n')], { cwd: rootfs });
    const ours = await compareTree(rootfs, manifest);
    const theirs = goMtreeCheck(go.bin, mtree, rootfs, dir);
    assert.deepEqual(ours.map((d) => d.path), theirs.paths);
    for (const p of ['d/f', 'd/hard', 'xa', 'suid', 'own/f', 'cap', 'added', 'newdir/x/y', 'fifo', 'd/sub', 'sp ace/l', 'own/deep/empty-mode']) {
      assert.ok(theirs.paths.includes(p), `go-mtree reports ${p}`);
    }
    assert.ok(!theirs.paths.includes('own/deep') || ours.find((d) => d.path === 'own/deep')!.kind === 'missing');
    // kinds agree with go-mtree's wording
    const kinds = new Map(theirs.lines.map((l) => [JSON.parse(l.slice(0, l.indexOf('": ') + 1)) as string, l]));
    for (const d of ours) {
      const line = kinds.get(d.path)!;
      const want = d.kind === 'extra' ? 'unexpected path' : d.kind === 'missing' ? 'missing path' : 'keyword';
      assert.ok(line.includes(want), `${d.path}: ${line}`);
    }
  });
});
