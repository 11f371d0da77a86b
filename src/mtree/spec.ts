/** mtree(8) file types as go-mtree spells them in `type=`. */
export type MtreeType = 'dir' | 'file' | 'link' | 'char' | 'block' | 'fifo' | 'socket';

export const MTREE_TYPES: readonly MtreeType[] = ['dir', 'file', 'link', 'char', 'block', 'fifo', 'socket'];

/**
 * One file of an mtree manifest.
 *
 * `keywords` is the full keyword set of the entry with `/set` defaults already
 * applied (what go-mtree calls `AllKeys()`), keyed by keyword as written in the
 * manifest — `xattr.<vis-encoded name>` for xattrs — with values as written
 * (`link=` targets stay vis-encoded, `mode` stays octal text). Insertion order
 * is kept and is the order xattrs are written in.
 */
export interface MtreeEntry {
  /** Relative, '/'-separated, decoded (not vis-encoded) path; '.' is the root. Decoded as UTF-8. */
  path: string;
  /**
   * The exact path bytes, when they are not valid UTF-8 (so `path` is lossy).
   * `parseMtree` sets it only then; `formatMtree` prefers it over `path`.
   */
  pathBytes?: Buffer;
  type: MtreeType;
  keywords: Map<string, string>;
}

/** The host-dependent comment lines at the top of a manifest. */
export interface MtreeHeader {
  user: string;
  machine: string;
  tree: string;
  /** A Date is printed in local time as Go's `Mon Jan 2 15:04:05 2006`. */
  date: string | Date;
}

/** umoci's `MtreeKeywords`, in its order: the keyword order of every line it writes. */
export const UMOCI_MTREE_KEYWORDS: readonly string[] = [
  'size',
  'type',
  'uid',
  'gid',
  'mode',
  'link',
  'nlink',
  'tar_time',
  'sha256digest',
  'xattr',
];
