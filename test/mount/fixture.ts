/**
 * Shared by the mount tests: a three-layer image with a whiteout and opaque
 * directories (both orders of an opaque marker and its directory), whether
 * kernel overlayfs can be mounted here, and cleanup that always unmounts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Layout } from '../../src/store/layout.js';
import { addImage, gzipLayer, makeTarLayer, type LayeredImage } from '../helpers/layer-builder.js';

/** Why the overlay tests cannot run here, or undefined when they can. */
export function overlaySkip(): string | undefined {
  if (process.geteuid?.() !== 0) return 'needs root for kernel overlayfs';
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-ovl-probe-'));
  try {
    for (const d of ['a', 'b', 'm']) mkdirSync(join(dir, d));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', 'lowerdir=a:b', 'm'], { cwd: dir, stdio: 'ignore' });
    execFileSync('umount', [join(dir, 'm')], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'mount -t overlay fails on this machine';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Unmounts `dir` until nothing is mounted there (for t.after, whatever the test did). */
export function forceUnmount(dir: string): void {
  for (let i = 0; i < 5; i++) {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      return;
    }
  }
}

/**
 * Layer 1: etc/{hello,gone}, opq/{a,b}, keep/x, late/old.
 * Layer 2 (gzip): etc/.wh.gone, opq/ then opq/.wh..wh..opq, opq/new, etc/added.
 * Layer 3: late/.wh..wh..opq before late/, late/new, keep/y, top.
 */
export async function addMountImage(layout: Layout, tag = 'latest'): Promise<LayeredImage> {
  const l1 = await makeTarLayer([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hello', body: 'hello\n' },
    { name: 'etc/gone', body: 'gone\n' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/a', body: 'a' },
    { name: 'opq/b', body: 'b' },
    { name: 'keep/', type: 'directory' },
    { name: 'keep/x', body: 'x' },
    { name: 'late/', type: 'directory' },
    { name: 'late/old', body: 'old' },
  ]);
  const l2 = await makeTarLayer([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.gone', body: '' },
    { name: 'etc/added', body: 'added\n' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/.wh..wh..opq', body: '' },
    { name: 'opq/new', body: 'new' },
  ]);
  const l3 = await makeTarLayer([
    { name: 'late/.wh..wh..opq', body: '' },
    { name: 'late/', type: 'directory', mode: 0o750 },
    { name: 'late/new', body: 'late new' },
    { name: 'keep/', type: 'directory' },
    { name: 'keep/y', body: 'y' },
    { name: 'top', body: 'top\n', mode: 0o600 },
  ]);
  return addImage(layout, tag, [
    { bytes: l1, compression: 'none' },
    { bytes: gzipLayer(l2), compression: 'gzip' },
    { bytes: l3, compression: 'none' },
  ]);
}
