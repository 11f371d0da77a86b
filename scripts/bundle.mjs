// Bundles the compiled CLI into one file, dist/ocikit.mjs. Loading one module
// instead of ~40 saves about 50 ms of every command's start (measured with
// process.cpuUsage around the import: 80 ms unbundled, 30 ms bundled).
// ajv and its friends stay external (loaded lazily, only when a schema is
// checked), and so do the native addons (os-lock, @napi-rs/xattr).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/ocikit.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['os-lock', '@napi-rs/xattr', 'ajv', 'ajv/*', 'ajv-draft-04', 'ajv-formats', 'ajv-formats/*'],
  // clipanion is CommonJS and requires node builtins; give the bundle a require.
  banner: { js: "import { createRequire as __ocikitRequire } from 'node:module'; const require = __ocikitRequire(import.meta.url);" },
  logLevel: 'warning',
});
