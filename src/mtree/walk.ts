/**
 * Walk a directory tree and describe it as go-mtree's `Walk` would: one
 * `MtreeEntry` per file (the root '.' included), with the keyword values
 * go-mtree computes on Linux. This is what `unpack` writes as the bundle's
 * mtree and what `compareTree` checks a rootfs against.
 *
 * Values, as go-mtree prints them:
 * - `size` st_size (a symlink's target length, a directory's block size);
 * - `type` dir, file, link, fifo, socket, char, block;
 * - `uid`, `gid`, `nlink` decimal; `uname`/`gname` from the host's
 *   /etc/passwd and /etc/group (left out when there is no such entry);
 * - `mode` the permission, setuid, setgid and sticky bits as Go's `%#o`
 *   (`0755`, `04755`, `0` for none);
 * - `link` the symlink target, vis(3)-encoded;
 * - `time` `<sec>.<nsec, 9 digits>`; `tar_time` `<sec>.000000000` (seconds
 *   rounded down, as Go's `Time.Unix`);
 * - `flags` is never computed, but go-mtree's walk puts `flags=none` in its
 *   `/set`, so every walked entry carries it when the keyword is asked for;
 * - digests (`md5digest`, `sha1digest`, `sha256digest`, `sha384digest`,
 *   `sha512digest`, `ripemd160digest`) for regular files only;
 * - `xattr` one `xattr.<vis name>=<base64 value>` per extended attribute, in
 *   the order the kernel lists them, for regular files and directories only
 *   (go-mtree never reads them from symlinks, fifos, sockets or devices, and
 *   skips no name: `security.selinux` and `security.capability` are recorded
 *   like any other).
 *
 * Regular files are hashed with a bounded number in flight, each read in
 * chunks into a buffer owned by its slot; `digestHint` supplies sha256
 * digests the caller already knows so those files are not read at all.
 */
import { open, readdir, readlink, readFile } from 'node:fs/promises';
import * as fs from 'node:fs';
import { constants, type BigIntStats } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import * as xattr from '@napi-rs/xattr';
import { OcikitError, errnoCode, wrap } from '../errors.js';
import { UMOCI_MTREE_KEYWORDS, type MtreeEntry, type MtreeType } from './spec.js';
import { visEncode } from './vis.js';
import { withUnprivAccess, type ModeOverride } from './unpriv.js';
import { eachLimit } from '../util/each-limit.js';

export interface WalkOptions {
  /** Keywords to compute, in output order (default umoci's). Synonyms (`sha256`, `xattrs`…) are accepted. */
  keywords?: readonly string[];
  /** Regular files hashed at once (default 16); metadata calls get four times as many. */
  concurrency?: number;
  /**
   * The sha256 hex digest of a regular file when the caller already knows it
   * (the extractor hashed it while writing); `undefined` to have it read.
   * Called with the entry's relative path and its lstat.
   */
  digestHint?: (relPath: string, id: FileIdentity) => string | undefined;
  /** True to leave a path out; a directory is left out with everything under it. Never called for '.'. */
  exclude?: (relPath: string) => boolean;
}

/** go-mtree's `KeywordSynonym`: the canonical name of a keyword. */
export function keywordSynonym(name: string): string {
  return SYNONYMS[name] ?? name;
}

const SYNONYMS: Record<string, string> = {
  md5: 'md5digest',
  rmd160: 'ripemd160digest',
  rmd160digest: 'ripemd160digest',
  sha1: 'sha1digest',
  sha256: 'sha256digest',
  sha384: 'sha384digest',
  sha512: 'sha512digest',
  sha512256: 'sha512256digest',
  xattrs: 'xattr',
};

/** Digest keywords and the node:crypto algorithm of each. */
export const DIGEST_ALGORITHMS: Readonly<Record<string, string>> = {
  md5digest: 'md5',
  sha1digest: 'sha1',
  sha256digest: 'sha256',
  sha384digest: 'sha384',
  sha512digest: 'sha512',
  ripemd160digest: 'ripemd160',
};

