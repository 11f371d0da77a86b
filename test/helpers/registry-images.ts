/**
 * Images for the registry bridge's tests: layouts built here (gzip layers of
 * random bytes, single- or multi-platform) and pushed to the test registry
 * with skopeo, the oracle; plus a content snapshot of a layout to check it
 * is unchanged after a failed command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Descriptor } from '../../src/oci/types.js';
import { MT, addTag, makeLayout, onPlatform, putImage, putIndex } from './layout-builder.js';
import type { AfterHook } from './tmp.js';

export function haveSkopeo(): boolean {
  return spawnSync('skopeo', ['--version']).status === 0;
}

/** Runs skopeo, failing the test on a non-zero exit; returns stdout. */
export function skopeo(...args: string[]): string {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A gzip "layer" of `size` random bytes (registries never look inside). */
export function randomLayer(size: number): Buffer {
  return gzipSync(randomBytes(size), { level: 1 });
}

export interface TestImage {
  /** The layout directory. */
  root: string;
  tag: string;
  top: Descriptor;
  /** Every blob digest of the image (manifests, configs, layers). */
  digests: string[];
}

/** A layout holding one image tagged `v1`: two gzip layers (the first `bigSize` random bytes). */
export async function singleImage(t: AfterHook, bigSize = 300_000): Promise<TestImage> {
  const layout = await makeLayout(t);
  const img = await putImage(layout, { layers: [randomLayer(bigSize), randomLayer(1000)], layerMediaType: MT.layerGzip });
  await addTag(layout, 'v1', img.manifest);
  return { root: layout.root, tag: 'v1', top: img.manifest, digests: [img.manifest.digest, img.config.digest, ...img.layers.map((l) => l.digest)] };
}

export const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

/** A layout holding an index tagged `multi` with one small image per platform of PLATFORMS. */
export async function multiImage(t: AfterHook): Promise<TestImage & { children: Descriptor[] }> {
  const layout = await makeLayout(t);
  const children: Descriptor[] = [];
  const digests: string[] = [];
  for (const p of PLATFORMS) {
    const img = await putImage(layout, { layers: [randomLayer(20_000)], layerMediaType: MT.layerGzip, config: { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) } });
    children.push(onPlatform(img.manifest, p));
    digests.push(img.manifest.digest, img.config.digest, ...img.layers.map((l) => l.digest));
  }
  const index = await putIndex(layout, children);
  await addTag(layout, 'multi', index);
  return { root: layout.root, tag: 'multi', top: index, digests: [index.digest, ...digests], children };
}

/** Pushes a layout's tag with skopeo (`format` v2s2 makes a Docker schema 2 image). */
export function skopeoPush(image: TestImage, dest: string, opts: { format?: 'v2s2' | 'oci'; all?: boolean; creds?: string } = {}): void {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (opts.format) args.push('--format', opts.format);
  if (opts.all) args.push('--all');
  if (opts.creds) args.push('--dest-creds', opts.creds);
  skopeo(...args, `oci:${image.root}:${image.tag}`, `docker://${dest}`);
}

/** Paths and file digests under `dir`: what "the layout is unchanged" compares (times left out). */
export async function contentSnapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? dir : join(dir, rel);
    let st;
    try {
      st = await lstat(abs);
    } catch {
      out.push(`${rel} absent`);
      return;
    }
    if (st.isDirectory()) {
      out.push(`${rel || '.'}/`);
      for (const name of (await readdir(abs)).sort()) await walk(rel === '' ? name : join(rel, name));
    } else out.push(`${rel} ${createHash('sha256').update(await readFile(abs)).digest('hex')}`);
  };
  await walk('');
  return out;
}

/** The blob file names of a layout, sorted. */
export async function blobNames(root: string): Promise<string[]> {
  return (await readdir(join(root, 'blobs', 'sha256'))).sort();
}
