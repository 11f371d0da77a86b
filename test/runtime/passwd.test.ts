import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { goAtoi, parseGroup, parsePasswd, resolveUser, resolveUserFrom, trimSpace } from '../../src/runtime/passwd.js';
import { hasCode } from '../helpers/assert.js';
import { makeTmpDir } from '../helpers/tmp.js';

const PASSWD = Buffer.from(
  [
    'root:x:0:0:root:/root:/bin/sh',
    'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
    'bob:x:1001:1001::/home/bob:/bin/sh',
    'nohome:x:1002:1002::',
    '1234:x:4321:4321::/home/numeric-name:/bin/sh',
    '',
  ].join('\n'),
);
const GROUP = Buffer.from(
  ['root:x:0:', 'alice:x:1000:', 'wheel:x:10:alice,root', 'staff:x:50:bob,alice', 'audio:x:63:bob', '5000:x:77:', ''].join('\n'),
);
/** resolveUserFrom with the fixtures above; an explicit `undefined` means "file missing". */
const r = (spec: string, ...files: [] | [Buffer | undefined] | [Buffer | undefined, Buffer | undefined]) =>
  resolveUserFrom(spec, files.length > 0 ? files[0] : PASSWD, files.length > 1 ? files[1] : GROUP);

describe('resolveUserFrom: every user form', () => {
  test('empty User is the passwd entry with uid 0, with its groups and home', () => {
    assert.deepEqual(r(''), { uid: 0, gid: 0, additionalGids: [10], home: '/root' });
  });
  test('empty User without a uid-0 entry (or without files) is 0:0, no home', () => {
    assert.deepEqual(r('', Buffer.from('alice:x:1000:1000::/h:\n')), { uid: 0, gid: 0, additionalGids: [] });
    assert.deepEqual(r('', undefined, undefined), { uid: 0, gid: 0, additionalGids: [] });
  });
  test('name: uid, gid, home and every group listing the name, in file order', () => {
    assert.deepEqual(r('alice'), { uid: 1000, gid: 1000, additionalGids: [10, 50], home: '/home/alice' });
    assert.deepEqual(r('bob'), { uid: 1001, gid: 1001, additionalGids: [50, 63], home: '/home/bob' });
  });
  test('uid: looked up by number, never as a name', () => {
    assert.deepEqual(r('1000'), { uid: 1000, gid: 1000, additionalGids: [10, 50], home: '/home/alice' });
    // "1234" is a user *name* in passwd, but a numeric spec matches uids only.
    assert.deepEqual(r('1234'), { uid: 1234, gid: 0, additionalGids: [] });
    assert.deepEqual(r('4321'), { uid: 4321, gid: 4321, additionalGids: [], home: '/home/numeric-name' });
    assert.deepEqual(r('+1000'), r('1000')); // strconv.Atoi accepts a sign
  });
  test('an unknown uid is used as is, with gid 0 and no home', () => {
    assert.deepEqual(r('4242'), { uid: 4242, gid: 0, additionalGids: [] });
    assert.deepEqual(r('2147483647', undefined, undefined), { uid: 2147483647, gid: 0, additionalGids: [] });
  });
  test('an unknown name is an error naming it', () => {
    assert.throws(() => r('mallory'), hasCode('VALIDATION_FAILED', /unable to find user mallory: no matching entries in passwd file/));
    assert.throws(() => r('alice', undefined, undefined), hasCode('VALIDATION_FAILED', /user alice/));
  });
  test('an unknown uid outside 0..2^31-1 is a range error', () => {
    assert.throws(() => r('2147483648'), hasCode('VALIDATION_FAILED', /range 0-2147483647/));
    assert.throws(() => r('-1'), hasCode('VALIDATION_FAILED', /range/));
    assert.throws(() => r('0:-5'), hasCode('VALIDATION_FAILED', /range/));
    // beyond int64 Atoi fails, so it is a name
    assert.throws(() => r('99999999999999999999'), hasCode('VALIDATION_FAILED', /user 99999999999999999999/));
  });
  test('name:group and uid:gid set the group and compute no supplementary groups', () => {
    assert.deepEqual(r('alice:staff'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/alice' });
    assert.deepEqual(r('1000:10'), { uid: 1000, gid: 10, additionalGids: [], home: '/home/alice' });
    assert.deepEqual(r('alice:63'), { uid: 1000, gid: 63, additionalGids: [], home: '/home/alice' });
    assert.deepEqual(r('1001:wheel'), { uid: 1001, gid: 10, additionalGids: [], home: '/home/bob' });
    assert.deepEqual(r('4242:4343'), { uid: 4242, gid: 4343, additionalGids: [] });
    assert.deepEqual(r('alice:5000'), { uid: 1000, gid: 5000, additionalGids: [], home: '/home/alice' }); // by gid, not the group named "5000"
  });
  test('an unknown group name is an error naming it', () => {
    assert.throws(() => r('alice:nogroup'), hasCode('VALIDATION_FAILED', /unable to find group nogroup: no matching entries in group file/));
    assert.throws(() => r('0:wheel', PASSWD, undefined), hasCode('VALIDATION_FAILED', /group wheel/));
  });
  test('":group" and "user:" and extra fields', () => {
    assert.deepEqual(r(':staff'), { uid: 0, gid: 50, additionalGids: [], home: '/root' });
    assert.deepEqual(r('alice:'), r('alice'));
    assert.deepEqual(r('alice:staff:ignored:too'), r('alice:staff'));
  });
  test('ids are truncated to uint32 like Go', () => {
    const p = Buffer.from('big:x:4294967296:-1::/b:\nhuge:x:99999999999999999999:1::/h:\n');
    assert.deepEqual(r('big', p, undefined), { uid: 0, gid: 4294967295, additionalGids: [], home: '/b' });
    assert.deepEqual(r('huge', p, undefined), { uid: 4294967295, gid: 1, additionalGids: [], home: '/h' });
  });
});

describe('moby/sys/user parsing of odd lines', () => {
  test('passwd: comments are NOT skipped, white space trimmed, CRLF, short lines, bad numbers', () => {
    const p = Buffer.from('#alice:x:7:7::/hash:\n \t alice:x:1000:1000::/home/alice:/bin/sh  \r\nbob:x:1001\nweird:x:abc:12::/w\n\n   \n');
    const entries = parsePasswd(p);
    assert.deepEqual(entries.map((e) => [e.name, e.uid, e.gid, e.home]), [
      ['#alice', 7n, 7n, '/hash'],
      ['alice', 1000n, 1000n, '/home/alice'],
      ['bob', 1001n, 0n, ''],
      ['weird', 0n, 12n, '/w'],
    ]);
    assert.deepEqual(r('#alice', p, undefined), { uid: 7, gid: 7, additionalGids: [], home: '/hash' });
    assert.deepEqual(r('bob', p, undefined), { uid: 1001, gid: 0, additionalGids: [] });
    // the first uid-0 entry is "weird" (uid "abc" parses as 0)
    assert.deepEqual(r('', p, undefined), { uid: 0, gid: 12, additionalGids: [], home: '/w' });
  });
  test('group: comments and blank lines skipped, members split on "," without trimming', () => {
    const g = Buffer.from('# wheel:x:10:alice\n  staff:x:50:bob, alice,alice \ngrp:x:60:alice\n\nshort:x\nempty:x:70:\n');
    assert.deepEqual(parseGroup(g).map((e) => [e.name, e.gid, e.members]), [
      ['staff', 50n, ['bob', ' alice', 'alice']],
      ['grp', 60n, ['alice']],
      ['short', 0n, []],
      ['empty', 70n, []],
    ]);
    const p = Buffer.from('alice:x:1000:1000::/h:\nbob:x:1001:1001::/b:\n');
    assert.deepEqual(r('alice', p, g).additionalGids, [50, 60]);
    assert.deepEqual(r('bob', p, g).additionalGids, [50]);
  });
  test('an entry with an empty name matched by uid computes no groups', () => {
    const p = Buffer.from(':x:0:0::/r:\n');
    const g = Buffer.from('g:x:5:,x\n');
    assert.deepEqual(r('', p, g), { uid: 0, gid: 0, additionalGids: [], home: '/r' });
  });
  test('a passwd line of 64 KiB or more fails the lookup (bufio.Scanner ErrTooLong); group lines do not', () => {
    const long = 'x'.repeat(65536);
    assert.throws(() => r('alice', Buffer.from(`alice:x:1:1::/h:\n${long}\n`), undefined), hasCode('VALIDATION_FAILED', /token too long/));
    assert.deepEqual(r('alice', Buffer.from(`alice:x:1:1::/h:\n${'x'.repeat(65535)}\n`), undefined).uid, 1);
    const g = Buffer.from(`big:x:9:${'y,'.repeat(40000)}alice\n`);
    assert.deepEqual(r('alice', Buffer.from('alice:x:1:1::/h:\n'), g).additionalGids, [9]);
  });
  test('Unicode white space is trimmed like bytes.TrimSpace; names compare byte for byte', () => {
    assert.equal(trimSpace(Buffer.from('\u00a0\u3000 é \u2028\u0085')).toString(), 'é');
    assert.equal(trimSpace(Buffer.from([0xff, 0x20])).toString('latin1'), '\xff');
    const p = Buffer.from('\u00a0jos\u00e9:x:5:5::/home/jos\u00e9:\n');
    assert.deepEqual(r('jos\u00e9', p, undefined), { uid: 5, gid: 5, additionalGids: [], home: '/home/jos\u00e9' });
  });
  test('goAtoi follows strconv.Atoi', () => {
    assert.deepEqual(goAtoi('42'), { value: 42n, ok: true });
    assert.deepEqual(goAtoi('-7'), { value: -7n, ok: true });
    assert.deepEqual(goAtoi('+007'), { value: 7n, ok: true });
    for (const bad of ['', '+', '-', ' 1', '1 ', '0x10', '1_000', '١']) assert.deepEqual(goAtoi(bad), { value: 0n, ok: false }, bad);
    assert.deepEqual(goAtoi('9223372036854775808'), { value: 9223372036854775807n, ok: false });
    assert.deepEqual(goAtoi('-9223372036854775809'), { value: -9223372036854775808n, ok: false });
  });
});

describe('resolveUser reads the rootfs safely', () => {
  async function rootfs(t: Parameters<typeof makeTmpDir>[0]): Promise<string> {
    const tmp = await makeTmpDir(t);
    const root = join(tmp.path, 'rootfs');
    await mkdir(join(root, 'etc'), { recursive: true });
    return root;
  }

  test('reads etc/passwd and etc/group of the rootfs', async (t) => {
    const root = await rootfs(t);
    await writeFile(join(root, 'etc/passwd'), PASSWD);
    await writeFile(join(root, 'etc/group'), GROUP);
    assert.deepEqual(await resolveUser(root, 'alice'), { uid: 1000, gid: 1000, additionalGids: [10, 50], home: '/home/alice' });
  });

  test('missing files mean numeric ids only; no rootfs likewise', async (t) => {
    const root = await rootfs(t);
    assert.deepEqual(await resolveUser(root, '1000:1000'), { uid: 1000, gid: 1000, additionalGids: [] });
    await assert.rejects(resolveUser(root, 'alice'), hasCode('VALIDATION_FAILED', /user alice/));
    assert.deepEqual(await resolveUser(undefined, '5'), { uid: 5, gid: 0, additionalGids: [] });
  });

  const hostile: [string, string][] = [
    ['an absolute symlink to /etc/shadow', '/etc/shadow'],
    ['a relative symlink climbing out (../../etc/passwd)', '../../../../../../etc/shadow'],
  ];
  for (const [name, target] of hostile) {
    test(`etc/passwd as ${name} reads inside the rootfs, never the host`, async (t) => {
      const root = await rootfs(t);
      await writeFile(join(root, 'etc/shadow'), 'inside:x:4242:4343::/inside:\n');
      await symlink(target, join(root, 'etc/passwd'));
      assert.deepEqual(await resolveUser(root, 'inside'), { uid: 4242, gid: 4343, additionalGids: [], home: '/inside' });
      // The host's root entry must not be visible.
      assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [] });
    });
  }

  test('etc -> / and passwd -> ../../etc/passwd stay in the rootfs', async (t) => {
    const root = await rootfs(t);
    await mkdir(join(root, 'real'), { recursive: true });
    await writeFile(join(root, 'real/passwd'), 'confined:x:7:7::/c:\n');
    await mkdir(join(root, 'x'));
    await symlink('/real', join(root, 'x/etc'));
    // rootfs/etc/passwd -> ../../../x/etc/passwd -> /real/passwd (inside)
    await symlink('../../../x/etc/passwd', join(root, 'etc/passwd'));
    assert.deepEqual(await resolveUser(root, 'confined'), { uid: 7, gid: 7, additionalGids: [], home: '/c' });
  });

  test('a host /etc/passwd is not read through an etc symlink to /', async (t) => {
    const tmp = await makeTmpDir(t);
    const root = join(tmp.path, 'rootfs');
    await mkdir(root);
    await symlink('/', join(root, 'etc')); // rootfs/etc -> rootfs itself
    await assert.rejects(resolveUser(root, 'root'), hasCode('VALIDATION_FAILED', /user root/));
  });

  test('a FIFO, a directory or a device as etc/passwd counts as missing (and never blocks)', async (t) => {
    const root = await rootfs(t);
    execFileSync('mkfifo', [join(root, 'etc/passwd')]);
    await mkdir(join(root, 'etc/group'));
    assert.deepEqual(await resolveUser(root, '3:4'), { uid: 3, gid: 4, additionalGids: [] });
    await assert.rejects(resolveUser(root, 'root'), hasCode('VALIDATION_FAILED'));
  });

  test('refuses a passwd over 10 MiB', async (t) => {
    const root = await rootfs(t);
    await writeFile(join(root, 'etc/passwd'), Buffer.alloc(10 * 1024 * 1024 + 1, 0x0a));
    await assert.rejects(resolveUser(root, '0'), hasCode('UNSAFE_ENTRY', /etc\/passwd/));
  });
});
