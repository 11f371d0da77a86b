/**
 * Resolving an image's `Config.User` against the rootfs's own `/etc/passwd`
 * and `/etc/group`, the way umoci does it through moby/sys/user
 * (`GetExecUserPath`, v0.4 as used by umoci 0.6) — including its odd-line
 * rules, so a config.json names the same uid/gid/groups/HOME as umoci's:
 *
 * - passwd lines are split like bufio.Scanner (on "\n", one trailing "\r"
 *   dropped; a line of 64 KiB or more fails the lookup), trimmed of Unicode
 *   white space, blank lines skipped. Comment lines are NOT skipped in
 *   passwd: `#x:...` is a user named "#x".
 * - group lines are split like bufio.Reader.ReadLine (no length limit),
 *   trimmed, and blank lines and lines starting with `#` are skipped.
 * - fields are split on every ":"; missing fields stay empty/0, extra fields
 *   are ignored; numeric fields are Go's strconv.Atoi with errors ignored
 *   ("abc" → 0, huge values clamp to the int64 range); the member list is
 *   split on "," without trimming.
 * - the user spec is split on every ":" too: "a:b:c" is user a, group b.
 * - first match wins; uids/gids are finally truncated to uint32 as Go's
 *   `uint32(int)` conversion does.
 *
 * Unlike umoci (which opens `rootfs/etc/passwd` with plain os.Open and so
 * follows a symlink out of the rootfs), the files are resolved inside the
 * rootfs with secureJoin: `/etc/passwd -> /etc/shadow` reads the rootfs's
 * own shadow file, never the host's. A missing or non-regular file (a FIFO,
 * a device, a directory) counts as absent, as newer moby/sys/user does;
 * files over 10 MiB are refused.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { OcikitError, errnoCode } from '../errors.js';
import { secureJoin } from '../fs/secure-join.js';

/** One /etc/passwd line. Text fields hold the raw bytes as latin1 strings (byte-exact comparisons). */
export interface PasswdEntry {
  name: string;
  pass: string;
  uid: bigint;
  gid: bigint;
  gecos: string;
  home: string;
  shell: string;
}

/** One /etc/group line (text fields as raw-byte latin1 strings). */
export interface GroupEntry {
  name: string;
  pass: string;
  gid: bigint;
  members: string[];
}

/** What a process runs as: umoci's `user.ExecUser` after its uint32 conversion. */
export interface ExecUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** from the matched passwd entry; absent when none matched or its field is empty */
  home?: string;
}

const MAX_USER_FILE = 10 << 20;
/** bufio.Scanner's default maximum token size: a passwd line this long fails the lookup. */
const SCANNER_MAX = 64 * 1024;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const MAX_ID = (1n << 31n) - 1n;
const ERR_RANGE = 'uids and gids must be in range 0-2147483647';

/** Go's strconv.Atoi on a 64-bit system: `[+-]?[0-9]+`, clamped to int64 when too large. */
export function goAtoi(s: string): { value: bigint; ok: boolean } {
  if (!/^[+-]?[0-9]+$/.test(s)) return { value: 0n, ok: false };
  const v = BigInt(s);
  if (v > INT64_MAX) return { value: INT64_MAX, ok: false };
  if (v < INT64_MIN) return { value: INT64_MIN, ok: false };
  return { value: v, ok: true };
}

/** Length in bytes of a Unicode white-space rune (unicode.IsSpace) starting at `i`, else 0. */
function spaceAt(b: Buffer, i: number): number {
  const c = b[i] ?? -1;
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return 1;
  const c1 = b[i + 1] ?? -1;
  if (c === 0xc2) return c1 === 0x85 || c1 === 0xa0 ? 2 : 0;
  const c2 = b[i + 2] ?? -1;
  if (c === 0xe1) return c1 === 0x9a && c2 === 0x80 ? 3 : 0; // U+1680
  if (c === 0xe3) return c1 === 0x80 && c2 === 0x80 ? 3 : 0; // U+3000
  if (c !== 0xe2) return 0;
  if (c1 === 0x80 && ((c2 >= 0x80 && c2 <= 0x8a) || c2 === 0xa8 || c2 === 0xa9 || c2 === 0xaf)) return 3;
  return c1 === 0x81 && c2 === 0x9f ? 3 : 0; // U+205F
}

