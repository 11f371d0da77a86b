import { OcikitError } from '../errors.js';
import { UMOCI_MTREE_KEYWORDS, type MtreeEntry, type MtreeHeader } from './spec.js';
import { visEncode } from './vis.js';
import { cleanPath } from '../util/go-path.js';

export interface FormatMtreeOptions {
  /** Keywords in output order (default umoci's MtreeKeywords); also printed in the `keywords:` header line. */
  keywords?: readonly string[];
}

/** go-mtree's `defaultSetKeyVals`, before selection by the keyword list. */
const DEFAULT_SET: ReadonlyArray<[string, string]> = [
  ['type', 'file'],
  ['nlink', '1'],
  ['flags', 'none'],
  ['mode', '0664'],
];
/** go-mtree's `SetKeywords`: what a directory contributes to `/set`. */
const SET_KEYWORDS = ['uid', 'gid'];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.Format("Mon Jan 2 15:04:05 2006") in local time. */
export function formatMtreeDate(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${d.getDate()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

interface Node {
  entry: MtreeEntry;
  /** Path as a binary (latin1) string, cleaned. */
  bin: string;
  base: string;
  files: Node[];
  dirs: Node[];
}

function binPathOf(e: MtreeEntry): string {
  return cleanPath((e.pathBytes ?? Buffer.from(e.path, 'utf8')).toString('latin1'));
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0; // binary strings: code-unit order is byte order
}

/**
 * Write entries as go-mtree's `Walk(...).WriteTo` lays them out for umoci:
 * header comments (user, machine, tree, date, keywords); then, depth first
 * from the root, each directory as a blank line, a `# <path>` comment (raw,
 * not vis-encoded, as go-mtree writes it), a `/set` line when it is the first
 * directory or its uid/gid are not both in the current `/set`, and its own
 * line; then its non-directories (sorted by name bytes, indented four spaces),
 * then its subdirectories (sorted), then `..`.
 *
 * Entry order in `entries` does not matter. Each entry's keywords are written
 * in keyword-list order (an `xattr` keyword covers every `xattr.*` key, in map
 * order; keys outside the list follow, in map order), leaving out every
 * `key=value` that is in the current `/set` exactly.
 *
 * One deliberate difference from go-mtree: in a `# path` comment, newline and
 * CR are written as `\012`/`\015` (go-mtree writes them raw, which breaks the
 * manifest for go-mtree's own parser). Paths that are not UTF-8 must come with `pathBytes`; their
 * comment line is decoded lossily because the result is a string.
 *
 * @throws OcikitError USAGE when there is no root '.' directory, a duplicate
 *   path, or an entry whose parent directory is missing.
 */
export function formatMtree(entries: MtreeEntry[], header: MtreeHeader, opts: FormatMtreeOptions = {}): string {
  const keywordList = opts.keywords ?? UMOCI_MTREE_KEYWORDS;
  const byPath = new Map<string, Node>();
  for (const entry of entries) {
    const bin = binPathOf(entry);
    if (bin.startsWith('/') || bin === '..' || bin.startsWith('../')) {
      throw new OcikitError('USAGE', `format mtree: path ${JSON.stringify(entry.path)} is not inside the root`);
    }
    if (byPath.has(bin)) throw new OcikitError('USAGE', `format mtree: duplicate path ${JSON.stringify(entry.path)}`);
    const slash = bin.lastIndexOf('/');
    byPath.set(bin, { entry, bin, base: slash < 0 ? bin : bin.slice(slash + 1), files: [], dirs: [] });
  }
  const root = byPath.get('.');
  if (root === undefined || root.entry.type !== 'dir') {
    throw new OcikitError('USAGE', 'format mtree: no root directory entry "."');
  }
  for (const node of byPath.values()) {
    if (node === root) continue;
    const slash = node.bin.lastIndexOf('/');
    const parentBin = slash < 0 ? '.' : node.bin.slice(0, slash);
    const parent = byPath.get(parentBin);
    if (parent === undefined || parent.entry.type !== 'dir') {
      throw new OcikitError('USAGE', `format mtree: parent directory of ${JSON.stringify(node.entry.path)} is missing`);
    }
    (node.entry.type === 'dir' ? parent.dirs : parent.files).push(node);
  }

  const selected = (kvs: ReadonlyArray<[string, string]>): Array<[string, string]> =>
    kvs.filter(([k]) => keywordList.includes(k.split('.')[0]!));

  const out: string[] = [];
  const comment = (label: string, value: string): string => '#' + label.padStart(16) + value;
  const date = typeof header.date === 'string' ? header.date : formatMtreeDate(header.date);
  out.push(comment('user: ', header.user), comment('machine: ', header.machine), comment('tree: ', header.tree));
  out.push(comment('date: ', date), comment('keywords: ', keywordList.join(',')));

  let curSet: Set<string> | null = null;

  const entryKeyVals = (e: MtreeEntry): string[] => {
    const kvs: string[] = [];
    const used = new Set<string>();
    for (const kw of keywordList) {
      for (const [k, v] of e.keywords) {
        if (k === kw || k.startsWith(kw + '.')) {
          used.add(k);
          kvs.push(`${k}=${v}`);
        }
      }
    }
    for (const [k, v] of e.keywords) if (!used.has(k)) kvs.push(`${k}=${v}`);
    return kvs.filter((kv) => !curSet!.has(kv));
  };

  const visit = (dir: Node): void => {
    // go-mtree writes this path raw; a newline in it would make stray lines that
    // go-mtree (and so umoci) reads back as entries, so newline and CR are
    // written as vis(3) octal here. This is the one place output differs from
    // go-mtree's.
    const shown = Buffer.from(dir.bin, 'latin1').toString('utf8').replace(/\n/g, '\\012').replace(/\r/g, '\\015');
    out.push('', '# ' + shown);
    const klist: Array<[string, string]> = [];
    for (const k of SET_KEYWORDS) {
      const v = dir.entry.keywords.get(k);
      if (v !== undefined) klist.push([k, v]);
    }
    let newSet: Array<[string, string]> | null = null;
    if (curSet === null) newSet = [...selected(DEFAULT_SET), ...klist];
    else if (klist.some(([k, v]) => !curSet!.has(`${k}=${v}`))) newSet = selected([...DEFAULT_SET, ...klist]);
    if (newSet !== null) {
      const kvs = newSet.map(([k, v]) => `${k}=${v}`);
      curSet = new Set(kvs);
      out.push(['/set', ...kvs].join(' '));
    }
    const name = dir === root ? '.' : visEncode(Buffer.from(dir.base, 'latin1'));
    out.push(`${name} ${entryKeyVals(dir.entry).join(' ')}`);
    const byBase = (a: Node, b: Node): number => compareBytes(a.base, b.base);
    for (const f of [...dir.files].sort(byBase)) {
      out.push(`    ${visEncode(Buffer.from(f.base, 'latin1'))} ${entryKeyVals(f.entry).join(' ')}`);
    }
    for (const d of [...dir.dirs].sort(byBase)) visit(d);
    out.push('..');
  };
  visit(root);
  return out.join('\n') + '\n';
}
