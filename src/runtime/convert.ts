/**
 * Image config → runtime config (config.json), as umoci 0.6 generates it
 * (`oci/config/convert/{default,runtime}.go`, `oci/layer/unpack.go`
 * UnpackRuntimeJSON) following image-spec's conversion.md: umoci's fixed
 * defaults (capabilities, mounts, masked paths, namespaces…), the verbatim
 * fields (cwd, env, args), the annotation fields (labels win since 0.6),
 * `Config.User` resolved against the rootfs (./passwd.ts), volumes as tmpfs
 * mounts, then the ID-mapping and rootless adjustments. Bytes: ./encode.ts.
 */
import { access, readFile, realpath } from 'node:fs/promises';
import { OcikitError } from '../errors.js';
import { formatRfc3339Nano, parseRfc3339 } from '../oci/go-time.js';
import { RUNTIME_SPEC_VERSION, type ImageConfig } from '../oci/types.js';
import type { Logger } from '../util/log.js';
import type { IdMapping, MapOptions } from './id-map.js';
import { resolveUser, type ExecUser } from './passwd.js';

// The subset of runtime-spec v1.2.1 (specs-go) that ocikit emits. Field
// order here is the Go struct order encode.ts writes.
export interface RuntimeUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}
export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}
export interface PosixRlimit {
  type: string;
  hard: number | bigint;
  soft: number | bigint;
}
export interface RuntimeProcess {
  terminal?: boolean;
  user: RuntimeUser;
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: PosixRlimit[];
  noNewPrivileges?: boolean;
}
export interface RuntimeRoot {
  path: string;
  readonly?: boolean;
}
export interface RuntimeMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}
export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
}
export interface LinuxNamespace {
  type: string;
  path?: string;
}
export interface RuntimeLinux {
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  resources?: LinuxResources;
  namespaces?: LinuxNamespace[];
  maskedPaths?: string[];
  readonlyPaths?: string[];
}
export interface RuntimeSpec {
  ociVersion: string;
  process?: RuntimeProcess;
  root?: RuntimeRoot;
  hostname?: string;
  mounts?: RuntimeMount[];
  annotations?: Record<string, string>;
  linux?: RuntimeLinux;
}

export interface RuntimeConfigOptions {
  /**
   * The rootfs whose /etc/passwd and /etc/group resolve `Config.User`, and
   * whose base name becomes `root.path` (umoci: `filepath.Base(rootfs)`,
   * "." when there is none). Without it a user that needs a lookup is
   * logged and replaced by root:root, as umoci does.
   */
  rootfs?: string;
  mapOptions: MapOptions;
  /** runtime-spec version to write (default 1.2.1, umoci 0.6's) */
  ociVersion?: string;
  /** rootless: whether the host has /etc/resolv.conf (default: checked) */
  resolvConfExists?: boolean;
  /** rootless: the locked mount flags of the host's /etc/resolv.conf (default: read from mountinfo) */
  resolvConfFlags?: string[];
  log?: Logger;
}

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
const ZERO_TIME = '0001-01-01T00:00:00Z'; // Go's time.Time{} in RFC3339Nano
const RESOLV_CONF = '/etc/resolv.conf';

