/**
 * The two pieces of Go's `encoding/json` that `umoci stat --json` output
 * depends on at the byte level, for a `json.Encoder` with its default
 * `SetEscapeHTML(true)`:
 *
 * - how a string is written (`goJsonString`), and
 * - what happens to a `json.RawMessage`: the encoder does not copy it
 *   verbatim but runs it through its compactor (`goCompactJson`), which drops
 *   insignificant white space and applies the same HTML escaping, while
 *   leaving every other byte of every string (including its existing
 *   escapes, such as `\/`) untouched.
 *
 * Kept local to stat output on purpose; general Go-compatible serialisation
 * of documents lives in `oci/go-json.ts`.
 */

const HEX = '0123456789abcdef';

/**
 * A JSON string literal exactly as Go 1.22+ writes it: `"` `\` `\n` `\r` `\t`
 * `\b` `\f` get short escapes, other control characters `\u00XX`, `<` `>` `&`
 * become `\u003c` `\u003e` `\u0026`, U+2028/U+2029 become `\u2028`/`\u2029`,
 * and a lone surrogate (invalid UTF-8 in Go) becomes `\ufffd`.
 */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0xfffd;
    switch (cp) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      case 0x3c: case 0x3e: case 0x26:
        out += '\\u00' + HEX[cp >> 4] + HEX[cp & 0xf];
        break;
      case 0x2028: out += '\\u2028'; break;
      case 0x2029: out += '\\u2029'; break;
      default:
        if (cp < 0x20) out += '\\u00' + HEX[cp >> 4] + HEX[cp & 0xf];
        else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
        else out += ch;
    }
  }
  return out + '"';
}

const isJsonSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * Go's `appendCompact(dst, raw, escapeHTML=true)`, which the encoder applies
 * to every `json.RawMessage`: white space outside strings is removed; `<`,
 * `>`, `&` and the UTF-8 forms of U+2028/U+2029 are replaced by `\u` escapes;
 * nothing else changes. `raw` must be valid JSON (the caller parsed it).
 * Returns the result as a string (UTF-8 decoded).
 */
export function goCompactJson(raw: Buffer): string {
  const out: number[] = [];
  let inString = false;
  let escaped = false;
  const pushEscape = (tail: string): void => {
    for (const c of '\\u' + tail) out.push(c.charCodeAt(0));
  };
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] ?? 0;
    if (b === 0x3c || b === 0x3e || b === 0x26) {
      pushEscape('00' + HEX[b >> 4] + HEX[b & 0xf]);
    } else if (b === 0xe2 && raw[i + 1] === 0x80 && ((raw[i + 2] ?? 0) & ~1) === 0xa8) {
      pushEscape('202' + HEX[(raw[i + 2] ?? 0) & 0xf]);
      i += 2;
    } else if (!inString && isJsonSpace(b)) {
      // insignificant white space: dropped
    } else {
      out.push(b);
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (b === 0x5c) escaped = true;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    }
  }
  return Buffer.from(out).toString('utf8');
}
