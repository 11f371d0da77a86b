import { OcikitError } from '../errors.js';
import { MTREE_TYPES, type MtreeEntry, type MtreeType } from './spec.js';
import { unvisDecode } from './vis.js';
import { cleanPath } from '../util/go-path.js';

/*
 * Paths are handled as latin1 ("binary") JS strings while parsing, one char per
 * byte, so names that are not valid UTF-8 survive; they are decoded at the end.
 */

interface DirNode {
  /** Cleaned, decoded path as a binary string. */
  path: string;
  parent: DirNode | null;
}

/** go-mtree's CleanPath: like Clean, but a relative path can never climb above its root. */
function confinePath(p: string): string {
  if (p === '') return '';
  const c = cleanPath(p);
  if (c.startsWith('/')) return c;
  const r = cleanPath('/' + c).slice(1);
  return r === '' ? '.' : r;
}

function joinPath(a: string, b: string): string {
  return cleanPath(a + '/' + b);
}

function splitFields(s: string): string[] {
  return s.split(/[ \t\n\v\f\r]+/).filter((f) => f !== '');
}

function endsWithContinuation(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function toKeyVals(fields: string[]): Array<[string, string]> {
  return fields.map((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? [f, ''] : [f.slice(0, eq), f.slice(eq + 1)];
  });
}

function decodeBinary(bin: string): { path: string; pathBytes?: Buffer } {
  const bytes = Buffer.from(bin, 'latin1');
  const path = bytes.toString('utf8');
  return Buffer.from(path, 'utf8').equals(bytes) ? { path } : { path, pathBytes: bytes };
}

/**
 * go-mtree writes a directory's `# <path>` comment with the path raw, so a
 * directory name containing a newline spills into extra lines that go-mtree
 * itself then reads as keyword-less entries. Recognise that exact shape — the
 * comment and the k lines after it, joined by '\n', are the path of the
 * directory line that follows (after an optional `/set`) — and return k, the
 * number of lines to skip; 0 when the shape does not match.
 */
function phantomLines(lines: string[], at: number, comment: string, parentBin: string): number {
  const limit = Math.min(lines.length - at - 2, 256);
  let candidate = comment;
  // k = 0 is the ordinary case and ends the search at once.
  for (let k = 0; k <= limit; k++) {
    if (k > 0) candidate += '\n' + lines[at + k]!;
    let n = at + k + 1;
    if (lines[n]?.startsWith('/set')) n++;
    const f = splitFields(lines[n] ?? '');
    if (f.length === 0 || !f.slice(1).includes('type=dir') || f[0]!.includes('/')) continue;
    let decoded: string;
    try {
      decoded = unvisDecode(cleanPath(f[0]!)).toString('utf8');
    } catch {
      continue;
    }
    const parent = Buffer.from(parentBin, 'latin1').toString('utf8');
    if (candidate === (parent === '.' ? decoded : parent + '/' + decoded)) return k;
  }
  return 0;
}

/**
 * Parse an mtree manifest as go-mtree's `ParseSpec` reads it, and return its
 * file entries in manifest order with `/set` defaults applied.
 *
 * Semantics follow go-mtree, not BSD mtree(8), where they differ:
 * - `/set` replaces the current defaults entirely; `/unset` (with any
 *   arguments) clears them.
 * - A name containing '/' is a full path from the root and does not change the
 *   current directory unless it is itself `type=dir`; any other name is relative
 *   to the current directory, which only an entry with an explicit `type=dir`
 *   enters and `..` leaves.
 * - Lines are split on '\n' (a trailing '\r' is dropped); comment lines and
 *   blank lines are skipped; a line ending in an odd number of backslashes is
 *   joined with the next (go-mtree joins on any trailing backslash, which would
 *   misread an escaped backslash at the end of a line).
 * - Unlike go-mtree, the stray lines that a directory name containing a
 *   newline makes in go-mtree's own `# <path>` comment are skipped, not read
 *   as entries.
 * - An entry with no `type` is reported as 'file' (without adding `type` to its
 *   keywords).
 *
 * Paths are decoded from vis(3) and cleaned so they stay inside the root ('.'
 * for the root itself).
 *
 * @throws OcikitError VALIDATION_FAILED on a malformed escape or an unknown `type=`.
 */
export function parseMtree(text: string): MtreeEntry[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const entries: MtreeEntry[] = [];
  let curSet: Array<[string, string]> | null = null;
  let curDir: DirNode | null = null;

  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const trimmed = line.replace(/^[ \t]+/, '');
    if (trimmed.startsWith('# ') && curDir !== null) {
      i += phantomLines(lines, i, trimmed.slice(2), curDir.path);
      continue;
    }
    if (trimmed.startsWith('#') || line === '') continue;
    // Join continuation lines (both for specials and entries).
    const joinContinuations = (): void => {
      while (endsWithContinuation(line) && i + 1 < lines.length) {
        let next = lines[++i]!;
        if (next.endsWith('\r')) next = next.slice(0, -1);
        line = line.slice(0, -1) + next;
      }
      if (endsWithContinuation(line)) line = line.slice(0, -1);
    };
    if (line.startsWith('/')) {
      joinContinuations();
      const f = splitFields(line);
      if (f[0] === '/set') curSet = toKeyVals(f.slice(1));
      else if (f[0] === '/unset') curSet = null;
      continue;
    }
    const fields0 = splitFields(line);
    if (fields0.length === 0) continue;
    if (fields0[0] === '..') {
      if (curDir !== null) curDir = curDir.parent;
      continue;
    }
    joinContinuations();
    const fields = splitFields(line);
    const encName = cleanPath(fields[0]!);
    const own = toKeyVals(fields.slice(1));
    const decoded = confinePath(unvisDecode(encName).toString('latin1'));
    const full = encName.includes('/');
    const binPath: string = full || curDir === null ? decoded : confinePath(joinPath(curDir.path, decoded));

    // MergeKeyValSet: /set order first, entry values win, then the entry's own extras.
    const keywords = new Map<string, string>();
    for (const [k, v] of curSet ?? []) keywords.set(k, v);
    for (const [k, v] of own) keywords.set(k, v);

    const typeText = keywords.get('type') ?? 'file';
    if (!(MTREE_TYPES as readonly string[]).includes(typeText)) {
      throw new OcikitError('VALIDATION_FAILED', `parse mtree: line ${i + 1}: unknown type ${JSON.stringify(typeText)}`);
    }
    const explicitType = own.filter(([k]) => k === 'type').pop()?.[1];
    if (explicitType === 'dir') curDir = { path: binPath, parent: curDir };

    entries.push({ ...decodeBinary(binPath), type: typeText as MtreeType, keywords });
  }
  return entries;
}
