/**
 * Oracles for the mtree tests: go-mtree's own Check (the Go program beside
 * this file, built on first use from Debian's go-mtree source) and umoci
 * 0.4.7, which writes a bundle mtree for a tree we build. Each returns a
 * reason string instead when its tool is not installed, so tests can skip
 * saying why.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../helpers/ocikit.js';

const GOPATH = '/usr/share/gocode';
const SOURCE = join(ROOT, 'test/tools/gomtree/main.go');

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let built: string | undefined;

/** Path of the built checker, or `{ skip }` saying what is missing. */
export function goMtreeChecker(): { bin: string } | { skip: string } {
  if (built !== undefined) return { bin: built };
  if (!which('go')) return { skip: 'go is not installed (apt-get install golang-go)' };
  if (!existsSync(join(GOPATH, 'src/github.com/vbatts/go-mtree/check.go'))) {
    return { skip: `go-mtree source not in ${GOPATH} (apt-get install golang-github-vbatts-go-mtree-dev)` };
  }
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `ocikit-gomtree-${hash}`);
  const bin = join(dir, 'gomtree-check');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('go', ['build', '-o', `${bin}.tmp`, '.'], {
      cwd: join(ROOT, 'test/tools/gomtree'),
      env: { ...process.env, GOPATH, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: join(dir, 'cache') },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`go build gomtree-check failed:\n${r.stderr}`);
    spawnSync('mv', [`${bin}.tmp`, bin]);
  }
  built = bin;
  return { bin };
}

export interface GoCheckResult {
  /** 0 no differences, 1 differences. */
  status: number;
  /** One go-mtree difference per line. */
  lines: string[];
  /** The paths named by the differences (Go-quoted, decoded). */
  paths: string[];
}

/** Run go-mtree's Check of `root` against the manifest text. */
export function goMtreeCheck(bin: string, manifestText: string, root: string, scratch: string): GoCheckResult {
  const file = join(scratch, `check-${process.pid}-${Date.now()}.mtree`);
  writeFileSync(file, manifestText);
  const r = spawnSync(bin, [file, root], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`gomtree-check failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const paths = lines.map((l) => JSON.parse(l.slice(0, l.indexOf('": ') + 1)) as string).sort();
  return { status: r.status, lines, paths };
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

/** Whether the tools `umociBundle` needs are here (and we are root), else why not. */
export function umociBundleSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (chown, security.* xattrs)';
  for (const [cmd, pkg] of [['umoci', 'umoci'], ['setcap', 'libcap2-bin'], ['setfattr', 'attr']] as const) {
    if (!which(cmd)) return `${cmd} is not installed (apt-get install ${pkg})`;
  }
  return undefined;
}

/**
 * Build, under `dir`, a source tree with every kind of file umoci handles —
 * directories (one setgid with mode 02710, one owned by 1000:1001), regular
 * files, a hardlink pair, symlinks (one with a space in its target), a fifo,
 * a setuid file, a file with user.* xattrs, one with a file capability
 * (binary value with 0x80), odd names — put it in an image with `umoci
 * insert`, and `umoci unpack` it. Returns the bundle's rootfs and mtree text.
 */
export function umociBundle(dir: string): { rootfs: string; mtree: string } {
  const src = join(dir, 'src');
  const script = [
    'set -e',
    `mkdir -p "${src}" && cd "${src}"`,
    'mkdir -p d/sub "sp ace" own/deep',
    'echo hello > d/f && touch -d "2001-02-03 04:05:06" d/f && ln d/f d/hard',
    'ln -s ../d/f d/link && ln -s "tar get" "sp ace/l"',
    'mkfifo fifo',
    'printf x > suid && chmod 4755 suid',
    'printf y > xa && setfattr -n user.foo -v bar xa && setfattr -n "user.sp ace" -v v2 xa',
    'printf z > cap && setcap cap_setuid+ep cap',
    'chmod 2710 d/sub && setfattr -n user.dir -v 1 d',
    'printf 1 > own/f && chown -R 1000:1001 own && chmod 0664 own/f',
    'printf w > "$(printf "we ird\\tta#b\\\\bs-é-*?[.txt")"',
    'printf e > own/deep/empty-mode && chmod 0 own/deep/empty-mode',
  ].join('\n');
  run('sh', ['-c', script], dir);
  run('umoci', ['init', '--layout', 'L'], dir);
  run('umoci', ['new', '--image', 'L:t'], dir);
  run('umoci', ['insert', '--image', 'L:t', 'src', '/'], dir);
  run('umoci', ['unpack', '--image', 'L:t', 'b'], dir);
  const bundle = join(dir, 'b');
  const name = readdirSync(bundle).find((n) => n.endsWith('.mtree'));
  if (name === undefined) throw new Error('umoci unpack wrote no mtree');
  return { rootfs: join(bundle, 'rootfs'), mtree: readFileSync(join(bundle, name), 'utf8') };
}
