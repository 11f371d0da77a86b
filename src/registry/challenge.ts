/**
 * `WWW-Authenticate` challenges (RFC 7235): what a registry's 401 says about
 * how to authenticate, e.g.
 *
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
 *
 * One header may hold several challenges, separated by commas like their
 * parameters; a new challenge starts at a token that is not followed by "=".
 * Scheme and parameter names are case-insensitive (lower-cased here);
 * quoted values may contain commas and backslash escapes; unquoted ones end
 * at the next comma.
 */
import { OcikitError } from '../errors.js';

export interface Challenge {
  /** lower case: "bearer", "basic" */
  scheme: string;
  /** parameter names lower case */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new OcikitError('AUTH', `malformed WWW-Authenticate header (${why}): ${JSON.stringify(header)}`);
  };
  const skipSpace = (): void => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (m === null) return undefined;
    i += m[0].length;
    return m[0];
  };
  const quoted = (): string => {
    i++; // opening quote
    let v = '';
    while (i < header.length && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < header.length) i++;
      v += header[i++];
    }
    if (i >= header.length) fail('unterminated quoted string');
    i++;
    return v;
  };
  for (;;) {
    skipSpace();
    while (header[i] === ',') {
      i++;
      skipSpace();
    }
    if (i >= header.length) break;
    const scheme = token();
    if (scheme === undefined) fail(`unexpected ${JSON.stringify(header[i])}`);
    const challenge: Challenge = { scheme: scheme!.toLowerCase(), params: {} };
    out.push(challenge);
    skipSpace();
    // token68 form ("Negotiate abc=="): kept under the empty name.
    const save = i;
    TOKEN68.lastIndex = i;
    const t68 = TOKEN68.exec(header);
    if (t68 !== null) {
      let j = i + t68[0].length;
      while (header[j] === ' ' || header[j] === '\t') j++;
      if (j >= header.length || header[j] === ',') {
        challenge.params[''] = t68[0];
        i = j;
        continue;
      }
    }
    i = save;
    // auth-params: name=value, separated by commas, until a token not followed by '='.
    for (;;) {
      skipSpace();
      const start = i;
      const name = token();
      if (name === undefined) break;
      skipSpace();
      if (header[i] !== '=') {
        i = start; // the next challenge's scheme
        break;
      }
      i++;
      skipSpace();
      // Unquoted values should be tokens; registries also send URLs bare, so take up to the next comma.
      let value: string;
      if (header[i] === '"') value = quoted();
      else {
        const end = header.indexOf(',', i);
        value = header.slice(i, end < 0 ? header.length : end).trim();
        i = end < 0 ? header.length : end;
      }
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (header[i] === ',') {
        i++;
        continue;
      }
      break;
    }
  }
  return out;
}
