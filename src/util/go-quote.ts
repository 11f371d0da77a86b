/**
 * Go's `strconv.Quote` and the character classes behind it (`strconv.IsPrint`,
 * `unicode.IsSpace`, `unicode.IsGraphic`), for output that must read like a Go
 * program's: umoci's `stat` quotes a value only when it needs to, and "needs"
 * is defined by these functions.
 *
 * Strings here are JavaScript strings that came from JSON. Go's JSON decoder
 * turns invalid UTF-8 and lone surrogate escapes into U+FFFD, so a lone
 * surrogate is treated as U+FFFD (printable) throughout.
 */

const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u;
const WHITE_SPACE = /^\p{White_Space}$/u;
const REPLACEMENT = 0xfffd;

/** Code points of `s`, with lone surrogates read as U+FFFD (as Go would have decoded them). */
export function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? REPLACEMENT;
    out.push(cp >= 0xd800 && cp <= 0xdfff ? REPLACEMENT : cp);
  }
  return out;
}

/** `s` with every lone surrogate replaced by U+FFFD. */
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and U+0020 only. */
export function isGoPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f) return false;
  return PRINT.test(String.fromCodePoint(cp));
}

/** Go's `unicode.IsSpace`: the Unicode White_Space property (`\t \n \v \f \r`, space, U+0085, U+00A0, …). */
export function isGoSpace(cp: number): boolean {
  return WHITE_SPACE.test(String.fromCodePoint(cp));
}

/** Go's `unicode.IsGraphic`: like IsPrint but every Zs space counts (U+00A0 is graphic, U+00AD is not). */
export function isGoGraphic(cp: number): boolean {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return false;
  return GRAPHIC.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * Go's `strconv.Quote(s)`: a double-quoted Go string literal. `"` and `\` are
 * backslash-escaped, printable runes are kept, `\a \b \f \n \r \t \v` use
 * their short forms, other control bytes become `\xNN`, and other
 * non-printable runes `\uNNNN` or `\UNNNNNNNN` (lowercase hex).
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const cp of codePoints(s)) {
    if (cp === 0x22 || cp === 0x5c) {
      out += '\\' + String.fromCharCode(cp);
    } else if (isGoPrint(cp)) {
      out += String.fromCodePoint(cp);
    } else {
      switch (cp) {
        case 0x07: out += '\\a'; break;
        case 0x08: out += '\\b'; break;
        case 0x0c: out += '\\f'; break;
        case 0x0a: out += '\\n'; break;
        case 0x0d: out += '\\r'; break;
        case 0x09: out += '\\t'; break;
        case 0x0b: out += '\\v'; break;
        default:
          if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
          else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
          else out += '\\U' + hex(cp, 8);
      }
    }
  }
  return out + '"';
}

/**
 * umoci 0.6's `quote(s, precise)`: `s` unchanged unless `strconv.Quote` would
 * have to escape something in it; when `precise`, also quote the empty string
 * and any string containing white space, so a reader can see exactly where a
 * value starts and ends.
 */
export function quoteIfNeeded(s: string, precise: boolean): string {
  const plain = wellFormed(s);
  const quoted = goQuote(plain);
  if (quoted !== `"${plain}"`) return quoted;
  if (precise && (plain === '' || codePoints(plain).some(isGoSpace))) return quoted;
  return plain;
}
