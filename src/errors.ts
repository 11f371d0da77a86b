/**
 * The one error type of ocikit. Every failure the library reports is an
 * OcikitError with a code from a closed list; callers decide by `code`, never
 * by message text. Codes, once released, never change meaning.
 */
export type ErrorCode =
  | 'USAGE'
  | 'LAYOUT_INVALID'
  | 'LAYOUT_LOCKED'
  | 'TAG_INVALID'
  | 'TAG_NOT_FOUND'
  | 'TAG_AMBIGUOUS'
  | 'BLOB_NOT_FOUND'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'DESCRIPTOR_INVALID'
  | 'MEDIA_TYPE_UNSUPPORTED'
  | 'SCHEMA_INVALID'
  | 'UNSAFE_ENTRY'
  | 'BUNDLE_EXISTS'
  | 'MTREE_MISMATCH'
  | 'VALIDATION_FAILED'
  | 'REGISTRY'
  | 'AUTH'
  | 'NETWORK'
  | 'IO'
  | 'INTERNAL';

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class OcikitError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OcikitError';
    this.code = code;
    this.hint = opts.hint;
  }
}

/** A blob's bytes do not hash to the digest its descriptor names. */
export class DigestMismatchError extends OcikitError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly bytesRead: number,
  ) {
    super('DIGEST_MISMATCH', `verified reader digest mismatch: expected ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

/** Node's errno errors carry a string `code` such as ENOENT. */
export function errnoCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof OcikitError) return err.message;
  if (err instanceof Error) {
    // Node's errno messages already name the syscall and path.
    return err.message;
  }
  return String(err);
}

/**
 * Adds the step that failed in front of an error: `wrap('read index.json', e)`
 * gives "read index.json: <inner message>". The inner OcikitError's code is
 * kept; any other error becomes IO (errno errors) or INTERNAL.
 */
export function wrap(step: string, err: unknown): OcikitError {
  const message = `${step}: ${describe(err)}`;
  if (err instanceof OcikitError) {
    const wrapped = new OcikitError(err.code, message, { hint: err.hint, cause: err });
    return wrapped;
  }
  const code: ErrorCode = errnoCode(err)?.startsWith('E') ? 'IO' : 'INTERNAL';
  return new OcikitError(code, message, { cause: err });
}

/** Throws INTERNAL when an invariant does not hold: a bug, never bad input. */
export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new OcikitError('INTERNAL', `[internal error] ${what}`);
}
