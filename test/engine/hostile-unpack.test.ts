/**
 * The hostile-layer corpus for `ocikit unpack` (and `raw unpack`): one table,
 * one row per attack. Every row runs the real CLI in a fresh sandbox
 *
 *   SANDBOX/layout   the image (built per sandbox: some layers name SANDBOX's absolute paths)
 *   SANDBOX/bundle   the bundle (an existing empty directory unless the row says otherwise)
 *   SANDBOX/outside  canary files, a directory, a symlink: what an escape would hit
 *
 * and asserts: the exit status; on failure exactly one stderr line
 * `ocikit unpack: …` matching the row's pattern, and no rootfs/ nor
 * config.json left in the bundle; on success the row's confined results and
 * no whiteout file in the rootfs; always, that nothing in SANDBOX outside
 * the bundle changed (paths, types, modes, owners, link counts, sizes,
 * contents, link targets, mtimes, ctimes), that the layout's bytes are the
 * same, and that no host path the row names (escapes to "/") appeared.
 *
 * `umoci` on a row: true means umoci 0.4.7 (/usr/bin/umoci) was checked to
 * give the same outcome on the same image; the `umoci agrees` sub-test runs
 * it again in its own sandbox. A string says how umoci differs or why it is
 * not run. HOSTILE_UMOCI=all runs umoci on every row and reports (without
 * failing) what it did, to re-check the strings.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { Layout } from '../../src/store/layout.js';
import { addImage } from '../helpers/layer-builder.js';
import { OCIKIT, runCommand, type RunResult } from '../helpers/ocikit.js';
import { exists, makeSandbox, snapshot, whiteoutNames, type Sandbox } from '../helpers/sandbox.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { CASES, type Case, type Check } from './hostile-cases.js';

const TAG = 'hostile';
const HAVE_UMOCI = existsSync('/usr/bin/umoci');

// --- running a row ---------------------------------------------------------------------------

interface Prepared {
  s: Sandbox;
  /** the snapshot of the sandbox without the bundle (with it, when a refusal must leave a pre-filled bundle alone) */
  before: string[];
  layoutBefore: string[];
  skip: string[];
}

const keepsBundle = (c: Case): boolean => c.fail !== undefined && typeof c.bundle === 'object';

async function prepare(root: string, c: Case): Promise<Prepared> {
  const s = await makeSandbox(root);
  await Layout.create(s.layout);
  const layout = await Layout.open(s.layout);
  try {
    const img = await addImage(layout, TAG, await c.layers(s), c.config);
    await c.corrupt?.(layout, img);
  } finally {
    await layout.close();
  }
  if (c.bundle !== 'absent') await mkdir(s.bundle);
  if (typeof c.bundle === 'object') {
    for (const [name, content] of Object.entries(c.bundle)) {
      if (name.endsWith('/')) await mkdir(join(s.bundle, name), { recursive: true });
      else await writeFile(join(s.bundle, name), content);
    }
  }
  const skip = keepsBundle(c) ? [] : ['bundle'];
  return { s, before: await compared(root, c, skip), layoutBefore: await snapshot(s.layout), skip };
}

/**
 * The sandbox snapshot a row compares. Not compared: the sandbox directory's
 * own line when the bundle is created in it (its times change), and the
 * bundle directory's own line when its content is (umoci chmods it to 0700).
 */
async function compared(root: string, c: Case, skip: string[]): Promise<string[]> {
  const lines = await snapshot(root, skip);
  return lines.filter((l) => !(c.bundle === 'absent' && l.startsWith('. ')) && !l.startsWith('bundle mode='));
}

function target(c: Case, s: Sandbox): string {
  return c.raw ? join(s.bundle, 'rootfs') : s.bundle;
}

function cliArgs(c: Case, s: Sandbox): string[] {
  return [...(c.raw ? ['raw', 'unpack'] : ['unpack']), ...(c.args ?? []), '--image', `${s.layout}:${TAG}`, target(c, s)];
}

async function checkRootfs(rootfs: string, checks: Check[]): Promise<void> {
  for (const ch of checks) {
    const p = join(rootfs, ch.path);
    if (ch.is === 'absent') {
      assert.equal(await exists(p), false, `${ch.path} must not exist`);
      continue;
    }
    const st = await lstat(p).catch(() => undefined);
    assert.ok(st, `${ch.path} must exist`);
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'other';
    assert.equal(type, ch.is, `${ch.path}: type`);
    if (ch.content !== undefined) assert.equal((await readFile(p)).toString(), ch.content, `${ch.path}: content`);
    if (ch.mode !== undefined) assert.equal((st.mode & 0o7777).toString(8), ch.mode.toString(8), `${ch.path}: mode`);
    if (ch.nlink !== undefined) assert.equal(st.nlink, ch.nlink, `${ch.path}: link count`);
    if (ch.uid !== undefined) assert.equal(st.uid, ch.uid, `${ch.path}: owner`);
    if (ch.target !== undefined) assert.equal(await readlink(p), ch.target, `${ch.path}: link target`);
    if (ch.rdev !== undefined) assert.deepEqual([Math.floor(st.rdev / 256) & 0xfff, st.rdev & 0xff], ch.rdev, `${ch.path}: device numbers`);
    const names = ch.noXattr || ch.xattr ? listAttributesSync(p) : [];
    for (const n of ch.noXattr ?? []) assert.ok(!names.includes(n), `${ch.path}: xattr ${n} must not be set`);
    for (const [n, v] of Object.entries(ch.xattr ?? {})) {
      assert.ok(names.includes(n), `${ch.path}: xattr ${n} must be set`);
      assert.equal(getAttributeSync(p, n)?.toString(), v, `${ch.path}: xattr ${n}`);
    }
  }
}

