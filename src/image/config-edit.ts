/**
 * `config`: edits of an image's config and manifest annotations, applied in
 * umoci's order (clears first, then each setter), committed as new blobs, and
 * tagged.
 */
import { OcikitError } from '../errors.js';
import { encodeGo } from '../oci/go-json.js';
import { formatRfc3339Nano, parseRfc3339 } from '../oci/go-time.js';
import type { Annotations, ImageConfig, Manifest } from '../oci/types.js';
import type { Layout } from '../store/layout.js';
import { makeHistory, type HistoryOptions } from './history.js';
import { readConfig, readManifest } from './json-blob.js';
import { commitAndTag, MAX_EDIT_ATTEMPTS } from './mutate.js';
import { resolveTag, type DescriptorPath } from './resolve.js';
import { checkTagName } from './tags.js';

export const CLEAR_KEYS = [
  'config.labels',
  'manifest.annotations',
  'config.exposedports',
  'config.env',
  'config.volume',
  'config.cmd',
  'config.entrypoint',
] as const;

/** Every field is optional; an absent field leaves that part alone. Arrays keep flag order. */
export interface ConfigEdits {
  clear?: string[];
  user?: string;
  exposedPorts?: string[];
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
  volumes?: string[];
  labels?: string[];
  workingDir?: string;
  stopSignal?: string;
  /** RFC 3339 */
  created?: string;
  author?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  manifestAnnotations?: string[];
}

export interface ConfigOptions {
  edits: ConfigEdits;
  /** Write the result under this tag instead of the source tag. */
  tag?: string;
  /** false: no history entry (--no-history). */
  history?: HistoryOptions | false;
  env?: NodeJS.ProcessEnv;
}

export interface ConfigResult {
  path: DescriptorPath;
  config: ImageConfig;
  configBytes: Buffer;
}

/** Splits NAME=VALUE as umoci's parseKV does. */
export function parseKV(input: string, what: string): [string, string] {
  const eq = input.indexOf('=');
  if (eq < 0) throw new OcikitError('USAGE', `${what}: must contain '=': ${input}`);
  if (eq === 0) throw new OcikitError('USAGE', `${what}: must have non-empty name: ${input}`);
  return [input.slice(0, eq), input.slice(eq + 1)];
}

/** Checks the edits before anything is read or written (bad input leaves the layout untouched). */
export function checkEdits(e: ConfigEdits): void {
  for (const key of e.clear ?? []) {
    if (key === 'rootfs.diffids') throw new OcikitError('USAGE', '--clear=rootfs.diffids is not safe');
    if (!(CLEAR_KEYS as readonly string[]).includes(key)) throw new OcikitError('USAGE', `unknown key to --clear: ${key}`);
  }
  for (const v of e.env ?? []) parseKV(v, 'config.env');
  for (const v of e.labels ?? []) parseKV(v, 'config.label');
  // umoci crashes on an annotation without '='; ocikit says so.
  for (const v of e.manifestAnnotations ?? []) parseKV(v, 'manifest.annotation');
  if (e.created !== undefined) parseRfc3339(e.created, '--created');
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Applies the edits to copies of the config and manifest annotations; pure. */
export function applyEdits(config: ImageConfig, annotations: Annotations | undefined, e: ConfigEdits): { config: ImageConfig; annotations: Annotations | undefined } {
  const c: ImageConfig = structuredClone(config);
  const cc = (c.config ??= {});
  let ann = annotations === undefined ? undefined : { ...annotations };
  for (const key of e.clear ?? []) {
    if (key === 'config.labels') delete cc.Labels;
    else if (key === 'manifest.annotations') ann = undefined;
    else if (key === 'config.exposedports') delete cc.ExposedPorts;
    else if (key === 'config.env') delete cc.Env;
    else if (key === 'config.volume') delete cc.Volumes;
    else if (key === 'config.cmd') delete cc.Cmd;
    else if (key === 'config.entrypoint') delete cc.Entrypoint;
  }
  // umoci rebuilds the image from its metadata: a missing `created` becomes Go's zero time.
  c.created = e.created !== undefined ? formatRfc3339Nano(parseRfc3339(e.created, '--created')) : (c.created || GO_ZERO_TIME);
  if (e.author !== undefined) c.author = e.author;
  if (e.architecture !== undefined) c.architecture = e.architecture;
  if (e.os !== undefined) c.os = e.os;
  if (e.variant !== undefined) c.variant = e.variant;
  if (e.user !== undefined) cc.User = e.user;
  if (e.stopSignal !== undefined) cc.StopSignal = e.stopSignal;
  if (e.workingDir !== undefined) cc.WorkingDir = e.workingDir;
  for (const port of e.exposedPorts ?? []) (cc.ExposedPorts ??= {})[port] = {};
  for (const kv of e.env ?? []) {
    const [name] = parseKV(kv, 'config.env');
    const env = (cc.Env ??= []);
    // umoci's AddConfigEnv: the first entry starting with NAME= (an entry without '=' never matches).
    const at = env.findIndex((x) => x.startsWith(`${name}=`));
    if (at >= 0) env[at] = kv;
    else env.push(kv);
  }
  if (e.entrypoint !== undefined) cc.Entrypoint = [...e.entrypoint];
  if (e.cmd !== undefined) cc.Cmd = [...e.cmd];
  for (const v of e.volumes ?? []) (cc.Volumes ??= {})[v] = {};
  for (const kv of e.labels ?? []) {
    const [name, value] = parseKV(kv, 'config.label');
    (cc.Labels ??= {})[name] = value;
  }
  if (e.manifestAnnotations !== undefined) {
    ann ??= {};
    for (const kv of e.manifestAnnotations) {
      const [name, value] = parseKV(kv, 'manifest.annotation');
      ann[name] = value;
    }
  }
  return { config: c, annotations: ann };
}

/** `umoci config`: edit, append a history entry (unless disabled), commit, tag. */
export async function configImage(layout: Layout, fromTag: string, opts: ConfigOptions): Promise<ConfigResult> {
  const tag = opts.tag ?? fromTag;
  checkTagName(tag, 'new tag');
  checkEdits(opts.edits);
  return layout.withLock('content', 'shared', async () => {
    for (let attempt = 0; attempt < MAX_EDIT_ATTEMPTS; attempt++) {
      const path = await resolveTag(layout, fromTag);
      const manifest = (await readManifest(layout, path[path.length - 1]!)).value;
      const config = (await readConfig(layout, manifest.config)).value;
      const edited = applyEdits(config, manifest.annotations, opts.edits);
      if (opts.history !== false) {
        const entry = makeHistory(opts.history ?? {}, { createdBy: 'umoci config', author: edited.config.author ?? '', emptyLayer: true }, opts.env);
        edited.config.history = [...(edited.config.history ?? []), entry];
      }
      const newManifest: Manifest = { ...manifest };
      if (edited.annotations === undefined) delete newManifest.annotations;
      else newManifest.annotations = edited.annotations;
      const fresh = await commitAndTag(layout, path, newManifest, edited.config, tag, fromTag);
      if (fresh === undefined) continue;
      // The tag has moved: nothing after this point may fail. The result is
      // the bytes commitImage stored (the same encoder, the same value).
      const configBytes = Buffer.from(encodeGo('config', edited.config));
      return { path: fresh, config: JSON.parse(configBytes.toString('utf8')) as ImageConfig, configBytes };
    }
    throw new OcikitError('LAYOUT_LOCKED', `tag ${fromTag} kept changing under concurrent writers; gave up after ${MAX_EDIT_ATTEMPTS} attempts`);
  });
}