/** bytes.TrimSpace: strips Unicode white space at both ends (invalid UTF-8 stops it). */
export function trimSpace(b: Buffer): Buffer {
  let start = 0;
  let end = b.length;
  for (let n = spaceAt(b, start); n > 0 && start < end; n = spaceAt(b, start)) start += n;
  while (end > start) {
    // The last rune is 1, 2 or 3 bytes long; try each start position (a space rune is never 4).
    let n = 0;
    for (const w of [1, 2, 3]) {
      if (end - w >= start && spaceAt(b, end - w) === w) {
        n = w;
        break;
      }
    }
    if (n === 0) break;
    end -= n;
  }
  return b.subarray(start, end);
}

/** Splits like bufio.ScanLines; `limit` reproduces bufio.Scanner's ErrTooLong. */
function splitLines(data: Buffer, limit: number | undefined): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    let nl = data.indexOf(0x0a, start);
    const last = nl < 0;
    if (last) nl = data.length;
    if (limit !== undefined && nl - start >= limit) throw new Error('bufio.Scanner: token too long');
    let end = nl;
    if (end > start && data[end - 1] === 0x0d) end--;
    out.push(data.subarray(start, end));
    start = nl + 1;
  }
  return out;
}

/** moby/sys/user parseLine: split on every ":", fill as many fields as there are parts. */
function fields(line: Buffer, count: number): string[] {
  const parts = line.toString('latin1').split(':');
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(parts[i] ?? '');
  return out;
}

function num(parts: string[], i: number): bigint {
  return goAtoi(parts[i] ?? '').value;
}

/** Parses passwd text by moby/sys/user's rules (see the module comment). Throws on a 64 KiB line. */
export function parsePasswd(data: Buffer): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const raw of splitLines(data, SCANNER_MAX)) {
    const line = trimSpace(raw);
    if (line.length === 0) continue;
    const f = fields(line, 7);
    out.push({ name: f[0]!, pass: f[1]!, uid: num(f, 2), gid: num(f, 3), gecos: f[4]!, home: f[5]!, shell: f[6]! });
  }
  return out;
}

/** Parses group text by moby/sys/user's rules (comments skipped, no line limit). */
export function parseGroup(data: Buffer): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const raw of splitLines(data, undefined)) {
    const line = trimSpace(raw);
    if (line.length === 0 || line[0] === 0x23) continue;
    // A line with no 4th field leaves the list nil; an empty 4th field gives [].
    const parts = line.toString('latin1').split(':');
    const list = parts[3];
    const members = list === undefined || list === '' ? [] : list.split(',');
    const f = fields(line, 3);
    out.push({ name: f[0]!, pass: f[1]!, gid: num(f, 2), members });
  }
  return out;
}

const toUint32 = (v: bigint): number => Number(BigInt.asUintN(32, v));
const bytesOf = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

function notFound(what: string, name: string, file: string): OcikitError {
  return new OcikitError('VALIDATION_FAILED', `unable to find ${what} ${name}: no matching entries in ${file} file`);
}

/**
 * moby/sys/user GetExecUser with default user 0:0 and no default groups.
 * `passwd`/`group` undefined means the file is absent (numeric IDs only).
 * Throws OcikitError('VALIDATION_FAILED') for a name that is not found, a
 * numeric ID outside 0..2^31-1 that is not found, or an unreadable passwd.
 */
