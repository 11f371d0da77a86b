/**
 * Check a directory tree against an mtree manifest, as go-mtree's `Check`
 * (a `Walk` of the tree, then `Compare(manifest, walk, keywords)`) does in
 * the go-mtree umoci 0.6 builds with. `repack` uses it to find what changed
 * in a rootfs, `raw mtree-validate` to print the differences.
 *
 * Semantics:
 * - Paths are matched by their decoded, cleaned bytes. A path only in the
 *   manifest is `missing`, only on disk `extra`; both carry no keys. A
 *   missing directory is reported together with each of its manifest
 *   children (each `missing`); an added directory with each of its children
 *   (each `extra`); a directory replaced by a file is `modified` (type) and
 *   its old children `missing`.
 * - A path in both is `modified` when a keyword differs. Every key of the
 *   manifest entry (with `/set` defaults) and of the walked entry counts, and
 *   a key present on only one side is a difference too (go-mtree after its
 *   "fix comparison of missing keywords"): an xattr added or removed, or a
 *   keyword asked for that the manifest never recorded (`-k sha1digest`),
 *   which then reads `expected ` (empty) `; got <value>`.
 * - When either side has `tar_time` and either has `time`, `time` is turned
 *   into `tar_time` (seconds kept, nanoseconds zeroed) on the side lacking
 *   `tar_time`, so mtimes compare in whole seconds.
 * - Finally only keys whose keyword (the part before the first '.') is in
 *   the keyword list are kept, `time` and `tar_time` standing in for each
 *   other; `type` is always in the list.
 *
 * Regular files are hashed only when the digest can matter: the path is in
 * the manifest, still a regular file, and its size did not change (a size
 * change already makes it `modified`; its `keys` then lack the digest).
 */
import { OcikitError, wrap } from '../errors.js';
import { UMOCI_MTREE_KEYWORDS, type MtreeEntry } from './spec.js';
import { cleanPath } from '../util/go-path.js';
import {
  DIGEST_ALGORITHMS,
  FileHasher,
  addDigests,
  compareKeys,
  entryPath,
  normalizeKeywords,
  scanTree,
  type ScannedFile,
  type WalkOptions,
} from './walk.js';
import { withUnprivAccess, type ModeOverride } from './unpriv.js';

export interface MtreeKeyDifference {
  keyword: string;
  /** The manifest's value; absent when only the tree has the key. */
  expected?: string;
  /** The tree's value; absent when only the manifest has the key. */
  got?: string;
}

export interface MtreeDifference {
  /** Relative, decoded path ('.' for the root), as UTF-8 (lossy when `pathBytes` is set). */
  path: string;
  /** The exact path bytes, only when they are not valid UTF-8. */
  pathBytes?: Buffer;
  kind: 'modified' | 'extra' | 'missing';
  /** For `modified`: the differing keys, in keyword-list order; empty otherwise. */
  keys: MtreeKeyDifference[];
}

export interface CompareOptions {
  /** Keywords to compare (default umoci's MtreeKeywords); synonyms accepted; `type` is added when absent. */
  keywords?: readonly string[];
  /** Regular files hashed at once (default 16). */
  concurrency?: number;
  /**
   * True to leave a path out on both sides: it is not walked, and manifest
   * entries at or under it are ignored. Never called for '.'.
   */
  exclude?: (relPath: string) => boolean;
  /** Known sha256 digests, as for `walkTree`. */
  digestHint?: WalkOptions['digestHint'];
  /** The tree is already opened up (unpriv.ts): the original modes by walk key. */
  modeOverride?: ModeOverride;
}

function keyOf(e: MtreeEntry): string {
  return cleanPath((e.pathBytes ?? Buffer.from(e.path, 'utf8')).toString('latin1'));
}

function prefix(keyword: string): string {
  const dot = keyword.indexOf('.');
  return dot < 0 ? keyword : keyword.slice(0, dot);
}

/** go-mtree's conversion of a `time` value to `tar_time`. */
function toTarTime(value: string, side: string): string {
  const m = /^([+-]?\d+)\.([+-]?\d+)/.exec(value);
  if (m === null) {
    throw new OcikitError('VALIDATION_FAILED', `${side} entry: failed to parse "time" key: invalid format ${JSON.stringify(value)}`);
  }
  return `${BigInt(m[1]!)}.000000000`;
}

/**
 * go-mtree's compareEntry followed by Compare's keyword filter. `skip` names
 * keys left out of both sides (digests not computed).
 */
