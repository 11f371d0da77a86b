/**
 * What `raw mtree-validate` prints, as umoci 0.6 prints it
 * (`cmd/umoci/raw-mtree-validate.go` with go-mtree's `InodeDelta.String`),
 * and how it picks the keywords to compare (`-k`, `-K`, `--umoci-keywords`).
 *
 * Output: one line per difference, in path order —
 * `"<path>": keyword "<kw>": expected <old>; got <new>` for a modified path
 * (its first differing key only), `"<path>": unexpected path` for an extra
 * one, `"<path>": missing path` for a missing one — paths quoted like Go's
 * `%q`. The command then fails with "validation failed: N differences found".
 *
 * A keyword asked for with `-k`/`-K` that the manifest does not record is not
 * refused up front (umoci does not either: `-k ...,tar_time` against a
 * manifest with `time`, or `xattr` against one without any, must pass); it
 * shows up as a difference on each path the walk computes it for, e.g.
 * `"foobar": keyword "sha1digest": expected ; got 988881adc9fc…`.
 */
import { OcikitError } from '../errors.js';
import { goQuote } from '../util/go-quote.js';
import type { MtreeDifference } from './compare.js';
import { UMOCI_MTREE_KEYWORDS, type MtreeEntry } from './spec.js';
import { keywordSynonym, normalizeKeywords } from './walk.js';

/**
 * Go's `%q` of a byte string: valid UTF-8 as `strconv.Quote` writes it, each
 * byte of an invalid sequence as `\xNN`.
 */
export function goQuoteBytes(bytes: Buffer): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8Length(bytes, i);
    if (n === 0) {
      out += '\\x' + bytes[i]!.toString(16).padStart(2, '0');
      i++;
    } else {
      out += goQuote(bytes.subarray(i, i + n).toString('utf8')).slice(1, -1);
      i += n;
    }
  }
  return out + '"';
}

/** Length of the valid UTF-8 sequence at `i` (Go's rules: no overlongs, surrogates or values past U+10FFFF), 0 if invalid. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => b[j] !== undefined && b[j]! >= lo && b[j]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/** One difference as go-mtree's `InodeDelta.String()` writes it (no newline). */
export function formatMtreeDifference(d: MtreeDifference): string {
  const path = goQuoteBytes(d.pathBytes ?? Buffer.from(d.path, 'utf8'));
  switch (d.kind) {
    case 'extra':
      return `${path}: unexpected path`;
    case 'missing':
      return `${path}: missing path`;
    case 'modified': {
      const k = d.keys[0];
      if (k === undefined) throw new OcikitError('INTERNAL', `[internal error] modified path ${path} without keys`);
      return `${path}: keyword ${goQuote(k.keyword)}: expected ${k.expected ?? ''}; got ${k.got ?? ''}`;
    }
  }
}

/** Every difference, one line each, each ending in a newline ('' for none). */
export function formatMtreeDifferences(diffs: readonly MtreeDifference[]): string {
  return diffs.map((d) => formatMtreeDifference(d) + '\n').join('');
}

/** The error `raw mtree-validate` fails with after printing `count` differences. */
export function mtreeValidationError(count: number): OcikitError {
  return new OcikitError('VALIDATION_FAILED', `validation failed: ${count} differences found`);
}

/**
 * A `-k`/`-K` value: names separated by commas and/or spaces, synonyms mapped
 * to their canonical names (`sha256` → `sha256digest`). Empty names are
 * dropped, so `""` gives `[]`.
 *
 * @throws OcikitError USAGE naming the keyword when it is not one ocikit can
 *   compute (`keyword "foo" is not an mtree keyword`).
 */
export function parseMtreeKeywordArg(arg: string): string[] {
  const names = arg.split(/[, ]/).filter((s) => s !== '');
  return normalizeKeywords(names);
}

/** go-mtree's `UsedKeywords`: keyword prefixes found in the manifest's entries, first use first. */
export function manifestKeywords(manifest: readonly MtreeEntry[]): string[] {
  const out: string[] = [];
  for (const e of manifest) {
    for (const k of e.keywords.keys()) {
      const dot = k.indexOf('.');
      const kw = keywordSynonym(dot < 0 ? k : k.slice(0, dot));
      if (!out.includes(kw)) out.push(kw);
    }
  }
  return out;
}

export interface ValidateKeywordOptions {
  manifest: readonly MtreeEntry[];
  /** `-k`/`--use-keywords`: replaces the default set (undefined when not given). */
  use?: string;
  /** `-K`/`--add-keywords`: added to the set (undefined when not given). */
  add?: string;
  /** `--umoci-keywords`: the default set is umoci's MtreeKeywords instead of the manifest's. */
  umociKeywords?: boolean;
}

/**
 * The keywords `raw mtree-validate` compares with, as umoci picks them: `-k`
 * if given, else umoci's set with `--umoci-keywords`, else the keywords the
 * manifest uses; then each `-K` keyword not yet there; `type` put first if
 * missing.
 *
 * @throws OcikitError USAGE for a keyword ocikit cannot compute, whether
 *   given on the command line or used by the manifest.
 */
export function validateKeywords(opts: ValidateKeywordOptions): string[] {
  let keywords: string[];
  if (opts.use !== undefined) keywords = parseMtreeKeywordArg(opts.use);
  else if (opts.umociKeywords === true) keywords = [...UMOCI_MTREE_KEYWORDS];
  else keywords = normalizeKeywords(manifestKeywords(opts.manifest));
  for (const kw of opts.add === undefined ? [] : parseMtreeKeywordArg(opts.add)) {
    if (!keywords.includes(kw)) keywords.push(kw);
  }
  if (!keywords.includes('type')) keywords.unshift('type');
  return keywords;
}
