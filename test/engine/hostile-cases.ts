/**
 * The hostile-layer corpus for `ocikit unpack` and `raw unpack`: one row per
 * attack, with the layers that make it (built per sandbox, since some name
 * the sandbox's absolute paths), whether unpack must fail (and the one-line
 * error it must print) or what the confined result must be, and whether
 * umoci 0.4.7 was checked to agree. hostile-unpack.test.ts runs the rows.
 */
import { randomBytes } from 'node:crypto';
import type { ImageConfig } from '../../src/oci/types.js';
import type { Layout } from '../../src/store/layout.js';
import { flipByte, MT } from '../helpers/layout-builder.js';
import {
  corruptChecksum, flipBytes, gzipLayer, makeTarLayer, truncateBytes, withoutEndMarker, zeroFileLayer,
  type LayeredImage, type LayerEntry, type LayerSpec,
} from '../helpers/layer-builder.js';
import type { Sandbox } from '../helpers/sandbox.js';

/** What must be at a path of the rootfs after a successful unpack. */
export interface Check {
  path: string;
  is: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'absent';
  content?: string;
  /** permission and special bits (st_mode & 07777) */
  mode?: number;
  nlink?: number;
  uid?: number;
  target?: string;
  rdev?: [number, number];
  /** xattr names that must not be set */
  noXattr?: string[];
  /** xattrs that must be set, with these values */
  xattr?: Record<string, string>;
}

const file = (path: string, content?: string, more: Partial<Check> = {}): Check => ({ path, is: 'file', ...(content === undefined ? {} : { content }), ...more });
const dir = (path: string, more: Partial<Check> = {}): Check => ({ path, is: 'dir', ...more });
const link = (path: string, target: string): Check => ({ path, is: 'symlink', target });
const gone = (path: string): Check => ({ path, is: 'absent' });

export interface Case {
  name: string;
  layers(s: Sandbox): Promise<LayerSpec[]>;
  /** extra flags (--rootless, --keep-dirlinks …) */
  args?: string[];
  env?: Record<string, string>;
  /** `raw unpack` into SANDBOX/bundle/rootfs instead of `unpack` into SANDBOX/bundle */
  raw?: boolean;
  /** the bundle before the run: an empty directory (default), absent, or holding these files (name ending in / = directory) */
  bundle?: 'empty' | 'absent' | Record<string, string>;
  config?: Partial<ImageConfig>;
  /** damage done after the image is stored (bytes written directly) */
  corrupt?(layout: Layout, img: LayeredImage): Promise<void>;
  /** must fail, with one stderr line matching this */
  fail?: RegExp;
  /** must succeed, with these results */
  ok?(s: Sandbox): Check[];
  /** absolute host paths an escape would create (must not exist afterwards) */
  host?(s: Sandbox): string[];
  /** true: umoci 0.4.7 verified to agree; a string: how it differs, or why it is not run */
  umoci: true | string;
  /** how umoci gets to the same outcome, where that is worth knowing */
  note?: string;
}

const none = async (...entries: LayerEntry[]): Promise<LayerSpec> => ({ bytes: await makeTarLayer(entries), compression: 'none' });
const gz = async (...entries: LayerEntry[]): Promise<LayerSpec> => ({ bytes: gzipLayer(await makeTarLayer(entries)), compression: 'gzip' });
const layers = (...l: Array<Promise<LayerSpec>>): Promise<LayerSpec[]> => Promise.all(l);
const f = (name: string, body = 'x', more: Partial<LayerEntry> = {}): LayerEntry => ({ name, body, ...more });
const d = (name: string, more: Partial<LayerEntry> = {}): LayerEntry => ({ name, type: 'directory', ...more });
const sym = (name: string, linkname: string): LayerEntry => ({ name, type: 'symlink', linkname, mode: 0o777 });
const hard = (name: string, linkname: string): LayerEntry => ({ name, type: 'link', linkname });

/** The error for a name that climbs above the root. */
const ESCAPES = /escapes the root/;
/** umoci cleans names lexically against "/" (CleanPath), so ".." at the top is dropped, never refused. */
const UMOCI_CONFINES_DOTDOT = 'umoci 0.4.7 confines ".." (cleans the name against "/") and succeeds; ocikit refuses a name that climbs above the root';
const MIB = 1 << 20;