/** The checks every row makes on the sandbox after a run, whoever ran. */
async function checkConfined(c: Case, p: Prepared): Promise<void> {
  const after = await compared(p.s.root, c, p.skip);
  assert.deepEqual(await snapshot(p.s.layout), p.layoutBefore, 'the layout changed');
  assert.deepEqual(after, p.before, 'something outside the bundle changed');
  for (const h of c.host?.(p.s) ?? []) {
    const escaped = existsSync(h);
    if (escaped) await rm(h, { recursive: true, force: true });
    assert.equal(escaped, false, `${h} was created on the host`);
  }
}

/** ocikit's run of a row: everything the header of this file lists. */
async function runOcikitCase(root: string, c: Case): Promise<void> {
  const p = await prepare(root, c);
  // $OCIKIT (as in bats) names another executable to test, e.g. one running dist/src without the bundle.
  const bin = process.env['OCIKIT'];
  const r = bin ? await runCommand(bin, cliArgs(c, p.s), root, c.env) : await runCommand(process.execPath, [OCIKIT, ...cliArgs(c, p.s)], root, c.env);
  const rootfs = join(p.s.bundle, 'rootfs');
  try {
    if (c.fail) {
      assert.equal(r.status, 1, `exit status (stdout: ${r.stdout}, stderr: ${r.stderr})`);
      const lines = r.stderr.replace(/\n$/, '').split('\n');
      assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
      assert.match(lines[0]!, c.raw ? /^ocikit raw unpack: / : /^ocikit unpack: /);
      assert.match(lines[0]!, c.fail);
      if (!keepsBundle(c)) {
        assert.equal(await exists(rootfs), false, 'rootfs/ left behind after a failure');
        assert.equal(await exists(join(p.s.bundle, 'config.json')), false, 'config.json left behind after a failure');
      }
    } else {
      assert.equal(r.status, 0, `exit status (stderr: ${r.stderr})`);
      if (!c.raw) assert.ok(await exists(join(p.s.bundle, 'config.json')), 'config.json');
      assert.deepEqual(await whiteoutNames(rootfs), [], 'whiteout files in the rootfs');
      await checkRootfs(rootfs, c.ok?.(p.s) ?? []);
    }
  } finally {
    await checkConfined(c, p);
  }
}

/** Runs umoci 0.4.7's unpack (or raw unpack) of a row's image in `root`, a sandbox of its own. */
export async function runUmociUnpack(root: string, c: Case): Promise<{ p: Prepared; r: RunResult }> {
  const p = await prepare(root, c);
  const r = await runCommand('umoci', cliArgs(c, p.s), root, c.env);
  return { p, r };
}

/** umoci's run of a row: the same outcome (its own messages), the same confinement. */
async function umociAgrees(root: string, c: Case): Promise<void> {
  const { p, r } = await runUmociUnpack(root, c);
  try {
    if (c.fail) assert.notEqual(r.status, 0, `umoci succeeded (stderr: ${r.stderr})`);
    else {
      assert.equal(r.status, 0, `umoci failed: ${r.stderr}`);
      await checkRootfs(join(p.s.bundle, 'rootfs'), c.ok?.(p.s) ?? []);
    }
  } finally {
    await checkConfined(c, p);
  }
}

/** HOSTILE_UMOCI=all: what umoci did on a row, as a diagnostic line. */
async function describeUmoci(root: string, c: Case): Promise<string> {
  const { p, r } = await runUmociUnpack(root, c);
  let outcome = r.status === 0 ? 'succeeded' : `failed: ${r.stderr.trim().split('\n').pop()}`;
  if (!c.fail && r.status === 0) {
    outcome += await checkRootfs(join(p.s.bundle, 'rootfs'), c.ok?.(p.s) ?? []).then(() => ' (checks pass)', (e: Error) => ` (checks fail: ${e.message.split('\n')[0]})`);
  }
  outcome += await checkConfined(c, p).then(() => '', (e: Error) => ` NOT CONFINED: ${e.message.split('\n')[0]}`);
  return outcome;
}

describe('hostile unpack corpus', () => {
  test('has at least 45 rows with distinct names', () => {
    assert.ok(CASES.length >= 45, `${CASES.length} rows`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
  });

  for (const c of CASES) {
    describe(c.name, () => {
      test('ocikit', async (t) => {
        const tmp = await makeTmpDir(t);
        await runOcikitCase(tmp.path, c);
      });
      if (c.umoci === true) {
        test('umoci agrees', { skip: HAVE_UMOCI ? false : 'umoci is not installed' }, async (t) => {
          const tmp = await makeTmpDir(t);
          await umociAgrees(tmp.path, c);
        });
      } else if (process.env['HOSTILE_UMOCI'] === 'all' && HAVE_UMOCI) {
        test(`umoci (not compared: ${c.umoci})`, async (t) => {
          const tmp = await makeTmpDir(t);
          t.diagnostic(`umoci ${await describeUmoci(tmp.path, c)}`);
        });
      }
    });
  }
});

