/**
 * Confinement: no path, however hostile, resolves outside the root. Each row
 * builds a small tree of links inside a fresh root and checks where a name
 * lands. Named after the attack each row models.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot, secureJoin } from '../../src/fs/secure-join.js';
import { OcikitError } from '../../src/errors.js';

interface Row {
  attack: string;
  links?: Record<string, string>;
  dirs?: string[];
  path: string;
  follow?: boolean;
  want: string;
}

const rows: Row[] = [
  { attack: 'plain nested name', path: 'a/b/c', want: 'a/b/c' },
  { attack: 'leading slash', path: '/etc/passwd', want: 'etc/passwd' },
  { attack: 'dot-dot above the root', path: '../../../etc/passwd', want: 'etc/passwd' },
  { attack: 'dot-dot in the middle', path: 'a/../../b', want: 'b' },
  { attack: 'dot components and slashes', path: './a//./b/', want: 'a/b' },
  { attack: 'symlink to / then a child', links: { etc: '/' }, path: 'etc/passwd', want: 'passwd' },
  { attack: 'symlink to .. chain', links: { up: '../../..' }, path: 'up/etc/shadow', want: 'etc/shadow' },
  { attack: 'absolute symlink into the root', dirs: ['real'], links: { l: '/real' }, path: 'l/x', want: 'real/x' },
  { attack: 'relative symlink sideways', dirs: ['a', 'b'], links: { 'a/l': '../b' }, path: 'a/l/x', want: 'b/x' },
  { attack: 'chain of symlinks ending outside', links: { l1: 'l2', l2: 'l3', l3: '/../../tmp' }, path: 'l1/evil', want: 'tmp/evil' },
  { attack: 'dot-dot through a symlink', dirs: ['d/e'], links: { s: 'd/e' }, path: 's/../../x', want: 'x' },
  { attack: 'last component is a link, not followed', links: { l: '/etc' }, path: 'l', want: 'l' },
  { attack: 'last component is a link, followed', links: { l: '/../etc' }, path: 'l', follow: true, want: 'etc' },
  { attack: 'the root itself', path: '/', want: '' },
  { attack: 'a path through a missing directory', path: 'missing/../x', want: 'x' },
];

for (const row of rows) {
  test(`secure join confines: ${row.attack}`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'ocikit-sj-'));
    try {
      for (const d of row.dirs ?? []) await mkdir(join(root, d), { recursive: true });
      for (const [at, target] of Object.entries(row.links ?? {})) await symlink(target, join(root, at));
      assert.equal(await resolveInRoot(root, row.path, { follow: row.follow }), row.want);
      const host = await secureJoin(root, row.path, { follow: row.follow });
      assert.ok(host === root || host.startsWith(root + '/'), `${host} is outside ${root}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('secure join refuses a symlink loop', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ocikit-sj-'));
  try {
    await symlink('b', join(root, 'a'));
    await symlink('a', join(root, 'b'));
    await assert.rejects(resolveInRoot(root, 'a/x'), (e: unknown) => e instanceof OcikitError && e.code === 'UNSAFE_ENTRY');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