/** Every canonical keyword `walkTree` can compute. */
export const WALK_KEYWORDS: readonly string[] = [
  'size', 'type', 'uid', 'gid', 'uname', 'gname', 'mode', 'link', 'nlink', 'time', 'tar_time', 'flags', 'xattr',
  ...Object.keys(DIGEST_ALGORITHMS),
];

/** Keywords go-mtree knows but ocikit does not compute. */
export const UNSUPPORTED_KEYWORDS: readonly string[] = ['cksum', 'sha512256digest'];

/** Canonical names of `keywords`, without duplicates; throws USAGE on one `walkTree` cannot compute. */
export function normalizeKeywords(keywords: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of keywords) {
    const kw = keywordSynonym(raw);
    if (!WALK_KEYWORDS.includes(kw)) {
      const why = UNSUPPORTED_KEYWORDS.includes(kw) ? 'is not supported' : 'is not an mtree keyword';
      throw new OcikitError('USAGE', `keyword ${JSON.stringify(kw)} ${why}`);
    }
    if (!out.includes(kw)) out.push(kw);
  }
  return out;
}

/** A bounded pool: at most `n` calls of `run` are in progress; a finished one hands its slot to the next waiter. */
export class Limiter {
  private active = 0;
  /** FIFO of waiters; `head` is the next one (an array with a moving head, so dequeuing is O(1)). */
  private waiting: Array<(slot: number) => void> = [];
  private head = 0;
  private readonly free: number[];

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  async run<T>(fn: (slot: number) => Promise<T>): Promise<T> {
    let slot: number;
    if (this.active < this.size) {
      this.active++;
      slot = this.free.pop()!;
    } else {
      slot = await new Promise<number>((r) => this.waiting.push(r));
    }
    try {
      return await fn(slot);
    } finally {
      this.release(slot);
    }
  }

  private release(slot: number): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as never;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      next(slot);
    } else {
      this.active--;
      this.free.push(slot);
    }
  }
}

const CHUNK = 1 << 20;

/**
 * Hashes regular files with one `Limiter` slot per open file and one reusable
 * read buffer per slot. Opening with O_NOFOLLOW refuses a file that was
 * swapped for a symlink after it was looked at.
 */
export class FileHasher {
  private readonly limiter: Limiter;
  private readonly buffers: Buffer[] = [];

  constructor(readonly width: number) {
    this.limiter = new Limiter(width);
  }

  /** Hex digests of the file at `hostPath` (lstat size `size`), one per node:crypto algorithm name. */
  digest(hostPath: string | Buffer, size: number, algorithms: readonly string[]): Promise<string[]> {
    return this.limiter.run((slot) => {
      const buf = (this.buffers[slot] ??= Buffer.allocUnsafe(CHUNK));
      return hashFile(hostPath, size, buf, algorithms);
    });
  }
}

/**
 * Read a file through `buf` into fresh hashes. Callback fs calls on a raw fd:
 * a FileHandle and a promise per read cost more than the hashing of the
 * small files most trees are made of.
 */
function hashFile(hostPath: string | Buffer, size: number, buf: Buffer, algorithms: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let total = 0;
    const hashes: Hash[] = algorithms.map((a) => createHash(a));
    fs.open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW, (err, fd) => {
      if (err) return reject(err);
      const finish = (e: Error | null): void => {
        fs.close(fd, (ce) => {
          const fail = e ?? ce;
          if (fail) reject(fail);
          else resolve(hashes.map((h) => h.digest('hex')));
        });
      };
      const next = (): void => {
        fs.read(fd, buf, 0, buf.length, null, (re, n) => {
          if (re) return finish(re);
          if (n > 0) {
            const chunk = buf.subarray(0, n);
            for (const h of hashes) h.update(chunk);
          }
          total += n;
          // A short read that reached the size lstat gave is the end: skip the read that would return 0.
          if (n === 0 || (n < buf.length && total >= size)) return finish(null);
          next();
        });
      };
      next();
    });
  });
}