function compareKeywords(
  oldKeys: Map<string, string>,
  newKeys: Map<string, string>,
  keywords: readonly string[],
  skip: ReadonlySet<string>,
): MtreeKeyDifference[] {
  const o = new Map([...oldKeys].filter(([k]) => !skip.has(k)));
  const n = new Map([...newKeys].filter(([k]) => !skip.has(k)));
  if ((o.has('tar_time') || n.has('tar_time')) && (o.has('time') || n.has('time'))) {
    const oTime = o.get('time');
    const nTime = n.get('time');
    o.delete('time');
    n.delete('time');
    if (oTime !== undefined && !o.has('tar_time')) o.set('tar_time', toTarTime(oTime, 'old'));
    else if (nTime !== undefined && !n.has('tar_time')) n.set('tar_time', toTarTime(nTime, 'new'));
  }
  const wanted = (k: string): boolean => {
    const p = prefix(k);
    return keywords.includes(p) || (p === 'time' && keywords.includes('tar_time')) || (p === 'tar_time' && keywords.includes('time'));
  };
  const out: MtreeKeyDifference[] = [];
  for (const k of new Set([...n.keys(), ...o.keys()])) {
    if (!wanted(k)) continue;
    const ov = o.get(k);
    const nv = n.get(k);
    if (ov === undefined) out.push({ keyword: k, got: nv! });
    else if (nv === undefined) out.push({ keyword: k, expected: ov });
    else if (ov !== nv) out.push({ keyword: k, expected: ov, got: nv });
  }
  const rank = (k: string): number => {
    const i = keywords.indexOf(prefix(k));
    return i < 0 ? keywords.length : i;
  };
  return out.sort((a, b) => rank(a.keyword) - rank(b.keyword) || compareKeys(a.keyword, b.keyword));
}

/**
 * Compare the tree at `root` with `manifest` (entries as `parseMtree` gives
 * them) and return the differences in path byte order; an empty list means
 * the tree matches.
 *
 * @throws OcikitError USAGE for a keyword that cannot be computed;
 *   VALIDATION_FAILED for an unreadable `time` value; IO when the tree cannot
 *   be read.
 */
export async function compareTree(root: string, manifest: MtreeEntry[], opts: CompareOptions = {}): Promise<MtreeDifference[]> {
  const keywords = normalizeKeywords(opts.keywords ?? UMOCI_MTREE_KEYWORDS);
  if (!keywords.includes('type')) keywords.unshift('type');
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  const digestKws = keywords.filter((k) => DIGEST_ALGORITHMS[k] !== undefined);

  // The manifest side, by path; the last of duplicate paths wins, as in go-mtree.
  const excluded = new Map<string, boolean>();
  const isExcluded = (key: string): boolean => {
    if (key === '.' || opts.exclude === undefined) return false;
    let hit = excluded.get(key);
    if (hit === undefined) {
      const slash = key.lastIndexOf('/');
      hit = (slash > 0 && isExcluded(key.slice(0, slash))) || opts.exclude(entryPath(key).path);
      excluded.set(key, hit);
    }
    return hit;
  };
  const expected = new Map<string, MtreeEntry>();
  for (const e of manifest) {
    const key = keyOf(e);
    if (!isExcluded(key)) expected.set(key, e);
  }

  const run = async (modeOverride?: ModeOverride): Promise<Array<[string, MtreeDifference]>> => {
    const walked = await scanTree(root, { keywords, concurrency, exclude: opts.exclude, modeOverride });

    // Each difference with its path key, the sort key.
    const diffs: Array<[string, MtreeDifference]> = [];
    const toHash: ScannedFile[] = [];
    const noDigests = new Set(digestKws);
    const none = new Set<string>();
    const seen = new Set<string>();
    for (const f of walked) {
      seen.add(f.key);
      const old = expected.get(f.key);
      if (old === undefined) {
        diffs.push([f.key, { ...entryPath(f.key), kind: 'extra', keys: [] }]);
        continue;
      }
      const keys = compareKeywords(old.keywords, f.entry.keywords, keywords, noDigests);
      if (f.entry.type === 'file' && digestKws.length > 0 && !keys.some((k) => k.keyword === 'size' || k.keyword === 'type')) {
        toHash.push(f);
      } else if (keys.length > 0) {
        diffs.push([f.key, { ...entryPath(f.key), kind: 'modified', keys }]);
      }
    }
    for (const key of expected.keys()) {
      if (!seen.has(key)) diffs.push([key, { ...entryPath(key), kind: 'missing', keys: [] }]);
    }

    await addDigests(toHash, keywords, new FileHasher(concurrency), opts.digestHint);
    for (const f of toHash) {
      const keys = compareKeywords(expected.get(f.key)!.keywords, f.entry.keywords, keywords, none);
      if (keys.length > 0) diffs.push([f.key, { ...entryPath(f.key), kind: 'modified', keys }]);
    }
    return diffs;
  };
  let diffs: Array<[string, MtreeDifference]>;
  try {
    diffs = opts.modeOverride !== undefined ? await run(opts.modeOverride) : await withUnprivAccess(root, run);
  } catch (err) {
    throw wrap(`walk ${root}`, err);
  }

  return diffs.sort((a, b) => compareKeys(a[0], b[0])).map(([, d]) => d);
}