export function resolveUserFrom(spec: string, passwd: Buffer | undefined, group: Buffer | undefined): ExecUser {
  const parts = spec.split(':');
  const userArg = parts[0] ?? '';
  const groupArg = parts[1] ?? '';
  const uidArg = goAtoi(userArg);
  const gidArg = goAtoi(groupArg);

  let uid = 0n;
  let gid = 0n;
  let home = '';
  let sgids: bigint[] = [];

  let users: PasswdEntry[] = [];
  if (passwd !== undefined) {
    const want = bytesOf(userArg);
    try {
      users = parsePasswd(passwd).filter((u) =>
        userArg === '' ? u.uid === 0n : uidArg.ok ? u.uid === uidArg.value : u.name === want,
      );
    } catch (err) {
      const name = userArg === '' ? '0' : userArg;
      throw new OcikitError('VALIDATION_FAILED', `unable to find user ${name}: ${(err as Error).message}`);
    }
  }
  let matchedName = '';
  const first = users[0];
  if (first !== undefined) {
    matchedName = first.name;
    uid = first.uid;
    gid = first.gid;
    home = first.home;
  } else if (userArg !== '') {
    if (!uidArg.ok) throw notFound('user', userArg, 'passwd');
    if (uidArg.value < 0n || uidArg.value > MAX_ID) throw new OcikitError('VALIDATION_FAILED', ERR_RANGE);
    uid = uidArg.value;
  }

  if (groupArg !== '' || matchedName !== '') {
    const want = bytesOf(groupArg);
    const groups = (group === undefined ? [] : parseGroup(group)).filter((g) =>
      groupArg === '' ? g.members.includes(matchedName) : gidArg.ok ? g.gid === gidArg.value : g.name === want,
    );
    if (groupArg !== '') {
      const g = groups[0];
      if (g !== undefined) {
        gid = g.gid;
      } else {
        if (!gidArg.ok) throw notFound('group', groupArg, 'group');
        if (gidArg.value < 0n || gidArg.value > MAX_ID) throw new OcikitError('VALIDATION_FAILED', ERR_RANGE);
        gid = gidArg.value;
      }
    } else {
      // Supplementary groups only in the implicit form (no group given).
      sgids = groups.map((g) => g.gid);
    }
  }
  const out: ExecUser = { uid: toUint32(uid), gid: toUint32(gid), additionalGids: sgids.map(toUint32) };
  if (home !== '') out.home = Buffer.from(home, 'latin1').toString('utf8');
  return out;
}

/**
 * Reads `rel` (e.g. "etc/passwd") inside `rootfs`, every symlink resolved
 * within the rootfs. Undefined when it is missing, cannot be opened or is
 * not a regular file (a FIFO is never waited on: opened non-blocking).
 */
export async function readRootfsFile(rootfs: string, rel: string): Promise<Buffer | undefined> {
  const path = await secureJoin(rootfs, rel, { follow: true });
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    // A symlink here means the tree changed under us since secureJoin: refuse rather than follow.
    if (errnoCode(err) === 'ELOOP') throw new OcikitError('UNSAFE_ENTRY', `${rel} in rootfs changed while being resolved`);
    return undefined; // like moby/sys/user: any open failure means "no such file"
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    if (st.size > MAX_USER_FILE) throw new OcikitError('UNSAFE_ENTRY', `${rel} in rootfs exceeds ${MAX_USER_FILE} bytes`);
    const data = await fh.readFile();
    if (data.length > MAX_USER_FILE) throw new OcikitError('UNSAFE_ENTRY', `${rel} in rootfs exceeds ${MAX_USER_FILE} bytes`);
    return data;
  } finally {
    await fh.close();
  }
}

/**
 * Resolves a `Config.User` value ("", "name", "uid", "name:group",
 * "uid:gid", …) against `rootfs` (undefined: numeric IDs only, as if both
 * files were missing). See the module comment for the rules.
 */
export async function resolveUser(rootfs: string | undefined, user: string): Promise<ExecUser> {
  if (rootfs === undefined) return resolveUserFrom(user, undefined, undefined);
  const [passwd, group] = await Promise.all([
    readRootfsFile(rootfs, 'etc/passwd'),
    readRootfsFile(rootfs, 'etc/group'),
  ]);
  return resolveUserFrom(user, passwd, group);
}
