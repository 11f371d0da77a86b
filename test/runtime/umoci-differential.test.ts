/**
 * config.json differential against the real umoci 0.4.7 (Debian's, the only
 * umoci on the test machine). An image is built with umoci itself (init,
 * new, insert of etc/passwd + etc/group, config), its rootfs unpacked with
 * `umoci raw unpack`, and `umoci raw runtime-config --rootfs R` run in
 * plain, --rootless and --uid-map/--gid-map modes. ocikit's bytes must equal
 * umoci's after normalising ONLY these documented 0.4.7-vs-0.6 differences
 * (reference/umoci.md sections 6 and 14):
 *
 *  N1 ociVersion: 0.4.7 writes "1.0.0", 0.6 the runtime-spec it is built with (1.2.1).
 *  N2 cgroup namespace: added first by umoci 0.5+.
 *  N3 annotation precedence: 0.4.7 lets generated annotations override
 *     Config.Labels; 0.6 copies labels last, so labels win.
 *  N4 empty generated annotations (author, stopSignal, exposedPorts): 0.4.7
 *     writes them as ""; 0.6 leaves them out.
 *  N5 HOME: 0.4.7 (and 0.6.0) overwrite an Env HOME with the passwd home;
 *     ocikit follows umoci main (#652): HOME is added only when Env has none.
 *  N6 the locked flags on the rootless /etc/resolv.conf bind mount come from
 *     a Go map, so their order is random in umoci: compared as a set.
 *  N7 volume mounts: 0.4.7 appends them in Go map order (random); 0.6
 *     sorts Config.Volumes first.
 *
 * Besides, ocikit's encoder must reproduce umoci's raw bytes from umoci's
 * own (unnormalised) output, which checks struct order, omitempty, escaping
 * and indentation independently of the conversion.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageConfig } from '../../src/oci/types.js';
import { runtimeConfig, lockedMountFlags, type RuntimeSpec } from '../../src/runtime/convert.js';
import { encodeRuntimeConfig } from '../../src/runtime/encode.js';
import { mapOptionsFrom } from '../../src/runtime/id-map.js';
import { makeTmpDir, type TmpDir } from '../helpers/tmp.js';

const HAVE_UMOCI = spawnSync('umoci', ['--version']).status === 0;
const GENERATED = ['author', 'stopSignal', 'exposedPorts', 'os', 'architecture', 'created', 'variant'].map((k) => `org.opencontainers.image.${k}`);

/** Image tags and the `umoci config` flags that make them (from the tag "base" holding etc/passwd). */
const IMAGES: Record<string, string[]> = {
  full: [
    '--config.user', 'alice', '--config.env', 'FOO=bar', '--config.env', 'TERM=vt100',
    '--config.entrypoint', '/bin/echo', '--config.cmd', 'hi', '--config.cmd', '<&>',
    '--config.volume', '/data', '--config.volume', '/a', '--config.volume', '/sysroot',
    '--config.label', 'org.opencontainers.image.author=label-author', '--config.label', 'x=<y&z>', '--config.label', 'empty=',
    '--config.exposedports', '80/tcp', '--config.exposedports', '443/tcp',
    '--config.workingdir', '/w', '--config.stopsignal', 'SIGTERM', '--author', 'Me <m@e>',
  ],
  home: ['--config.user', 'alice', '--config.env', 'HOME=/custom', '--config.env', 'Z=1'],
  bare: [],
  numeric: ['--config.user', '1000:50'],
  group: ['--config.user', 'bob:staff'],
  unknownuid: ['--config.user', '4242'],
  odd: ['--config.user', '#hash'],
};
const MODES: Record<string, string[]> = {
  plain: [],
  rootless: ['--rootless'],
  mapped: ['--uid-map', '0:1000:65536', '--gid-map', '0:1000:65536', '--gid-map', '70000:5:1'],
};