/** lstat with nanosecond times, through the callback API (lighter than fs/promises). */
function lstatBig(p: string | Buffer): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fs.lstat(p, { bigint: true }, (err, st) => (err ? reject(err) : resolve(st))));
}

/** What identifies a file's content version: a digest taken for this inode stays valid while its ctime does. */
export interface FileIdentity {
  ino: bigint;
  size: bigint;
  ctimeNs: bigint;
}

/** One walked file: its entry (keywords in keyword order, digests not yet filled in) and where it is. */
export interface ScannedFile {
  entry: MtreeEntry;
  hostPath: string | Buffer;
  /** Cleaned relative path as a binary (latin1) string, byte-exact: the key compare uses. */
  key: string;
  /** Only what digests need, not the whole lstat: a tree has hundreds of thousands of these. */
  st: FileIdentity;
}

const S_IFMT = 0o170000n;
const TYPES: ReadonlyArray<[bigint, MtreeType]> = [
  [0o040000n, 'dir'],
  [0o100000n, 'file'],
  [0o120000n, 'link'],
  [0o010000n, 'fifo'],
  [0o140000n, 'socket'],
  [0o020000n, 'char'],
  [0o060000n, 'block'],
];

function typeOf(st: BigIntStats): MtreeType {
  const fmt = st.mode & S_IFMT;
  for (const [bits, t] of TYPES) if (bits === fmt) return t;
  throw new OcikitError('IO', `unknown file type ${fmt.toString(8)}`);
}

/** Go's `%#o` of the permission bits plus setuid/setgid/sticky. */
export function formatMode(mode: number): string {
  const m = mode & 0o7777;
  return m === 0 ? '0' : '0' + m.toString(8);
}

const NS = 1_000_000_000n;

/** Seconds and nanoseconds of a bigint mtime, seconds rounded down like Go's `Time.Unix`. */
function splitTime(ns: bigint): [bigint, bigint] {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS;
  }
  return [sec, nsec];
}

let idNames: Promise<{ users: Map<string, string>; groups: Map<string, string> }> | undefined;

/** The host's uid → name and gid → name tables (first entry wins, as getpwuid does). */
function loadIdNames(): Promise<{ users: Map<string, string>; groups: Map<string, string> }> {
  const table = async (file: string): Promise<Map<string, string>> => {
    const m = new Map<string, string>();
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && !line.startsWith('#') && !m.has(f[2]!)) m.set(f[2]!, f[0]!);
    }
    return m;
  };
  idNames ??= Promise.all([table('/etc/passwd'), table('/etc/group')]).then(([users, groups]) => ({ users, groups }));
  return idNames;
}

/**
 * xattrs of a regular file or directory, as `[vis name, base64 value]`.
 * @napi-rs/xattr takes string paths only, so a name that is not UTF-8 is
 * reached through the open file's /proc/self/fd link.
 */
async function readXattrs(hostPath: string | Buffer, isDir: boolean): Promise<Array<[string, string]>> {
  const read = async (p: string): Promise<Array<[string, string]>> => {
    const out: Array<[string, string]> = [];
    for (const name of await xattr.listAttributes(p)) {
      const value = await xattr.getAttribute(p, name);
      if (value === null) continue; // removed meanwhile
      out.push([`xattr.${visEncode(name)}`, value.toString('base64')]);
    }
    return out;
  };
  try {
    if (typeof hostPath === 'string') return await read(hostPath);
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | (isDir ? constants.O_DIRECTORY : constants.O_NONBLOCK);
    const fh = await open(hostPath, flags);
    try {
      return await read(`/proc/self/fd/${fh.fd}`);
    } finally {
      await fh.close();
    }
  } catch (err) {
    // Like go-mtree: a filesystem without xattr support has none.
    if (errnoCode(err) === 'ENOTSUP' || /not supported/i.test(String((err as Error).message))) return [];
    throw err;
  }
}

