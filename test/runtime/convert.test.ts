import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageConfig } from '../../src/oci/types.js';
import { goBase, lockedMountFlags, mountFlagsIn, runtimeConfig, type RuntimeConfigOptions } from '../../src/runtime/convert.js';
import type { MapOptions } from '../../src/runtime/id-map.js';
import { hasCode } from '../helpers/assert.js';
import { makeTmpDir } from '../helpers/tmp.js';

const NO_MAP: MapOptions = { uidMappings: [], gidMappings: [], rootless: false };
const image = (config: ImageConfig['config'] = {}, over: Partial<ImageConfig> = {}): ImageConfig => ({
  created: '2020-01-02T03:04:05.100000000Z',
  architecture: 'amd64',
  os: 'linux',
  config,
  rootfs: { type: 'layers', diff_ids: [] },
  ...over,
});
const conv = (img: ImageConfig, opts: Partial<RuntimeConfigOptions> = {}) => runtimeConfig(img, { mapOptions: NO_MAP, ...opts });

async function rootfsWithPasswd(t: Parameters<typeof makeTmpDir>[0]): Promise<string> {
  const tmp = await makeTmpDir(t);
  const root = join(tmp.path, 'rootfs');
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0::/root:\nalice:x:1000:1000::/home/alice:\n');
  await writeFile(join(root, 'etc/group'), 'wheel:x:10:alice\n');
  return root;
}