let tmp: TmpDir;
let dir: string;
const umoci = (...args: string[]): string => execFileSync('umoci', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function configOf(tag: string): Promise<ImageConfig> {
  const blob = async (digest: string): Promise<unknown> => JSON.parse(await readFile(join(dir, 'L/blobs/sha256', digest.slice(7)), 'utf8'));
  const index = JSON.parse(await readFile(join(dir, 'L/index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
  const manifest = (await blob(entry.digest)) as { config: { digest: string } };
  return (await blob(manifest.config.digest)) as ImageConfig;
}

/** Applies N1–N6 to umoci 0.4.7's parsed config.json, given the image it came from. */
function normalise(spec: RuntimeSpec, img: ImageConfig): RuntimeSpec {
  spec.ociVersion = '1.2.1'; // N1
  spec.linux?.namespaces?.unshift({ type: 'cgroup' }); // N2
  const labels = img.config.Labels ?? {};
  const ann = spec.annotations ?? {};
  for (const k of GENERATED) if (ann[k] === '' && !(k in labels)) delete ann[k]; // N4
  Object.assign(ann, labels); // N3
  const envHome = (img.config.Env ?? []).find((e) => e.startsWith('HOME='));
  const env = spec.process?.env ?? [];
  const i = env.findIndex((e) => e.startsWith('HOME='));
  if (envHome !== undefined && i >= 0) env[i] = envHome; // N5
  sortResolvFlags(spec); // N6
  const isVolume = (m: { type?: string; source?: string }): boolean => m.type === 'tmpfs' && m.source === 'none';
  const mounts = spec.mounts ?? [];
  const vols = mounts.filter(isVolume).sort((a, b) => Buffer.compare(Buffer.from(a.destination), Buffer.from(b.destination)));
  spec.mounts = mounts.map((m) => (isVolume(m) ? vols.shift()! : m)); // N7
  return spec;
}

function sortResolvFlags(spec: RuntimeSpec): void {
  const m = spec.mounts?.find((x) => x.destination === '/etc/resolv.conf');
  if (m?.options) m.options = [...m.options.slice(0, -2).sort(), ...m.options.slice(-2)];
}

describe('config.json against umoci 0.4.7', { skip: HAVE_UMOCI ? false : 'umoci not installed' }, () => {
  before(async () => {
    tmp = await makeTmpDir();
    dir = tmp.path;
    await mkdir(join(dir, 'src/etc'), { recursive: true });
    await writeFile(
      join(dir, 'src/etc/passwd'),
      ['root:x:0:0:root:/root:/bin/sh', '#hash:x:7:7::/hash:', '  alice:x:1000:1000:Alice:/home/alice:/bin/sh  ', 'bob:x:1001:1001::/home/bob', 'short:x:1002', ''].join('\n'),
    );
    await writeFile(join(dir, 'src/etc/group'), ['# wheel:x:9:alice', 'wheel:x:10:alice,root', ' staff:x:50:bob, alice,alice ', 'audio:x:63:bob', ''].join('\n'));
    umoci('init', '--layout', 'L');
    umoci('new', '--image', 'L:base');
    umoci('insert', '--image', 'L:base', 'src/etc', '/etc');
    for (const [tag, flags] of Object.entries(IMAGES)) umoci('config', '--image', 'L:base', '--tag', tag, ...flags);
    umoci('raw', 'unpack', '--image', 'L:base', 'R');
  });
  after(() => tmp?.cleanup());

  for (const tag of Object.keys(IMAGES)) {
    for (const [mode, flags] of Object.entries(MODES)) {
      test(`${tag}, ${mode}`, async () => {
        const out = `${tag}-${mode}.json`;
        umoci('raw', 'runtime-config', '--rootfs', 'R', '--image', `L:${tag}`, ...flags, out);
        const raw = await readFile(join(dir, out), 'utf8');
        const theirs = JSON.parse(raw) as RuntimeSpec;
        // The encoder alone reproduces umoci's bytes.
        assert.equal(encodeRuntimeConfig(theirs), raw);

        const img = await configOf(tag);
        const mapOptions = mapOptionsFrom({
          rootless: flags.includes('--rootless'),
          uidMap: flags.flatMap((f, i) => (f === '--uid-map' ? [flags[i + 1]!] : [])),
          gidMap: flags.flatMap((f, i) => (f === '--gid-map' ? [flags[i + 1]!] : [])),
        });
        const ours = await runtimeConfig(img, { rootfs: join(dir, 'R'), mapOptions, resolvConfFlags: await lockedMountFlags('/etc/resolv.conf') });
        sortResolvFlags(ours);
        assert.equal(encodeRuntimeConfig(ours), encodeRuntimeConfig(normalise(theirs, img)));
      });
    }
  }

  test('without --rootfs: root.path "." and an unresolvable user falls back to root:root', async () => {
    umoci('raw', 'runtime-config', '--image', 'L:full', 'norootfs.json');
    const theirs = JSON.parse(await readFile(join(dir, 'norootfs.json'), 'utf8')) as RuntimeSpec;
    const img = await configOf('full');
    const ours = await runtimeConfig(img, { mapOptions: mapOptionsFrom({ rootless: false, uidMap: [], gidMap: [] }) });
    assert.equal(encodeRuntimeConfig(ours), encodeRuntimeConfig(normalise(theirs, img)));
    assert.deepEqual(ours.process?.user, { uid: 0, gid: 0, additionalGids: [] });
  });

  test('umoci unpack writes the same config.json (root.path "rootfs")', async () => {
    umoci('unpack', '--image', 'L:full', 'B');
    const raw = await readFile(join(dir, 'B/config.json'), 'utf8');
    const img = await configOf('full');
    const ours = await runtimeConfig(img, { rootfs: join(dir, 'B/rootfs'), mapOptions: mapOptionsFrom({ rootless: false, uidMap: [], gidMap: [] }) });
    assert.equal(encodeRuntimeConfig(ours), encodeRuntimeConfig(normalise(JSON.parse(raw) as RuntimeSpec, img)));
  });
});