function joinHost(dir: string | Buffer, name: Buffer): string | Buffer {
  if (typeof dir === 'string' && isUtf8(name)) return `${dir}/${name.toString('utf8')}`;
  return Buffer.concat([typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir, Buffer.from('/'), name]);
}

/** The path (and, when they are not UTF-8, the exact bytes) of a binary path key. */
export function entryPath(key: string): { path: string; pathBytes?: Buffer } {
  const bytes = Buffer.from(key, 'latin1');
  return isUtf8(bytes) ? { path: bytes.toString('utf8') } : { path: bytes.toString('utf8'), pathBytes: bytes };
}

/**
 * Walk `root` and compute every keyword except digests; the caller decides
 * which regular files to hash. Entries come in no particular order.
 */
export async function scanTree(
  root: string,
  opts: { keywords: readonly string[]; concurrency: number; exclude?: (relPath: string) => boolean; modeOverride?: ModeOverride },
): Promise<ScannedFile[]> {
  const kws = opts.keywords.filter((k) => DIGEST_ALGORITHMS[k] === undefined);
  const ids = kws.includes('uname') || kws.includes('gname') ? await loadIdNames() : undefined;
  const out: ScannedFile[] = [];

  const describe = async (hostPath: string | Buffer, key: string): Promise<ScannedFile> => {
    const st = await lstatBig(hostPath);
    const type = typeOf(st);
    const keywords = new Map<string, string>();
    const [sec, nsec] = splitTime(st.mtimeNs);
    for (const kw of kws) {
      switch (kw) {
        case 'size': keywords.set(kw, st.size.toString()); break;
        case 'type': keywords.set(kw, type); break;
        case 'uid': keywords.set(kw, st.uid.toString()); break;
        case 'gid': keywords.set(kw, st.gid.toString()); break;
        case 'nlink': keywords.set(kw, st.nlink.toString()); break;
        case 'mode': keywords.set(kw, formatMode(opts.modeOverride?.get(key) ?? Number(st.mode))); break;
        case 'time': keywords.set(kw, `${sec}.${nsec.toString().padStart(9, '0')}`); break;
        case 'tar_time': keywords.set(kw, `${sec}.000000000`); break;
        case 'flags': keywords.set(kw, 'none'); break;
        case 'uname': {
          const n = ids!.users.get(st.uid.toString());
          if (n !== undefined) keywords.set(kw, n);
          break;
        }
        case 'gname': {
          const n = ids!.groups.get(st.gid.toString());
          if (n !== undefined) keywords.set(kw, n);
          break;
        }
        case 'link':
          if (type === 'link') keywords.set(kw, visEncode(await readlink(hostPath, { encoding: 'buffer' })));
          break;
        case 'xattr':
          if (type === 'file' || type === 'dir') {
            for (const [k, v] of await readXattrs(hostPath, type === 'dir')) keywords.set(k, v);
          }
          break;
      }
    }
    return { entry: { ...entryPath(key), type, keywords }, hostPath, key, st: { ino: st.ino, size: st.size, ctimeNs: st.ctimeNs } };
  };

  // A fixed pool of workers takes work from a LIFO stack: the walk goes depth
  // first and only the names of the directories being read wait, as small
  // records. (A promise per child, scheduled as soon as its directory was
  // read, held most of the tree in closures at once: 200 MB on 70k files.)
  interface Work {
    host: string | Buffer;
    key: string;
    /** true: read the directory; false: describe the path */
    read: boolean;
  }
  const stack: Work[] = [];
  let active = 0;
  let failed = false;
  let waiters: Array<() => void> = [];
  const wakeAll = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const step = async (item: Work): Promise<void> => {
    if (item.read) {
      const names = await readdir(item.host, { encoding: 'buffer' });
      for (const name of names) {
        const childKey = item.key === '.' ? name.toString('latin1') : `${item.key}/${name.toString('latin1')}`;
        if (opts.exclude !== undefined && opts.exclude(entryPath(childKey).path)) continue;
        stack.push({ host: joinHost(item.host, name), key: childKey, read: false });
      }
      return;
    }
    const f = await describe(item.host, item.key);
    out.push(f);
    if (f.entry.type === 'dir') stack.push({ host: item.host, key: item.key, read: true });
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failed) return;
      const item = stack.pop();
      if (item === undefined) {
        if (active === 0) {
          wakeAll();
          return;
        }
        await new Promise<void>((wake) => waiters.push(wake));
        continue;
      }
      active++;
      try {
        await step(item);
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        active--;
        wakeAll();
      }
    }
  };

  const top = await describe(root, '.');
  if (top.entry.type !== 'dir') throw new OcikitError('USAGE', `walk ${root}: not a directory`);
  out.push(top);
  stack.push({ host: root, key: '.', read: true });
  await settleAll(Array.from({ length: Math.max(4, opts.concurrency * 4) }, worker));
  return out;
}

