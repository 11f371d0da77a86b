/**
 * Mounting and unmounting the overlay. Node has no mount(2), so the programs
 * do it: `mount -t overlay` (kernel overlayfs, as root) and, when the kernel
 * refuses (an unprivileged caller, no overlay module), `fuse-overlayfs` if it
 * is installed. Both run with their working directory in the layer cache's
 * link directory, so the lower layers are named by their short links and the
 * option string stays within the kernel's one-page limit.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { OcikitError } from '../errors.js';

const run = promisify(execFile);

export type OverlayDriver = 'overlay' | 'fuse-overlayfs';

/** The kernel's limit on mount options (one page) less room for what mount(8) adds. */
const OPTIONS_MAX = 4000;

export interface OverlaySpec {
  /** Directory the lower names are relative to. */
  cwd: string;
  /** Lower layer names, topmost first. */
  lowers: string[];
  /** Absolute upper and work directories; absent for a read-only mount. */
  upper?: string;
  work?: string;
  target: string;
}

/** Characters that mount option parsing would split on or unescape. */
const UNSAFE = /[,:\\\n]/;

/** Refuses a path that cannot be written into an overlay option string. */
export function checkOptionPath(path: string, what: string): void {
  if (UNSAFE.test(path)) {
    throw new OcikitError('USAGE', `${what} ${JSON.stringify(path)} contains a character overlayfs options cannot hold (',', ':', '\\' or a newline)`);
  }
}

function overlayOptions(spec: OverlaySpec): string {
  const parts = [`lowerdir=${spec.lowers.join(':')}`];
  if (spec.upper !== undefined) parts.push(`upperdir=${spec.upper}`, `workdir=${spec.work!}`);
  else parts.unshift('ro');
  const options = parts.join(',');
  if (options.length > OPTIONS_MAX) {
    throw new OcikitError('VALIDATION_FAILED', `overlay options for ${spec.lowers.length} layers are ${options.length} bytes, more than the kernel takes (${OPTIONS_MAX})`);
  }
  return options;
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const text = (e.stderr !== undefined && e.stderr.trim() !== '' ? e.stderr : (e.message ?? String(err))).trim();
  return text.split('\n')[0]!.trim();
}

/** The first executable `name` on PATH. */
async function findProgram(name: string, path = process.env['PATH'] ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Mounts the overlay; returns which driver did it. */
export async function mountOverlay(spec: OverlaySpec): Promise<OverlayDriver> {
  const options = overlayOptions(spec);
  try {
    // OCIKIT_OVERLAY=fuse-overlayfs skips the kernel (to test or force the fallback).
    if (process.env['OCIKIT_OVERLAY'] === 'fuse-overlayfs') throw new Error('kernel overlayfs skipped (OCIKIT_OVERLAY=fuse-overlayfs)');
    await run('mount', ['-t', 'overlay', 'overlay', '-o', options, spec.target], { cwd: spec.cwd });
    return 'overlay';
  } catch (err) {
    const kernel = firstLine(err);
    const fuse = spec.upper === undefined ? undefined : await findProgram('fuse-overlayfs');
    if (fuse === undefined) {
      const hint = spec.upper === undefined
        ? 'a read-only mount needs kernel overlayfs (fuse-overlayfs always needs an upper directory)'
        : process.geteuid?.() === 0 ? undefined : 'unprivileged mounts need fuse-overlayfs on PATH';
      throw new OcikitError('IO', `mount overlay on ${spec.target}: ${kernel}`, hint === undefined ? { cause: err } : { cause: err, hint });
    }
    try {
      await run(fuse, ['-o', options, spec.target], { cwd: spec.cwd });
      return 'fuse-overlayfs';
    } catch (err2) {
      throw new OcikitError('IO', `mount overlay on ${spec.target}: kernel: ${kernel}; fuse-overlayfs: ${firstLine(err2)}`, { cause: err2 });
    }
  }
}

/** Unmounts `target`, mounted by `driver`. */
export async function unmountOverlay(target: string, driver: OverlayDriver): Promise<void> {
  const tries: Array<[string, string[]]> = [];
  if (driver === 'fuse-overlayfs') {
    for (const p of ['fusermount3', 'fusermount']) {
      const found = await findProgram(p);
      if (found !== undefined) tries.push([found, ['-u', target]]);
    }
  }
  tries.push(['umount', [target]]);
  let last: unknown;
  for (const [cmd, args] of tries) {
    try {
      await run(cmd, args);
      return;
    } catch (err) {
      last = err;
    }
  }
  throw new OcikitError('IO', `unmount ${target}: ${firstLine(last)}`, { cause: last });
}
