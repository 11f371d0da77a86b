/**
 * What Go's `encoding/json` encoder does to a `json.RawMessage`, which
 * `umoci stat --json` output depends on at the byte level: with the default
 * `SetEscapeHTML(true)`, the encoder does not copy a RawMessage verbatim but
 * runs it through its compactor, which drops insignificant white space and
 * escapes `<`, `>`, `&`, U+2028 and U+2029, while leaving every other byte
 * of every string (including its existing escapes, such as `\/`) untouched.
 *
 * Only this raw-text pass lives here. Quoting strings and marshalling values
 * as Go does is `oci/go-json.ts` (`goQuoteJson`, `marshalGoValue`).
 */

const HEX = '0123456789abcdef';

const isJsonSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * Go's `appendCompact(dst, raw, escapeHTML=true)`, which the encoder applies
 * to every `json.RawMessage`: white space outside strings is removed; `<`,
 * `>`, `&` and the UTF-8 forms of U+2028/U+2029 are replaced by `\u` escapes;
 * nothing else changes. `raw` must be valid JSON (the caller parsed it).
 * Returns the result as a string (UTF-8 decoded). Pure.
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