/** Like Promise.all, but waits for every promise before rethrowing the first failure (no stray work after return). */
export async function settleAll(ps: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(ps);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** Byte order of binary (latin1) path keys. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Fill in the digest keywords of the regular files among `files`, in keyword
 * order after the other values (go-mtree's order is the keyword list's; the
 * map keeps insertion order, so digests are re-inserted where they belong).
 */
export async function addDigests(
  files: ScannedFile[],
  keywords: readonly string[],
  hasher: FileHasher,
  digestHint?: WalkOptions['digestHint'],
): Promise<void> {
  const digestKws = keywords.filter((k) => DIGEST_ALGORITHMS[k] !== undefined);
  if (digestKws.length === 0) return;
  const hint = digestKws.includes('sha256digest') ? digestHint : undefined;
  const one = async (f: ScannedFile): Promise<void> => {
    if (f.entry.type !== 'file') return;
    const values = new Map<string, string>();
    const hinted = hint?.(f.entry.path, f.st);
    if (hinted !== undefined) values.set('sha256digest', hinted);
    const todo = digestKws.filter((k) => !values.has(k));
    if (todo.length > 0) {
      const hex = await hasher.digest(f.hostPath, Number(f.st.size), todo.map((k) => DIGEST_ALGORITHMS[k]!));
      todo.forEach((k, i) => values.set(k, hex[i]!));
    }
    const old = f.entry.keywords;
    const merged = new Map<string, string>();
    for (const kw of keywords) {
      const d = values.get(kw);
      if (d !== undefined) merged.set(kw, d);
      for (const [k, v] of old) if (k === kw || (kw === 'xattr' && k.startsWith('xattr.'))) merged.set(k, v);
    }
    f.entry.keywords = merged;
  };
  // A fixed pool of workers pulls files by index: one promise per file for a
  // tree of 200k files would hold as much memory as the entries themselves.
  await eachLimit(files, Math.max(1, hasher.width * 2), one);
}

/**
 * Describe every file under `root` (and `root` itself as '.') with the given
 * keywords, as go-mtree's Walk does. Entries are returned in path byte order.
 *
 * @throws OcikitError USAGE for a keyword that cannot be computed or a root
 *   that is not a directory; IO (errno errors) when the tree cannot be read.
 */
export async function walkTree(root: string, opts: WalkOptions = {}): Promise<MtreeEntry[]> {
  const keywords = normalizeKeywords(opts.keywords ?? UMOCI_MTREE_KEYWORDS);
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  let files: ScannedFile[];
  try {
    files = await withUnprivAccess(root, async (modeOverride) => {
      const scanned = await scanTree(root, { keywords, concurrency, exclude: opts.exclude, modeOverride });
      await addDigests(scanned, keywords, new FileHasher(concurrency), opts.digestHint);
      return scanned;
    });
  } catch (err) {
    throw wrap(`walk ${root}`, err);
  }
  files.sort((a, b) => compareKeys(a.key, b.key));
  return files.map((f) => f.entry);
}
