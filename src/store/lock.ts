/**
 * Inter-process locking of a layout.
 *
 * The lock is a pair of fcntl byte-range locks on the layout's `oci-layout`
 * file, taken through the os-lock addon. That file is never rewritten, so its
 * inode is stable, and no extra file is added to the layout. A kernel lock dies
 * with its process: a `kill -9` can never leave a layout locked.
 *
 *  - byte 0, the "content" range: every command that puts blobs and then
 *    references them holds it shared for its whole run; gc holds it exclusive,
 *    so it never sweeps a blob that a writer has put but not yet referenced.
 *  - byte 1, the "index" range: exclusive around every read-modify-write of
 *    `index.json`, so concurrent writers never lose an update.
 *
 * fcntl locks belong to the process, and closing *any* descriptor of the file
 * drops them all. So each process keeps one descriptor per layout (shared by
 * every Layout object for it, reference counted), never opens `oci-layout`
 * elsewhere while locked, and serialises its own users with an in-process
 * reader/writer queue that mirrors the kernel ranges.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { OcikitError, errnoCode } from '../errors.js';

export type LockRange = 'content' | 'index';
export type LockMode = 'shared' | 'exclusive';

const OFFSET: Record<LockRange, number> = { content: 0, index: 1 };

interface OsLock {
  lock(fd: number, start: number, length: number, opts: { exclusive: boolean; immediate: boolean }): Promise<void>;
  unlock(fd: number, start: number, length: number): Promise<void>;
}

let osLock: OsLock | undefined;
function addon(): OsLock {
  osLock ??= createRequire(import.meta.url)('os-lock') as OsLock;
  return osLock;
}

/** An in-process reader/writer queue for one range. */
class RwQueue {
  private readers = 0;
  private writer = false;
  private waiting: Array<{ mode: LockMode; wake: () => void }> = [];

  async acquire(mode: LockMode): Promise<void> {
    if (this.canEnter(mode) && this.waiting.length === 0) return this.enter(mode);
    await new Promise<void>((wake) => this.waiting.push({ mode, wake }));
  }

  release(mode: LockMode): void {
    if (mode === 'exclusive') this.writer = false;
    else this.readers--;
    while (this.waiting.length > 0 && this.canEnter(this.waiting[0]!.mode)) {
      const next = this.waiting.shift()!;
      this.enter(next.mode);
      next.wake();
    }
  }

  private canEnter(mode: LockMode): boolean {
    return mode === 'shared' ? !this.writer : !this.writer && this.readers === 0;
  }

  private enter(mode: LockMode): void {
    if (mode === 'exclusive') this.writer = true;
    else this.readers++;
  }
}

/** One process-wide lock file per layout, reference counted. */
export class LockFile {
  private static readonly open = new Map<string, LockFile>();
  /** First opens in flight, so that concurrent acquires share one descriptor. */
  private static readonly opening = new Map<string, Promise<LockFile>>();
  /** Last closes in flight: a new descriptor is opened only after, or the close would drop its locks. */
  private static readonly closing = new Map<string, Promise<void>>();
  private refs = 0;
  private readonly queues: Record<LockRange, RwQueue> = { content: new RwQueue(), index: new RwQueue() };
  /** The kernel lock of a range, shared by in-process holders; `ready` settles when fcntl grants it. */
  private readonly held: Record<LockRange, { count: number; ready: Promise<void> } | undefined> = { content: undefined, index: undefined };
  /** The last unlock of a range; a new kernel lock waits for it, or the two could reach fcntl in either order. */
  private readonly unlocking: Record<LockRange, Promise<void>> = { content: Promise.resolve(), index: Promise.resolve() };

  private constructor(
    readonly path: string,
    readonly handle: FileHandle,
    readonly writable: boolean,
  ) {}

  /** Opens (or shares) the lock descriptor for `path` (the layout's oci-layout file). */
  static async acquire(path: string): Promise<LockFile> {
    let lf = LockFile.open.get(path);
    if (lf === undefined) {
      // Concurrent first acquires wait for one open(): opening a second
      // descriptor and closing it would drop locks taken meanwhile.
      let pending = LockFile.opening.get(path);
      if (pending === undefined) {
        pending = LockFile.openFile(path).finally(() => LockFile.opening.delete(path));
        LockFile.opening.set(path, pending);
      }
      lf = await pending;
    }
    lf.refs++;
    return lf;
  }

  private static async openFile(path: string): Promise<LockFile> {
    await LockFile.closing.get(path);
    let handle: FileHandle;
    let writable = true;
    try {
      handle = await open(path, 'r+');
    } catch (err) {
      if (errnoCode(err) !== 'EACCES' && errnoCode(err) !== 'EROFS') throw err;
      handle = await open(path, 'r');
      writable = false;
    }
    const lf = new LockFile(path, handle, writable);
    LockFile.open.set(path, lf);
    return lf;
  }

  async release(): Promise<void> {
    if (--this.refs > 0) return;
    LockFile.open.delete(this.path);
    const closed = this.handle.close();
    const settled = closed.then(
      () => undefined,
      () => undefined,
    );
    LockFile.closing.set(this.path, settled);
    void settled.then(() => {
      if (LockFile.closing.get(this.path) === settled) LockFile.closing.delete(this.path);
    });
    await closed;
  }

  /**
   * Runs `fn` holding `range` in `mode`, in this process and across processes.
   * Waits for a conflicting holder; the lock is released when `fn` settles.
   */
  async with<T>(range: LockRange, mode: LockMode, fn: () => Promise<T>): Promise<T> {
    if (mode === 'exclusive' && !this.writable) {
      throw new OcikitError('LAYOUT_LOCKED', `lock layout: ${this.path} is not writable`);
    }
    await this.queues[range].acquire(mode);
    try {
      await this.kernelLock(range, mode);
      try {
        return await fn();
      } finally {
        await this.kernelUnlock(range);
      }
    } finally {
      this.queues[range].release(mode);
    }
  }

  // Several in-process shared holders share one kernel lock; count them. The
  // entry is recorded before fcntl is asked, so that holders arriving while it
  // waits join it (and keep it until the last one leaves) instead of asking
  // again and being counted apart.
  private async kernelLock(range: LockRange, mode: LockMode): Promise<void> {
    const held = this.held[range];
    if (held !== undefined) {
      held.count++;
      try {
        await held.ready;
      } catch (err) {
        held.count--;
        throw err;
      }
      return;
    }
    const entry = {
      count: 1,
      ready: this.unlocking[range]
        .then(() => addon().lock(this.handle.fd, OFFSET[range], 1, { exclusive: mode === 'exclusive', immediate: false }))
        .catch((err: unknown) => {
          throw new OcikitError('LAYOUT_LOCKED', `lock layout: ${(err as Error).message}`, { cause: err });
        }),
    };
    this.held[range] = entry;
    try {
      await entry.ready;
    } catch (err) {
      if (this.held[range] === entry) this.held[range] = undefined;
      throw err;
    }
  }

  private async kernelUnlock(range: LockRange): Promise<void> {
    const held = this.held[range];
    if (held === undefined) return;
    if (--held.count > 0) return;
    this.held[range] = undefined;
    const done = addon().unlock(this.handle.fd, OFFSET[range], 1);
    this.unlocking[range] = done.catch(() => undefined);
    await done;
  }
}
