/**
 * Headers and bodies of the entries `save` writes: root-owned, mode 0644
 * files and 0755 directories with an mtime of 0, so that the same image
 * always gives the same archive bytes. Bodies are streamed and stop with an
 * error when the caller's AbortSignal fires (Ctrl-C during a save).
 */
import { OcikitError } from '../errors.js';
import { emptyHeader, type TarHeader } from '../layer/tar-header.js';

/** A regular file entry of `size` bytes. */
export function fileHeader(name: string, size: number): TarHeader {
  return { ...emptyHeader(), name, size, mode: 0o644 };
}

/** A directory entry (`name` ends with '/'). */
export function dirHeader(name: string): TarHeader {
  return { ...emptyHeader(), name, type: 'dir', mode: 0o755 };
}

/** A symbolic link entry. */
export function symlinkHeader(name: string, target: string): TarHeader {
  return { ...emptyHeader(), name, type: 'symlink', mode: 0o777, linkname: target };
}

/** Throws "interrupted" once `signal` has fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OcikitError('IO', 'interrupted');
}

/** The chunks of `source`, checking `signal` before each one. */
export async function* abortable(source: AsyncIterable<Buffer>, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    checkAborted(signal);
    yield chunk;
  }
}

