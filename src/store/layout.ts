/**
 * The raw layout: an `oci-layout` file, `index.json` and `blobs/<alg>/<hex>`.
 * This module knows paths, the layout header and the lock; blobs.ts and
 * index-file.ts do the reading and writing. Nothing above store/ touches these
 * paths (image/ works through the functions exported here).
 */
import { lstat, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, basename } from 'node:path';
import { OcikitError, errnoCode, wrap } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import { encodeGo } from '../oci/go-json.js';
import { MediaType } from '../oci/media-types.js';
import { fsyncDir, tempName } from '../util/fsync.js';
import { LockFile, type LockMode, type LockRange } from './lock.js';

export const LAYOUT_VERSION = '1.0.0';
const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';

/** An open image layout. Call close() when done (releases the lock descriptor). */
export class Layout {
  private constructor(
    /** The layout directory, absolute. */
    readonly root: string,
    private readonly lock: LockFile,
  ) {}

  /**
   * Opens an existing layout: checks that `oci-layout` exists, parses, and names
   * a supported imageLayoutVersion, and that `index.json` and `blobs/` exist.
   */
  static async open(path: string): Promise<Layout> {
    const root = resolve(path);
    const layoutFile = join(root, LAYOUT_FILE);
    let lock: LockFile;
    try {
      // stat, not lstat: a symlink to a layout directory is a layout, as in umoci.
      const st = await stat(root);
      if (!st.isDirectory()) throw new OcikitError('LAYOUT_INVALID', `open layout: not a directory: ${path}`);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new OcikitError('LAYOUT_INVALID', `open layout: no such directory: ${path}`, { cause: err });
      throw err instanceof OcikitError ? err : wrap('open layout', err);
    }
    try {
      lock = await LockFile.acquire(layoutFile);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new OcikitError('LAYOUT_INVALID', `open layout: not an OCI image layout (no oci-layout file): ${path}`, { cause: err });
      }
      if (errnoCode(err) === 'EISDIR') {
        throw new OcikitError('LAYOUT_INVALID', `open layout: not an OCI image layout (oci-layout is a directory): ${path}`, { cause: err });
      }
      throw wrap('open layout', err);
    }
    const layout = new Layout(root, lock);
    try {
      await layout.checkHeader(path);
    } catch (err) {
      await layout.close();
      throw err;
    }
    return layout;
  }

  /**
   * Creates a new, empty layout at `path` (parents included), as `umoci init`
   * does. Refuses an existing path. The layout is built in a sibling temporary
   * directory and renamed into place, so a crash never leaves half a layout.
   */
  static async create(path: string): Promise<void> {
    const root = resolve(path);
    try {
      await lstat(root);
      throw new OcikitError('LAYOUT_INVALID', `image layout creation: path already exists: ${path}`);
    } catch (err) {
      if (err instanceof OcikitError) throw err;
      if (errnoCode(err) !== 'ENOENT') throw wrap('image layout creation', err);
    }
    const parent = dirname(root);
    const tmp = join(parent, `${tempName()}-${basename(root)}`);
    try {
      await mkdir(parent, { recursive: true });
      await mkdir(join(tmp, 'blobs', 'sha256'), { recursive: true, mode: 0o755 });
      await writeFile(join(tmp, LAYOUT_FILE), encodeGo('layout', { imageLayoutVersion: LAYOUT_VERSION }), { mode: 0o644 });
      await writeFile(join(tmp, INDEX_FILE), encodeGo('index', { schemaVersion: 2, mediaType: MediaType.index, manifests: [] }), { mode: 0o644 });
      await fsyncDir(join(tmp, 'blobs', 'sha256'));
      await fsyncDir(join(tmp, 'blobs'));
      await fsyncDir(tmp);
      // rename(2) would replace an empty directory created meanwhile; check again.
      try {
        await lstat(root);
        throw new OcikitError('LAYOUT_INVALID', `image layout creation: path already exists: ${path}`);
      } catch (err) {
        if (err instanceof OcikitError) throw err;
      }
      await rename(tmp, root);
      await fsyncDir(parent);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err instanceof OcikitError ? err : wrap('image layout creation', err);
    }
  }

  private async checkHeader(shown: string): Promise<void> {
    let header: unknown;
    try {
      // Read through the lock's own descriptor: opening and closing the file
      // again would drop this process's fcntl locks on it.
      // Positional reads: the descriptor is shared by every Layout of this path.
      const { size } = await this.lock.handle.stat();
      if (size > 1 << 20) throw new Error('oci-layout too large');
      const buf = Buffer.alloc(size);
      const { bytesRead } = await this.lock.handle.read(buf, 0, size, 0);
      header = JSON.parse(buf.subarray(0, bytesRead).toString('utf8'));
    } catch (err) {
      throw new OcikitError('LAYOUT_INVALID', `open layout: read oci-layout: invalid image layout: ${shown}`, { cause: err });
    }
    const version = (header as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
    if (typeof version !== 'string') {
      throw new OcikitError('LAYOUT_INVALID', `open layout: oci-layout has no imageLayoutVersion: ${shown}`);
    }
    if (version !== LAYOUT_VERSION) {
      throw new OcikitError('LAYOUT_INVALID', `open layout: unsupported imageLayoutVersion ${JSON.stringify(version)} (ocikit reads ${LAYOUT_VERSION}): ${shown}`);
    }
    for (const [name, dir] of [[INDEX_FILE, false], ['blobs', true]] as const) {
      try {
        const st = await lstat(join(this.root, name));
        if (st.isDirectory() !== dir) throw new Error('wrong file type');
      } catch (err) {
        throw new OcikitError('LAYOUT_INVALID', `open layout: missing or invalid ${name}: ${shown}`, { cause: err });
      }
    }
  }

  async close(): Promise<void> {
    await this.lock.release();
  }

  /** Runs `fn` holding one of the layout's lock ranges (see lock.ts). */
  withLock<T>(range: LockRange, mode: LockMode, fn: () => Promise<T>): Promise<T> {
    return this.lock.with(range, mode, fn);
  }

  /** Where a blob lives; the digest is checked, so a hostile digest cannot name another path. */
  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.root, 'blobs', algorithm, hex);
  }

  get indexPath(): string {
    return join(this.root, INDEX_FILE);
  }

  /** Temporary files live in the layout root (same filesystem as blobs/, for rename). */
  get tmpDir(): string {
    return this.root;
  }
}

/** Reads a file of the layout, mapping a missing file to `code`. */
export async function readLayoutFile(path: string, code: 'BLOB_NOT_FOUND' | 'LAYOUT_INVALID', what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new OcikitError(code, `${what}: not found`, { cause: err });
    throw wrap(what, err);
  }
}