describe('runtimeConfig: umoci defaults and verbatim fields', () => {
  test('an empty config gives umoci 0.6 defaults', async () => {
    const s = await conv(image());
    assert.equal(s.ociVersion, '1.2.1');
    assert.deepEqual(s.root, { path: '.' }); // filepath.Base("") without a rootfs
    assert.equal(s.hostname, 'umoci-default');
    assert.deepEqual(s.process?.args, ['sh']);
    assert.equal(s.process?.cwd, '/');
    assert.equal(s.process?.terminal, true);
    assert.equal(s.process?.noNewPrivileges, true);
    assert.deepEqual(s.process?.user, { uid: 0, gid: 0, additionalGids: [] });
    assert.deepEqual(s.process?.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']);
    assert.deepEqual(s.process?.capabilities?.ambient, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    assert.deepEqual(s.process?.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    assert.deepEqual(s.mounts?.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    assert.deepEqual(s.linux?.namespaces?.map((n) => n.type), ['cgroup', 'pid', 'network', 'ipc', 'uts', 'mount']);
    assert.deepEqual(s.linux?.resources, { devices: [{ allow: false, access: 'rwm' }] });
    assert.equal(s.linux?.uidMappings, undefined);
    assert.deepEqual(s.annotations, {
      'org.opencontainers.image.os': 'linux',
      'org.opencontainers.image.architecture': 'amd64',
      'org.opencontainers.image.created': '2020-01-02T03:04:05.1Z',
    });
  });

  test('ociVersion and root.path (filepath.Base of the rootfs) follow the options', async (t) => {
    const root = await rootfsWithPasswd(t);
    const s = await conv(image(), { ociVersion: '1.3.0', rootfs: root + '/' });
    assert.equal(s.ociVersion, '1.3.0');
    assert.deepEqual(s.root, { path: 'rootfs' });
    assert.deepEqual([goBase(''), goBase('/'), goBase('//'), goBase('a/b//'), goBase('x')], ['.', '/', '/', 'b', 'x']);
  });

  test('cwd, args = Entrypoint + Cmd, env replaced in place or appended', async () => {
    const s = await conv(image({ WorkingDir: '/w', Entrypoint: ['/bin/e'], Cmd: ['a', 'b'], Env: ['TERM=dumb', 'A=1', 'A=2', 'B=x=y', 'C='] }));
    assert.equal(s.process?.cwd, '/w');
    assert.deepEqual(s.process?.args, ['/bin/e', 'a', 'b']);
    assert.deepEqual(s.process?.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=dumb', 'A=2', 'B=x=y', 'C=']);
    assert.deepEqual((await conv(image({ Cmd: ['only'] }))).process?.args, ['only']);
  });

  test('bad Env entries and non-linux images are refused', async () => {
    await assert.rejects(conv(image({ Env: ['NOEQUALS'] })), hasCode('SCHEMA_INVALID', /must contain '=': NOEQUALS/));
    await assert.rejects(conv(image({ Env: ['=v'] })), hasCode('SCHEMA_INVALID', /non-empty name/));
    await assert.rejects(conv(image({}, { os: 'windows' })), hasCode('VALIDATION_FAILED', /unsupported OS: windows/));
    await assert.rejects(conv(image({}, { created: 'yesterday' })), hasCode('SCHEMA_INVALID', /created/));
  });
});

describe('runtimeConfig: annotations', () => {
  test('generated fields, empty ones left out, labels win (umoci 0.6)', async () => {
    const s = await conv(
      image(
        {
          StopSignal: 'SIGTERM',
          ExposedPorts: { '80/tcp': {}, '443/tcp': {}, '53/udp': {} },
          Labels: { 'org.opencontainers.image.author': 'label-author', 'org.opencontainers.image.os': 'plan9', empty: '' },
        },
        { author: 'Me <m@e>', variant: 'v8', architecture: 'arm64' },
      ),
    );
    assert.deepEqual(s.annotations, {
      'org.opencontainers.image.os': 'plan9',
      'org.opencontainers.image.architecture': 'arm64',
      'org.opencontainers.image.variant': 'v8',
      'org.opencontainers.image.author': 'label-author',
      'org.opencontainers.image.created': '2020-01-02T03:04:05.1Z',
      'org.opencontainers.image.stopSignal': 'SIGTERM',
      'org.opencontainers.image.exposedPorts': '443/tcp,53/udp,80/tcp',
      empty: '',
    });
  });
  test('a missing created prints as Go\'s zero time; offsets are kept', async () => {
    const a = await conv(image({}, { created: undefined }));
    assert.equal(a.annotations?.['org.opencontainers.image.created'], '0001-01-01T00:00:00Z');
    const b = await conv(image({}, { created: '2021-05-06T07:08:09.000000001+02:00' }));
    assert.equal(b.annotations?.['org.opencontainers.image.created'], '2021-05-06T07:08:09.000000001+02:00');
  });
});

describe('runtimeConfig: user, HOME, volumes', () => {
  test('resolves the user in the rootfs and adds HOME', async (t) => {
    const root = await rootfsWithPasswd(t);
    const s = await conv(image({ User: 'alice' }), { rootfs: root });
    assert.deepEqual(s.process?.user, { uid: 1000, gid: 1000, additionalGids: [10] });
    assert.equal(s.process?.env?.at(-1), 'HOME=/home/alice');
  });
  test('HOME from passwd only when Env has none (umoci main #652)', async (t) => {
    const root = await rootfsWithPasswd(t);
    const s = await conv(image({ User: 'alice', Env: ['HOME=/custom', 'X=1'] }), { rootfs: root });
    assert.deepEqual(s.process?.env?.slice(2), ['HOME=/custom', 'X=1']);
  });
  test('with a rootfs an unknown user fails; without one it becomes root:root with a warning', async (t) => {
    const root = await rootfsWithPasswd(t);
    await assert.rejects(conv(image({ User: 'bob' }), { rootfs: root }), hasCode('VALIDATION_FAILED', /cannot parse user spec: "bob": unable to find user bob/));
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m) };
    const s = await conv(image({ User: '1000:staff' }), { log });
    assert.deepEqual(s.process?.user, { uid: 0, gid: 0, additionalGids: [] });
    assert.match(warnings[0] ?? '', /could not parse user spec "1000:staff" without a rootfs -- defaulting to root:root/);
    assert.deepEqual((await conv(image({ User: '1000:50' }))).process?.user, { uid: 1000, gid: 50, additionalGids: [] });
  });
  test('volumes become sorted tmpfs mounts', async () => {
    const s = await conv(image({ Volumes: { '/z': {}, '/a b': {}, '/data': {} } }));
    assert.deepEqual(s.mounts?.slice(7), ['/a b', '/data', '/z'].map((destination) => ({
      destination, type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'],
    })));
  });
});

describe('runtimeConfig: id maps and rootless', () => {
  const maps: MapOptions = {
    uidMappings: [{ containerID: 0, hostID: 1000, size: 65536 }],
    gidMappings: [],
    rootless: false,
  };
  test('a mapping adds the user namespace once and sets the maps', async () => {
    const s = await conv(image(), { mapOptions: maps });
    assert.deepEqual(s.linux?.namespaces?.map((n) => n.type), ['cgroup', 'pid', 'network', 'ipc', 'uts', 'mount', 'user']);
    assert.deepEqual(s.linux?.uidMappings, maps.uidMappings);
    assert.equal(s.linux?.gidMappings, undefined);
  });
  const rootless: MapOptions = {
    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    rootless: true,
  };
  test('rootless: no groups, no network ns, /sys bind, uid=/gid= stripped, resolv.conf bind, no resources', async (t) => {
    const root = await rootfsWithPasswd(t);
    const s = await conv(image({ User: 'alice', Volumes: { '/sysroot': {}, '/data': {} } }), {
      rootfs: root, mapOptions: rootless, resolvConfExists: true, resolvConfFlags: ['nosuid', 'nodev'],
    });
    assert.deepEqual(s.process?.user, { uid: 1000, gid: 1000 });
    assert.deepEqual(s.linux?.namespaces?.map((n) => n.type), ['cgroup', 'pid', 'ipc', 'uts', 'mount', 'user']);
    assert.equal(s.linux?.resources, undefined);
    assert.deepEqual(s.mounts?.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/data', '/sys', '/etc/resolv.conf']);
    assert.deepEqual(s.mounts?.[2]?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']);
    assert.deepEqual(s.mounts?.at(-2), { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    assert.deepEqual(s.mounts?.at(-1), { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['nosuid', 'nodev', 'rbind', 'ro'] });
  });
  test('rootless quirk: without a host /etc/resolv.conf none of the mount edits are kept', async () => {
    const warnings: string[] = [];
    const s = await conv(image(), { mapOptions: rootless, resolvConfExists: false, log: { debug() {}, info() {}, warn: (m) => warnings.push(m) } });
    assert.deepEqual(s.mounts?.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    assert.ok(s.mounts?.[2]?.options?.includes('gid=5'));
    assert.deepEqual(s.linux?.namespaces?.map((n) => n.type), ['cgroup', 'pid', 'ipc', 'uts', 'mount', 'user']);
    assert.equal(s.linux?.resources, undefined);
    assert.match(warnings[0] ?? '', /resolv\.conf/);
  });
});

describe('lockedMountFlags', () => {
  const mountinfo = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '28 27 0:25 / /etc ro,nosuid,nodev,noatime - tmpfs t rw',
    '29 28 0:26 / /etc/resolv.conf rw,noexec,nodiratime,relatime - tmpfs t ro,size=4k',
    '30 27 0:27 / /etcetera rw,nosuid - tmpfs t rw',
  ].join('\n');
  test('takes the deepest mount holding the path; relatime is never reported (umoci tests MS_RELATIME against statfs flags)', () => {
    assert.deepEqual(mountFlagsIn('/etc/resolv.conf', mountinfo), ['ro', 'noexec', 'nodiratime']);
    assert.deepEqual(mountFlagsIn('/etc/x', mountinfo), ['ro', 'nodev', 'nosuid', 'noatime']);
    assert.deepEqual(mountFlagsIn('/etcetera/x', mountinfo), ['nosuid']);
    assert.deepEqual(mountFlagsIn('/', mountinfo), []);
    assert.deepEqual(mountFlagsIn('/a\\040b/c', '1 0 0:1 / /a\\040b ro - tmpfs t rw'), []);
    assert.deepEqual(mountFlagsIn('/a b/c', '1 0 0:1 / /a\\040b ro - tmpfs t rw'), ['ro']);
  });
  test('reads the host mount table', async () => {
    assert.ok(Array.isArray(await lockedMountFlags('/proc/self')));
  });
});
