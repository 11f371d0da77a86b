import { OcikitError } from '../errors.js';

/**
 * vis(3)/unvis(3) as go-mtree applies them to names, link targets and xattr
 * names: go-mtree's `DefaultVisFlags` are `VisWhite | VisOctal | VisGlob`.
 * With that set, a byte is written as itself only when it is printable ASCII
 * (0x21–0x7e) and not a glob magic (`* ? [ #`); a backslash is doubled; every
 * other byte (space, tab, newline, controls, DEL, glob magics, every byte of a
 * multi-byte UTF-8 sequence) becomes a three-digit octal escape `\ooo`.
 *
 * Names are byte strings: `visEncode` takes bytes and always returns ASCII, and
 * `unvisDecode` returns bytes, so `unvisDecode(visEncode(b))` equals `b` for any
 * byte sequence, whether or not it is valid UTF-8.
 */

function isGlob(b: number): boolean {
  return b === 0x2a /* * */ || b === 0x3f /* ? */ || b === 0x5b /* [ */ || b === 0x23 /* # */;
}

/** Encode bytes (or a string, taken as UTF-8) as go-mtree writes names. Never throws. */
export function visEncode(input: Uint8Array | string): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '';
  for (const b of bytes) {
    if (b >= 0x21 && b <= 0x7e && !isGlob(b)) {
      out += b === 0x5c ? '\\\\' : String.fromCharCode(b);
    } else {
      out += '\\' + b.toString(8).padStart(3, '0');
    }
  }
  return out;
}

function fail(what: string, input: string): never {
  throw new OcikitError('VALIDATION_FAILED', `unvis ${JSON.stringify(input)}: ${what}`);
}

const CSTYLE: Record<string, number[]> = {
  n: [0x0a],
  r: [0x0d],
  b: [0x08],
  a: [0x07],
  v: [0x0b],
  t: [0x09],
  f: [0x0c],
  s: [0x20],
  E: [0x1b],
  // Escaped newline and `\$` decode to nothing (vis(3) "hidden" markers).
  '\n': [],
  $: [],
};

/**
 * Decode a vis(3)-encoded string to bytes. Accepts everything go-mtree's
 * `govis.Unvis` accepts without `VisHTTPStyle`: `\\`, octal `\o`–`\ooo`
 * (value at most 0xff), hex `\xHH` (exactly two digits), control `\^C`/`\^?`,
 * meta `\M^C`/`\M-C`, C-style `\n \r \b \a \v \t \f \s \E`. Text outside
 * escapes is copied as its UTF-8 bytes.
 *
 * @throws OcikitError VALIDATION_FAILED on a malformed or truncated escape.
 */
export function unvisDecode(input: string): Buffer {
  const src = Buffer.from(input, 'utf8');
  const out: number[] = [];
  let i = 0;
  const peek = (): number => {
    const b = src[i];
    if (b === undefined) fail('escape truncated at end of input', input);
    return b;
  };
  while (i < src.length) {
    const b = src[i++]!;
    if (b !== 0x5c) {
      out.push(b);
      continue;
    }
    const c = peek();
    const ch = String.fromCharCode(c);
    if (c === 0x5c) {
      i++;
      out.push(0x5c);
    } else if (c >= 0x30 && c <= 0x37) {
      // Up to three octal digits; the first is required (we know it is there).
      let code = 0;
      for (let n = 0; n < 3; n++) {
        const d = src[i];
        if (d === undefined || d < 0x30 || d > 0x37) break;
        code = code * 8 + (d - 0x30);
        i++;
      }
      if (code > 0xff) fail(`octal escape ${code.toString(8)} outside latin-1`, input);
      out.push(code);
    } else if (ch === 'x') {
      i++;
      let code = 0;
      for (let n = 0; n < 2; n++) {
        const d = String.fromCharCode(peek());
        const v = parseInt(d, 16);
        if (Number.isNaN(v)) fail(`bad hex digit ${JSON.stringify(d)}`, input);
        code = code * 16 + v;
        i++;
      }
      out.push(code);
    } else if (ch === '^') {
      i++;
      out.push(ctrl(peek(), 0));
      i++;
    } else if (ch === 'M') {
      i++;
      const m = String.fromCharCode(peek());
      i++;
      if (m === '^') {
        out.push(ctrl(peek(), 0x80));
        i++;
      } else if (m === '-') {
        out.push(0x80 | peek());
        i++;
      } else {
        fail(`unknown meta escape ${JSON.stringify(m)}`, input);
      }
    } else if (Object.hasOwn(CSTYLE, ch)) {
      i++;
      out.push(...CSTYLE[ch]!);
    } else {
      fail(`unknown escape character ${JSON.stringify(ch)}`, input);
    }
  }
  return Buffer.from(out);
}

function ctrl(c: number, mask: number): number {
  return mask | (c === 0x3f /* ? */ ? 0x7f : c & 0x1f);
}
