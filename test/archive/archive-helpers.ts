/**
 * Helpers for the archive tests: a layout with a small layered image (gzip
 * and plain layers), hand-made docker-archives (any member order, hostile
 * names), a listing of an unpacked tree, and a test archive's members.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Layout } from '../../src/store/layout.js';
import { addImage, gzipLayer, makeTarLayer, type LayerEntry, type LayeredImage } from '../helpers/layer-builder.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';

export function sha256(buf: Buffer | string): string {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

export const LAYER_A: LayerEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/hostname', body: 'box\n' },
  { name: 'bin/', type: 'directory', mode: 0o755 },
  { name: 'bin/tool', body: Buffer.alloc(70_000, 7), mode: 0o755 },
  { name: 'bin/alias', type: 'symlink', linkname: 'tool' },
];
export const LAYER_B: LayerEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/motd', body: 'hello\n', uid: 1000, gid: 1000 },
  { name: 'etc/.wh.hostname', body: '' },
];
export const LAYER_C: LayerEntry[] = [{ name: 'data.txt', body: 'plain layer\n' }];

export interface Fixture {
  dir: string;
  /** The layout directory (named "My_Images"). */
  layout: string;
  image: LayeredImage;
}

/** A temporary directory holding the layout My_Images with image v1 (gzip, gzip, plain layers). */
export async function fixture(t: AfterHook): Promise<Fixture> {
  const tmp = await makeTmpDir(t);
  const root = join(tmp.path, 'My_Images');
  await Layout.create(root);
  const layout = await Layout.open(root);
  try {
    const image = await addImage(layout, 'v1', [
      { bytes: gzipLayer(await makeTarLayer(LAYER_A)), compression: 'gzip' },
      { bytes: gzipLayer(await makeTarLayer(LAYER_B)), compression: 'gzip' },
      { bytes: await makeTarLayer(LAYER_C), compression: 'none' },
    ], { config: { Env: ['A=1'], Cmd: ['/bin/tool'] } as never });
    return { dir: tmp.path, layout: root, image };
  } finally {
    await layout.close();
  }
}

/** Runs a program; fails on a non-zero exit. */
export function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version']).status === 0;
}

/** Every path under `dir` with its type, mode, owner, and content digest or link target. */
export async function treeListing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(dir, p));
      const base = `${p} ${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.push(base);
        await walk(p);
      } else if (st.isSymbolicLink()) out.push(`${base} -> ${await readlink(join(dir, p))}`);
      else out.push(`${base} ${sha256(await readFile(join(dir, p)))}`);
    }
  };
  await walk('');
  return out;
}

/** A tar of `members` in the order given (files only unless a type is set). */
export function archiveOf(members: LayerEntry[]): Promise<Buffer> {
  return makeTarLayer(members);
}

/** A docker-archive made by hand: manifest.json written last, config and layers as given. */
export async function dockerArchive(opts: { layers: Buffer[]; diffIds?: string[]; layerNames?: string[]; extra?: LayerEntry[]; omit?: string[] }): Promise<Buffer> {
  const diffIds = opts.diffIds ?? opts.layers.map((l) => sha256(l));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configName = `${sha256(config).slice(7)}.json`;
  const names = opts.layerNames ?? opts.layers.map((l) => `${sha256(l).slice(7)}/layer.tar`);
  const members: LayerEntry[] = [...(opts.extra ?? [])];
  opts.layers.forEach((l, i) => {
    if (!opts.omit?.includes(names[i]!)) members.push({ name: names[i]!, body: l });
  });
  members.push({ name: configName, body: config });
  members.push({ name: 'manifest.json', body: JSON.stringify([{ Config: configName, RepoTags: ['example/app:7'], Layers: names }]) });
  return archiveOf(members);
}