/** umoci's `Example()` spec: the defaults every generated config starts from. */
function example(ociVersion: string): RuntimeSpec & { process: RuntimeProcess; linux: RuntimeLinux; mounts: RuntimeMount[] } {
  return {
    ociVersion,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], inheritable: [...CAPS], permitted: [...CAPS], ambient: [...CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs' },
    hostname: 'umoci-default',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: ['cgroup', 'pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type })),
      maskedPaths: [
        '/proc/kcore', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
        '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** Go's filepath.Base: last element, trailing slashes dropped, "." for "", "/" for all slashes. */
export function goBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** umoci's appendEnv: replace the first `NAME=` entry in place, else append (unless !clobber). */
function setEnv(env: string[], name: string, value: string, clobber = true): void {
  const i = env.findIndex((e) => e.startsWith(name + '='));
  if (i < 0) env.push(`${name}=${value}`);
  else if (clobber) env[i] = `${name}=${value}`;
}

/** Go's sort of map keys: bytewise UTF-8 order. */
function sortedKeys(m: Record<string, unknown> | null | undefined): string[] {
  return Object.keys(m ?? {}).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * The "locked" mount flags umoci copies onto the rootless /etc/resolv.conf
 * bind mount (statfs f_flags of the mount holding the path), read from
 * /proc/self/mountinfo. See mountFlagsIn.
 */
export async function lockedMountFlags(path: string): Promise<string[]> {
  return mountFlagsIn(await realpath(path), await readFile('/proc/self/mountinfo', 'utf8'));
}

/**
 * The statfs-style flags of the deepest mount in `mountinfo` holding the
 * resolved path `real`. umoci tests `relatime` against MS_RELATIME, which
 * statfs never reports, so relatime is never included; Go iterates a map
 * there, so its order is random and ocikit uses this fixed one.
 */
export function mountFlagsIn(real: string, mountinfo: string): string[] {
  let best: { point: string; opts: string[]; superOpts: string[] } | undefined;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const f = left.split(' ');
    const point = (f[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const inside = point === '/' || real === point || real.startsWith(point + '/');
    if (!inside || (best !== undefined && point.length < best.point.length)) continue;
    best = { point, opts: (f[5] ?? '').split(','), superOpts: (right.split(' ')[2] ?? '').split(',') };
  }
  if (best === undefined) return [];
  const { opts, superOpts } = best;
  const flags: string[] = [];
  if (opts.includes('ro') || superOpts.includes('ro')) flags.push('ro');
  for (const o of ['nodev', 'noexec', 'nosuid', 'noatime', 'nodiratime']) if (opts.includes(o)) flags.push(o);
  return flags;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** umoci's ToRootless, with its quirk: without a host resolv.conf none of the mount edits are kept. */
async function toRootless(spec: ReturnType<typeof example>, opts: RuntimeConfigOptions): Promise<void> {
  delete spec.process.user.additionalGids;
  spec.linux.namespaces = (spec.linux.namespaces ?? []).filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  spec.linux.namespaces.push({ type: 'user' });
  const mounts: RuntimeMount[] = [];
  for (const m of spec.mounts) {
    if (m.destination.startsWith('/sys')) continue; // umoci's prefix test: "/sysroot" goes too
    const options = (m.options ?? []).filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='));
    mounts.push(options.length > 0 ? { ...m, options } : { destination: m.destination, type: m.type, source: m.source });
  }
  mounts.push({ destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  const haveResolv = opts.resolvConfExists ?? (await exists(RESOLV_CONF));
  if (haveResolv) {
    const locked = opts.resolvConfFlags ?? (await lockedMountFlags(RESOLV_CONF));
    mounts.push({ destination: RESOLV_CONF, type: 'bind', source: RESOLV_CONF, options: [...locked, 'rbind', 'ro'] });
    spec.mounts = mounts;
  } else {
    opts.log?.warn(`rootless configuration: automatic bind-mount for "${RESOLV_CONF}" cannot be added as the source doesn't exist`);
  }
  delete spec.linux.resources;
}

/**
 * Builds the runtime config umoci 0.6 writes for `image` (see the module
 * comment and docs of RuntimeConfigOptions). Throws OcikitError for an OS
 * other than linux, an `Env` entry without "=" or with an empty name, an
 * unparseable `created`, and (with a rootfs) a user or group that cannot
 * be resolved.
 */
export async function runtimeConfig(image: ImageConfig, opts: RuntimeConfigOptions): Promise<RuntimeSpec> {
  if (image.os !== 'linux') throw new OcikitError('VALIDATION_FAILED', `unsupported OS: ${image.os}`);
  const cfg = image.config ?? {};
  const spec = example(opts.ociVersion ?? RUNTIME_SPEC_VERSION);
  const proc = spec.process;
  const env = proc.env!;

  spec.root = { path: goBase(opts.rootfs ?? '') };
  if (cfg.WorkingDir) proc.cwd = cfg.WorkingDir;
  for (const e of cfg.Env ?? []) {
    const eq = e.indexOf('=');
    if (eq < 0) throw new OcikitError('SCHEMA_INVALID', `parsing image.Config.Env: environment variable must contain '=': ${e}`);
    if (eq === 0) throw new OcikitError('SCHEMA_INVALID', `parsing image.Config.Env: environment variable must have non-empty name: ${e}`);
    setEnv(env, e.slice(0, eq), e.slice(eq + 1));
  }
  const args = [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
  if (args.length > 0) proc.args = args;

  // Annotation fields: generated ones (empty values left out), then Labels
  // copied over them — labels win since umoci 0.6 (0.4.7 did the reverse).
  // Like umoci, no os.version / os.features annotations (conversion.md
  // lists them; umoci never wrote them).
  const ann: Record<string, string> = {};
  const created = image.created ? formatCreated(image.created) : ZERO_TIME;
  const generated: [string, string | undefined][] = [
    ['org.opencontainers.image.os', image.os],
    ['org.opencontainers.image.architecture', image.architecture],
    ['org.opencontainers.image.variant', image.variant],
    ['org.opencontainers.image.author', image.author],
    ['org.opencontainers.image.created', created],
    ['org.opencontainers.image.stopSignal', cfg.StopSignal],
    ['org.opencontainers.image.exposedPorts', sortedKeys(cfg.ExposedPorts).join(',')],
  ];
  for (const [k, v] of generated) if (v) ann[k] = v;
  for (const [k, v] of Object.entries(cfg.Labels ?? {})) ann[k] = v;
  spec.annotations = ann;

  const user = await lookUpUser(opts, cfg.User ?? '');
  proc.user = { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
  // HOME follows umoci main (#652/#653), not 0.6.0: set from passwd only
  // when the environment has no HOME yet; 0.6.0 and older overwrite it.
  if (user.home !== undefined) setEnv(env, 'HOME', user.home, false);

  for (const vol of sortedKeys(cfg.Volumes)) {
    spec.mounts.push({ destination: vol, type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] });
  }

  // UnpackRuntimeJSON: any mapping adds a user namespace (once) and the maps.
  const { uidMappings, gidMappings, rootless } = opts.mapOptions;
  if (uidMappings.length > 0 || gidMappings.length > 0) {
    spec.linux.namespaces = (spec.linux.namespaces ?? []).filter((ns) => ns.type !== 'user');
    spec.linux.namespaces.push({ type: 'user' });
  }
  if (uidMappings.length > 0) spec.linux.uidMappings = uidMappings.map((m) => ({ ...m }));
  if (gidMappings.length > 0) spec.linux.gidMappings = gidMappings.map((m) => ({ ...m }));
  if (rootless) await toRootless(spec, opts);
  return spec;
}

/** `created` the way umoci prints it: parsed by Go's time package, printed with RFC3339Nano. */
function formatCreated(created: string): string {
  try {
    return formatRfc3339Nano(parseRfc3339(created, 'created'));
  } catch (err) {
    throw new OcikitError('SCHEMA_INVALID', `invalid image config: created: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * umoci: with a rootfs, an unresolvable user fails; without one it is
 * logged and replaced by root:root (uid 0, gid 0, no groups, no HOME).
 */
async function lookUpUser(opts: RuntimeConfigOptions, user: string): Promise<ExecUser> {
  try {
    return await resolveUser(opts.rootfs, user);
  } catch (err) {
    if (opts.rootfs !== undefined || !(err instanceof OcikitError) || err.code !== 'VALIDATION_FAILED') {
      const msg = err instanceof Error ? err.message : String(err);
      throw new OcikitError(err instanceof OcikitError ? err.code : 'IO', `cannot parse user spec: ${JSON.stringify(user)}: ${msg}`, { cause: err });
    }
    opts.log?.warn(`could not parse user spec ${JSON.stringify(user)} without a rootfs -- defaulting to root:root`);
    return { uid: 0, gid: 0, additionalGids: [] };
  }
}
