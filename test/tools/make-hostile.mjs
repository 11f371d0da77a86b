#!/usr/bin/env node
// Builds one hostile image for bats/unpack-errors.bats:
//
//   node test/tools/make-hostile.mjs LAYOUT CASE
//
// creates the layout LAYOUT (it must not exist) holding CASE's image under the
// tag "hostile". The layers come from the compiled test helper
// (dist/test/helpers/layer-builder.js: run `npx tsc -p tsconfig.json` first),
// so the bats cases and test/engine/hostile-unpack.test.ts build the same
// bytes. Names that climb out aim at ../../outside, i.e. LAYOUT's sibling
// `outside` when the bundle is LAYOUT's sibling too.
import { Layout } from '../../dist/src/store/layout.js';
import { flipByte, MT } from '../../dist/test/helpers/layout-builder.js';
import { addImage, gzipLayer, makeTarLayer, truncateBytes, zeroFileLayer } from '../../dist/test/helpers/layer-builder.js';

const MIB = 1 << 20;
const none = async (...entries) => ({ bytes: await makeTarLayer(entries), compression: 'none' });
const f = (name, body = 'x', more = {}) => ({ name, body, ...more });

/** CASE → the layers, and damage done to the stored image afterwards. */
const CASES = {
  'dotdot': async () => [await none(f('../../outside/canary', 'pwned'))],
  'hardlink-dotdot': async () => [await none({ name: 'h', type: 'link', linkname: '../../outside/canary' })],
  'hardlink-missing': async () => [await none({ name: 'h', type: 'link', linkname: 'later' }, f('later'))],
  'wh-bare': async () => [await none(f('keep')), await none({ name: 'd/', type: 'directory' }, f('d/.wh.', ''))],
  'wh-root': async () => [await none(f('keep')), await none(f('.wh..', ''))],
  'pax-nul': async () => [await none(f('decoy', 'x', { pax: { path: 'a\0b' } }))],
  'diffid': async () => [{ ...(await none(f('a'))), diffId: `sha256:${'0'.repeat(64)}` }],
  'corrupt-blob': async () => [await none(f('a', 'a'.repeat(2000)))],
  'gzip-truncated': async () => {
    const tar = await makeTarLayer([f('big', 'q'.repeat(200_000) + Math.random())]);
    return [{ bytes: truncateBytes(gzipLayer(tar, 1), 300), compression: 'gzip', uncompressed: tar }];
  },
  'media-type': async () => [{ ...(await none(f('a'))), mediaType: MT.unknown }],
  'bomb': async () => [{ bytes: gzipLayer(await zeroFileLayer('zeros', 8 * MIB)), compression: 'gzip' }],
};

const [layoutPath, name] = process.argv.slice(2);
const make = CASES[name];
if (!layoutPath || !make) {
  console.error(`usage: make-hostile.mjs LAYOUT CASE (CASE: ${Object.keys(CASES).join(', ')})`);
  process.exit(2);
}
await Layout.create(layoutPath);
const layout = await Layout.open(layoutPath);
try {
  const img = await addImage(layout, 'hostile', await make());
  // Written directly: the stored bytes no longer hash to their name.
  if (name === 'corrupt-blob') await flipByte(layout, img.layers[0].digest, 600);
} finally {
  await layout.close();
}
