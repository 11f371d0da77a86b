/**
 * Temporary directories for tests. Each one is created under the system temp
 * directory and removed, with everything in it, when the test that asked for
 * it ends (pass the test's context) or when the returned `cleanup` is called.
 * Permission bits a test took away are restored first, so cleanup works for
 * non-root runs too.
 */
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of node:test's TestContext this helper needs. */
export interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

export interface TmpDir {
  /** absolute path of the new, empty directory */
  path: string;
  /** removes the directory; safe to call more than once */
  cleanup(): Promise<void>;
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory()) await makeWritable(join(dir, e.name));
  }
}

async function remove(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

/**
 * Creates a fresh temporary directory. With a test context, it is removed in
 * that test's `after` hook; otherwise the caller calls `cleanup()`.
 */
export async function makeTmpDir(t?: AfterHook, prefix = 'ocikit-test-'): Promise<TmpDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  let done = false;
  const cleanup = async (): Promise<void> => {
    if (done) return;
    done = true;
    await remove(path);
  };
  t?.after(cleanup);
  return { path, cleanup };
}

/** Runs `fn` with a fresh temporary directory and removes it afterwards, whatever `fn` does. */
export async function withTmpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const tmp = await makeTmpDir();
  try {
    return await fn(tmp.path);
  } finally {
    await tmp.cleanup();
  }
}
