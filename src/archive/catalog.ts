/**
 * The table of contents of an archive file: one pass with TarReader over the
 * whole file records where each member's body lies, so that members can
 * then be read in any order (a docker-archive may put manifest.json last)
 * straight from the file, without extracting anything or keeping bodies in
 * memory. Hostile names are refused while cataloguing (member-name.ts).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { OcikitError, errnoCode, wrap } from '../errors.js';
import { TarReader } from '../layer/tar-reader.js';
import { cleanMemberName, resolveLinkTarget } from './member-name.js';

interface Member {
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  /** Body offset in the file and length (files only). */
  offset: number;
  size: number;
  /** Member name a link points at (already resolved and checked). */
  target?: string;
}

/** Links followed at most this many times for one lookup. */
const MAX_HOPS = 40;

export class ArchiveCatalog {
  private constructor(
    /** The archive file. */
    readonly file: string,
    private readonly members: Map<string, Member>,
  ) {}

  /**
   * Reads the archive's headers. Refuses a file that is not a tar (one line
   * naming the file), and absolute, `..` or escaping member names.
   */
  static async read(file: string): Promise<ArchiveCatalog> {
    const members = new Map<string, Member>();
    const reader = new TarReader(createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>);
    try {
      for (let h = await reader.next(); h !== null; h = await reader.next()) {
        const name = cleanMemberName(h.name);
        if (name === '') continue; // the archive root, "./"
        const m: Member = { type: 'other', offset: reader.position, size: h.size };
        if (h.type === 'file' || h.type === 'dir') m.type = h.type;
        else if (h.type === 'symlink') {
          m.type = 'symlink';
          m.target = resolveLinkTarget(name, h.linkname);
        } else if (h.type === 'hardlink') {
          m.type = 'hardlink';
          m.target = cleanMemberName(h.linkname);
        }
        members.set(name, m); // a later member of the same name wins, as on extraction
      }
    } catch (err) {
      if (err instanceof OcikitError && err.code === 'UNSAFE_ENTRY' && err.message.startsWith('archive member')) throw err;
      if (errnoCode(err) === 'ENOENT') throw new OcikitError('IO', `open archive: no such file: ${file}`, { cause: err });
      if (errnoCode(err) === 'EISDIR') throw new OcikitError('IO', `open archive: is a directory: ${file}`, { cause: err });
      if (err instanceof OcikitError) {
        throw new OcikitError('VALIDATION_FAILED', `${file}: not a valid tar archive (${err.message.replace(/^layer tar: /, '')})`, { cause: err });
      }
      throw wrap(`read archive ${file}`, err);
    }
    return new ArchiveCatalog(file, members);
  }

  /** Whether a regular file (possibly through links) of that name exists. */
  has(name: string): boolean {
    return this.lookup(name, false) !== undefined;
  }

  /** The regular file `name` refers to, following links inside the archive; BLOB_NOT_FOUND if absent. */
  private lookup(name: string, required: true): Member;
  private lookup(name: string, required: boolean): Member | undefined;
  private lookup(name: string, required: boolean): Member | undefined {
    let at = cleanMemberName(name);
    for (let hop = 0; hop <= MAX_HOPS; hop++) {
      const m = this.members.get(at);
      if (m === undefined || m.type === 'dir' || m.type === 'other') {
        if (!required) return undefined;
        const what = at === name ? JSON.stringify(name) : `${JSON.stringify(name)} (through links: ${JSON.stringify(at)})`;
        throw new OcikitError('BLOB_NOT_FOUND', `archive ${this.file} has no file ${what}`);
      }
      if (m.type === 'file') return m;
      at = m.target!;
    }
    throw new OcikitError('UNSAFE_ENTRY', `archive member ${JSON.stringify(name)}: too many levels of links`);
  }

  /** The size of member `name` (links followed). */
  size(name: string): number {
    return this.lookup(name, true).size;
  }

  /** The body of member `name` as a stream read from the file (links followed). The caller drains or destroys it. */
  open(name: string): Readable {
    const m = this.lookup(name, true);
    if (m.size === 0) return Readable.from([]);
    return createReadStream(this.file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }

  /** The whole body of a small member (manifest.json, a config); refuses one over `limit` bytes. */
  async read(name: string, limit: number): Promise<Buffer> {
    const size = this.size(name);
    if (size > limit) throw new OcikitError('VALIDATION_FAILED', `archive member ${JSON.stringify(name)} is ${size} bytes, over the ${limit}-byte limit`);
    const chunks: Buffer[] = [];
    try {
      for await (const c of this.open(name) as AsyncIterable<Buffer>) chunks.push(c);
    } catch (err) {
      throw wrap(`read ${name} from ${this.file}`, err);
    }
    const out = Buffer.concat(chunks);
    if (out.length !== size) throw new OcikitError('IO', `read ${name} from ${this.file}: the archive changed while it was read`);
    return out;
  }
}
