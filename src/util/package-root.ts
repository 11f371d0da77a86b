import { readFileSync } from 'node:fs';

/**
 * The URL of the directory holding ocikit's package.json, found by walking up
 * from `from` (a module's import.meta.url). Works from the compiled tree
 * (dist/src/…), the bundle (dist/ocikit.mjs) and a global install alike.
 */
export function packageRoot(from: string): URL {
  let dir = new URL('.', from);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown };
      if (pkg.name === 'ocikit') return dir;
    } catch {
      // No package.json here, or not ours: keep walking.
    }
    const parent = new URL('..', dir);
    if (parent.href === dir.href) throw new Error(`[internal error] no package.json named "ocikit" above ${from}`);
    dir = parent;
  }
}

/** ocikit's own version, from its package.json. */
export function ocikitVersion(): string {
  const root = packageRoot(import.meta.url);
  return (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string }).version;
}