export const CASES: Case[] = [
  // --- ".." and absolute names -----------------------------------------------------
  { name: 'leading ../ climbs out', layers: () => layers(none(f('../../outside/canary', 'pwned'))), fail: ESCAPES, umoci: UMOCI_CONFINES_DOTDOT },
  { name: '.. in the middle climbs out', layers: () => layers(none(f('a/../../../outside/canary', 'pwned'))), fail: ESCAPES, umoci: UMOCI_CONFINES_DOTDOT },
  { name: 'many ../ climb out', layers: () => layers(none(f(`${'../'.repeat(64)}outside/canary`, 'pwned'))), fail: ESCAPES, umoci: UMOCI_CONFINES_DOTDOT },
  { name: 'directory entry ../ climbs out', layers: () => layers(none(d('../../outside/newdir/'))), fail: ESCAPES, umoci: UMOCI_CONFINES_DOTDOT },
  { name: '.. that stays inside is cleaned', layers: () => layers(none(d('a/'), f('a/b/../../c', 'in'))), ok: () => [file('c', 'in')], umoci: true },
  {
    name: 'absolute name is confined',
    layers: (s) => layers(none(f(`/${s.token}`, 'abs'), f(`${s.outside}/canary`, 'pwned'))),
    ok: (s) => [file(s.token, 'abs'), file(`${s.outside.slice(1)}/canary`, 'pwned')],
    host: (s) => [`/${s.token}`],
    umoci: true,
  },
  {
    name: 'a file named ".." is refused',
    layers: () => layers(none(f('..', 'x'))),
    fail: ESCAPES,
    umoci: true,
    note: 'umoci cleans ".." to the root and fails because the root entry is not a directory',
  },
  { name: 'a file named "." names the root and is refused', layers: () => layers(none(f('.', 'x'))), fail: /names the root/, umoci: true },
  { name: 'a directory named "./" is the root itself', layers: () => layers(none(d('./', { mode: 0o750 }), f('x', 'y'))), ok: () => [file('x', 'y')], umoci: true },

  // --- symlink escapes -------------------------------------------------------------
  {
    name: 'symlink to / then a file through it',
    layers: (s) => layers(none(sym('link', '/'), f(`link/${s.token}`, 'pwned'))),
    ok: (s) => [link('link', '/'), file(s.token, 'pwned')],
    host: (s) => [`/${s.token}`],
    umoci: true,
  },
  {
    name: 'symlink to ../../.. then a file through it',
    layers: () => layers(none(sym('link', '../../..'), f('link/outside/canary', 'pwned'))),
    ok: () => [file('outside/canary', 'pwned')],
    umoci: true,
  },
  {
    name: 'symlink to ../../outside, overwrite through it',
    layers: () => layers(none(sym('link', '../../outside'), f('link/canary', 'pwned'))),
    ok: () => [link('link', '../../outside'), file('outside/canary', 'pwned')],
    umoci: true,
  },
  {
    name: 'chain of symlinks out',
    layers: () => layers(none(sym('a', 'b'), sym('b', 'c/d'), d('c/'), sym('c/d', '../../../outside'), f('a/canary', 'pwned'))),
    ok: () => [file('outside/canary', 'pwned'), link('a', 'b')],
    umoci: true,
  },
  {
    name: 'symlink to the absolute path of outside',
    layers: (s) => layers(none(sym('link', s.outside), f('link/canary', 'pwned'), f('link/dir/secret', 'pwned'))),
    ok: (s) => [file(`${s.outside.slice(1)}/canary`, 'pwned'), file(`${s.outside.slice(1)}/dir/secret`, 'pwned')],
    umoci: true,
  },
  {
    name: 'symlink in a lower layer, write through it in the next',
    layers: () => layers(none(sym('etc', '/')), none(f('etc/passwd', 'root::0:0::/:/bin/sh\n'))),
    ok: () => [link('etc', '/'), file('passwd', 'root::0:0::/:/bin/sh\n')],
    umoci: true,
  },
  {
    name: '".." through a symlink is cleaned lexically',
    layers: () => layers(none(d('deep/'), d('deep/er/'), sym('link', 'deep/er'), f('link/../x', 'lexical'))),
    ok: () => [file('x', 'lexical'), gone('deep/x')],
    umoci: true,
  },
  {
    name: 'symlink replaced by a directory in a later layer',
    layers: () => layers(none(sym('link', '../../outside')), none(d('link/'), f('link/canary', 'inside'))),
    ok: () => [dir('link'), file('link/canary', 'inside'), gone('outside')],
    umoci: true,
  },
  {
    name: 'directory replaced by a symlink, then a write through it',
    layers: () => layers(none(d('d/'), f('d/f', 'old')), none(sym('d', '../../outside'), f('d/canary', 'pwned'))),
    ok: () => [link('d', '../../outside'), file('outside/canary', 'pwned')],
    umoci: true,
  },
  {
    name: 'a file entry over a symlink replaces the link, never writes through it',
    layers: () => layers(none(sym('s', '../../outside/canary')), none(f('s', 'pwned'))),
    ok: () => [file('s', 'pwned', { nlink: 1 })],
    umoci: true,
  },
  {
    name: 'a file entry over a symlink in the same layer',
    layers: (s) => layers(none(sym('s', `${s.outside}/target`), f('s', 'pwned'))),
    ok: () => [file('s', 'pwned', { nlink: 1 })],
    umoci: true,
  },
  {
    name: '--keep-dirlinks keeps a symlink to a directory, still confined',
    args: ['--keep-dirlinks'],
    layers: () => layers(none(d('real/'), sym('dl', '/real')), none(d('dl/'), f('dl/x', 'kept'))),
    ok: () => [link('dl', '/real'), file('real/x', 'kept')],
    umoci: true,
  },

  { name: 'a symlink loop on the way', layers: () => layers(none(sym('a', 'b'), sym('b', 'a'), f('a/x', 'x'))), fail: /symbolic links|ELOOP/, umoci: true },
  { name: 'a symlink entry naming the root', layers: () => layers(none(sym('./', '/etc'))), fail: /names the root/, umoci: true },

  // --- hardlinks --------------------------------------------------------------------
  {
    name: 'hardlink to ../../outside',
    layers: () => layers(none(hard('h', '../../outside/target'))),
    fail: ESCAPES,
    umoci: true,
    note: 'umoci confines the target to rootfs/outside/target, which is missing, and fails there',
  },
  {
    name: 'hardlink to an absolute path outside (confined, so missing)',
    layers: (s) => layers(none(hard('h', `${s.outside}/target`))),
    fail: /does not exist/,
    umoci: true,
  },
  {
    name: 'hardlink to an absolute path that exists inside',
    layers: () => layers(none(d('etc/'), f('etc/passwd', 'pw')), none(hard('h', '/etc/passwd'))),
    ok: () => [file('h', 'pw', { nlink: 2 }), file('etc/passwd', 'pw', { nlink: 2 })],
    umoci: true,
  },
  {
    name: 'hardlink through a symlink to outside',
    layers: () => layers(none(sym('s', '../../outside'), hard('h', 's/target'))),
    fail: /does not exist/,
    umoci: true,
  },
  {
    name: 'hardlink through a symlink to / lands inside',
    layers: () => layers(none(sym('s', '/'), f('real', 'r'), hard('h', 's/real'))),
    ok: () => [file('h', 'r', { nlink: 2 })],
    umoci: true,
  },
  {
    name: 'hardlink to a symlink that points outside links the symlink itself',
    layers: () => layers(none(sym('s', '../../outside/target'), hard('h', 's'))),
    ok: () => [link('h', '../../outside/target'), { path: 's', is: 'symlink', nlink: 2 }],
    umoci: true,
  },
  { name: 'hardlink to a later entry', layers: () => layers(none(hard('h', 'later'), f('later', 'l'))), fail: /does not exist/, umoci: true },
  { name: 'hardlink to a directory', layers: () => layers(none(d('dir/'), hard('h', 'dir'))), fail: /is a directory/, umoci: true },
  {
    name: 'a later file over one name of a hardlinked pair breaks the link, not the other file',
    layers: () => layers(none(f('a', 'orig'), hard('b', 'a')), none(f('b', 'new'))),
    ok: () => [file('a', 'orig', { nlink: 1 }), file('b', 'new', { nlink: 1 })],
    umoci: true,
  },

  // --- whiteouts --------------------------------------------------------------------
  { name: 'bare .wh. is refused', layers: () => layers(none(f('keep', 'k')), none(d('d/'), f('d/.wh.', ''))), fail: /whiteout/, umoci: 'umoci 0.4.7 (and 0.6) treat a bare .wh. as opaque and succeed; umoci main refuses it, ocikit follows main' },
  {
    name: 'whiteout of ".." (.wh...)',
    layers: () => layers(none(f('keep', 'k')), none(d('sub/'), f('sub/.wh...', ''))),
    fail: /whiteout/,
    umoci: true,
    note: 'umoci 0.4.7 cleans sub/.. to the root, removes it, then fails restoring sub\'s metadata',
  },
  {
    name: 'whiteout of the root (.wh..)',
    layers: () => layers(none(f('keep', 'k')), none(f('.wh..', ''))),
    fail: /whiteout/,
    umoci: true,
    note: 'umoci 0.4.7 removes rootfs/ itself, then fails restoring its metadata',
  },
  {
    name: 'whiteout through a symlink to outside',
    layers: () => layers(none(sym('link', '../../outside')), none(f('link/.wh.canary', ''), f('link/dir/.wh.secret', ''))),
    ok: () => [link('link', '../../outside'), gone('outside')],
    umoci: true,
  },
  {
    name: 'whiteout through an absolute symlink to outside',
    layers: (s) => layers(none(sym('link', s.outside)), none(f('link/.wh.dir', ''), f('link/.wh.target', ''))),
    ok: (s) => [link('link', s.outside)],
    umoci: true,
  },
  {
    name: 'opaque whiteout in a symlinked directory',
    layers: () => layers(none(sym('link', '../../outside')), none(f('link/.wh..wh..opq', ''))),
    ok: () => [link('link', '../../outside')],
    umoci: true,
  },
  { name: 'whiteout with ../ climbs out', layers: () => layers(none(f('keep', 'k')), none(f('../../outside/.wh.canary', ''))), fail: ESCAPES, umoci: UMOCI_CONFINES_DOTDOT },
  {
    name: 'whiteout files never appear in the rootfs',
    layers: () => layers(none(f('a', 'a'), f('b', 'b'), d('d/'), f('d/x', 'x')), none(f('.wh.a', ''), f('d/.wh.missing', ''), f('.wh.nothing', ''))),
    ok: () => [gone('a'), file('b', 'b'), file('d/x', 'x'), gone('.wh.a'), gone('d/.wh.missing')],
    umoci: true,
  },
  {
    name: 'whiteout of a directory removes it recursively',
    layers: () => layers(none(d('d/'), d('d/e/'), f('d/e/f', 'f')), none(f('.wh.d', ''))),
    ok: () => [gone('d')],
    umoci: true,
  },
  {
    name: 'opaque whiteout keeps the directory and this layer\'s children',
    layers: () => layers(none(d('d/'), f('d/a', 'a'), f('d/b', 'b')), none(d('d/'), f('d/.wh..wh..opq', ''), f('d/c', 'c'))),
    ok: () => [dir('d'), gone('d/a'), gone('d/b'), file('d/c', 'c')],
    umoci: true,
  },

  {
    name: 'whiteout under a regular file changes nothing',
    layers: () => layers(none(f('plain', 'p')), none(f('plain/.wh.x', ''))),
    ok: () => [file('plain', 'p')],
    umoci: true,
  },
  {
    name: 'opaque whiteout at the top of the rootfs',
    layers: () => layers(none(f('a', 'a'), d('d/'), f('d/x', 'x')), none(f('.wh..wh..opq', ''), f('b', 'b'))),
    ok: () => [gone('a'), gone('d'), file('b', 'b')],
    umoci: true,
  },
  { name: 'hardlink to itself', layers: () => layers(none(hard('h', 'h'))), fail: /does not exist/, umoci: true },

  // --- devices, modes, owners ---------------------------------------------------------
  {
    name: 'device nodes with --rootless become empty files',
    args: ['--rootless'],
    layers: () => layers(none(d('dev/'), { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }, { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 })),
    ok: () => [file('dev/null', '', { mode: 0o666 }), file('dev/sda', '', { mode: 0o660 })],
    umoci: true,
    note: 'umoci makes the empty file, then restores the header\'s mode on it',
  },
  {
    name: 'device nodes and fifos as root',
    layers: () => layers(none(d('dev/'), { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }, { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 }, { name: 'p', type: 'fifo', mode: 0o600 })),
    ok: () => [{ path: 'dev/null', is: 'char', rdev: [1, 3], mode: 0o666 }, { path: 'dev/sda', is: 'block', rdev: [8, 0], mode: 0o660 }, { path: 'p', is: 'fifo', mode: 0o600 }],
    umoci: true,
  },
  {
    name: 'setuid and setgid bits with --rootless',
    args: ['--rootless'],
    layers: () => layers(none(f('suid', '#!/bin/sh\n', { mode: 0o4755, uid: 1000 }), d('sgid/', { mode: 0o2775 }), f('both', '', { mode: 0o6711 }))),
    ok: () => [file('suid', '#!/bin/sh\n', { mode: 0o4755, uid: 0 }), dir('sgid', { mode: 0o2775 }), file('both', '', { mode: 0o6711 })],
    umoci: true,
  },
  {
    name: 'setuid file owned by a user, as root',
    layers: () => layers(none(f('suid', 'x', { mode: 0o4755, uid: 1000, gid: 1000 }))),
    ok: () => [file('suid', 'x', { mode: 0o4755, uid: 1000 })],
    umoci: true,
  },
  {
    name: 'a directory with mode 0000 holding files',
    layers: () => layers(none(d('locked/', { mode: 0 }), f('locked/f', 'inside', { mode: 0o600 }), d('locked/sub/', { mode: 0 }), f('locked/sub/g', 'g'))),
    ok: () => [dir('locked', { mode: 0 }), dir('locked/sub', { mode: 0 }), file('locked/f', 'inside', { mode: 0o600 }), file('locked/sub/g', 'g')],
    umoci: true,
  },
  {
    name: 'a file replaced by a directory and a directory by a file',
    layers: () => layers(none(f('x', 'file'), d('y/'), f('y/child', 'c')), none(d('x/'), f('x/in', 'i'), f('y', 'now a file'))),
    ok: () => [dir('x'), file('x/in', 'i'), file('y', 'now a file')],
    umoci: true,
  },

  // --- names ------------------------------------------------------------------------
  {
    name: 'a name longer than PATH_MAX',
    layers: () => layers(none(f(`${Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(250, 'p')).join('/')}/end`, 'deep'))),
    fail: /name too long|ENAMETOOLONG/i,
    umoci: true,
  },
  { name: 'a component longer than NAME_MAX', layers: () => layers(none(f('n'.repeat(300), 'x'))), fail: /name too long|ENAMETOOLONG/i, umoci: true },
  { name: 'a PAX path with a NUL byte', layers: () => layers(none(f('decoy', 'x', { pax: { path: 'a\0b' } }))), fail: /NUL/, umoci: true },

  // --- integrity ----------------------------------------------------------------------
  { name: 'a diff_id that does not match', layers: async () => [{ ...(await gz(f('a'))), diffId: `sha256:${'0'.repeat(64)}` }], fail: /diff_?id/i, umoci: true },
  {
    name: 'a layer blob whose bytes do not match its digest',
    layers: () => layers(none(f('a', 'a'.repeat(2000)))),
    corrupt: (layout, img) => flipByte(layout, img.layers[0]!.digest, 600),
    fail: /digest mismatch/,
    umoci: true,
  },
  {
    name: 'a truncated gzip',
    layers: async () => {
      const tar = await makeTarLayer([f('big', randomBytes(100_000).toString('hex'))]);
      return [{ bytes: truncateBytes(gzipLayer(tar), 5000), compression: 'gzip', uncompressed: tar }];
    },
    fail: /gzip|unexpected end|truncat/i,
    umoci: true,
  },
  {
    name: 'a corrupt gzip',
    layers: async () => {
      const tar = await makeTarLayer([f('big', randomBytes(20_000).toString('hex'))]);
      return [{ bytes: flipBytes(gzipLayer(tar), 100, 101, 102), compression: 'gzip', uncompressed: tar }];
    },
    fail: /gzip|invalid|incorrect|corrupt/i,
    umoci: true,
  },
  { name: 'a truncated tar', layers: async () => [{ bytes: truncateBytes(await makeTarLayer([f('a', 'z'.repeat(5000))]), 2048), compression: 'none' }], fail: /truncat|unexpected end|EOF/i, umoci: true },
  { name: 'a tar header with a bad checksum', layers: async () => [{ bytes: corruptChecksum(await makeTarLayer([f('a', 'a'), f('b', 'b')]), 1), compression: 'none' }], fail: /checksum/i, umoci: true },
  { name: 'an unknown layer media type', layers: async () => [{ ...(await none(f('a'))), mediaType: MT.unknown }], fail: /media ?type|unsupported/i, umoci: true },
  {
    name: 'a tar padded past its end marker (GNU tar records)',
    layers: async () => [{ bytes: Buffer.concat([await makeTarLayer([f('a', 'a')]), Buffer.alloc(10240 - 2048)]), compression: 'none' }],
    ok: () => [file('a', 'a')],
    umoci: true,
  },
  {
    name: 'a tar without its end-of-archive blocks',
    layers: async () => [{ bytes: gzipLayer(withoutEndMarker(await makeTarLayer([f('a', 'a'), f('b', 'b')]))), compression: 'gzip' }],
    ok: () => [file('a', 'a'), file('b', 'b')],
    umoci: true,
  },
  {
    name: 'a gzip of several members',
    layers: async () => {
      const tar = await makeTarLayer([f('a', 'a'.repeat(3000)), f('b', 'b')]);
      return [{ bytes: Buffer.concat([gzipLayer(tar.subarray(0, 1000)), gzipLayer(tar.subarray(1000))]), compression: 'gzip', uncompressed: tar }];
    },
    ok: () => [file('a', 'a'.repeat(3000)), file('b', 'b')],
    umoci: true,
  },
  {
    name: 'a gzip bomb past OCIKIT_MAX_LAYER_SIZE',
    env: { OCIKIT_MAX_LAYER_SIZE: String(MIB) },
    layers: async () => [{ bytes: gzipLayer(await zeroFileLayer('zeros', 8 * MIB)), compression: 'gzip' }],
    fail: /decompresses to more than 1048576 bytes/,
    umoci: 'umoci has no size limit and unpacks it',
  },
  {
    name: 'the same layer unpacks without the limit',
    layers: async () => [{ bytes: gzipLayer(await zeroFileLayer('zeros', 8 * MIB)), compression: 'gzip' }],
    ok: () => [file('zeros')],
    umoci: true,
  },

  // --- the bundle ----------------------------------------------------------------------
  {
    name: 'a bundle holding rootfs/ is refused and left alone',
    bundle: { 'rootfs/': '', 'rootfs/keep': 'mine' },
    layers: () => layers(none(f('a'))),
    fail: /already holds rootfs/,
    umoci: 'umoci 0.4.7 refuses, then removes the whole bundle, the existing rootfs/ included; ocikit leaves it alone',
  },
  {
    name: 'a bundle holding config.json is refused and left alone',
    bundle: { 'config.json': '{"mine":true}' },
    layers: () => layers(none(f('a'))),
    fail: /already holds config\.json/,
    umoci: true,
    note: 'umoci chmods the bundle directory to 0700 first (its own mode is not compared)',
  },
  { name: 'a bundle holding other files is accepted', bundle: { 'notes.txt': 'mine', 'sub/': '' }, layers: () => layers(none(f('a', 'a'))), ok: () => [file('a', 'a')], umoci: true },
  { name: 'a missing bundle is created', bundle: 'absent', layers: () => layers(gz(f('a', 'a'))), ok: () => [file('a', 'a')], umoci: true },

  // --- xattrs -----------------------------------------------------------------------------
  {
    name: 'trusted.overlay.opaque in a layer is never applied',
    layers: () => layers(none(d('d/', { xattrs: { 'trusted.overlay.opaque': 'y' } }), f('d/f', 'f', { xattrs: { 'trusted.overlay.origin': 'x' } }))),
    ok: () => [dir('d', { noXattr: ['trusted.overlay.opaque'] }), file('d/f', 'f', { noXattr: ['trusted.overlay.origin'] })],
    umoci: true,
    note: 'umoci 0.4.7 logs "ignoring forbidden xattr"; reference/umoci.md says 0.6 applies them in the default mode: ocikit never does',
  },
  {
    name: 'security.selinux in a layer is never applied, user.* is',
    layers: () => layers(none(f('f', 'f', { xattrs: { 'security.selinux': 'system_u:object_r:shadow_t:s0', 'user.note': 'kept' } }))),
    ok: () => [file('f', 'f', { noXattr: ['security.selinux'], xattr: { 'user.note': 'kept' } })],
    umoci: true,
  },

  // --- raw unpack ---------------------------------------------------------------------------
  { name: 'raw unpack: symlink to / then a file through it', raw: true, layers: (s) => layers(none(sym('link', '/'), f(`link/${s.token}`, 'pwned'))), ok: (s) => [file(s.token, 'pwned')], host: (s) => [`/${s.token}`], umoci: true },
  { name: 'raw unpack: ../ climbs out', raw: true, layers: () => layers(none(f('../../outside/canary', 'pwned'))), fail: ESCAPES, umoci: UMOCI_CONFINES_DOTDOT },
];
