/**
 * Every flag ocikit knows, by its umoci (Go) name. Command classes declare
 * their fields through `flag(name)`, which gives clipanion an internal name of
 * lowercase letters and dashes (the only names whose `--name=value` form
 * clipanion accepts); argv.ts maps what the user typed onto those names, and
 * help.ts prints the Go names back. This table is the one place that knows both.
 */
import { Option } from 'clipanion';

export type FlagKind = 'string' | 'array' | 'boolean';

export interface FlagSpec {
  /** The name umoci users type, without dashes: "config.entrypoint". */
  go: string;
  kind: FlagKind;
  description: string;
  /** Other names for the same flag ("os" for "platform.os"). */
  aliases?: string[];
  /** A boolean that is on unless `--name=false` is given (`--tls-verify`). */
  defaultTrue?: boolean;
}

const SPECS: FlagSpec[] = [
  { go: 'image', kind: 'string', description: "OCI image URI of the form 'path[:tag]'" },
  { go: 'layout', kind: 'string', description: "path to an OCI image layout" },
  { go: 'tag', kind: 'string', description: 'new tag name (if empty, overwrite --image tag)' },
  { go: 'json', kind: 'boolean', description: 'print JSON (stat: the information; pull and push: one progress event per line; tags: an object)' },
  { go: 'long', kind: 'boolean', description: 'also print each tag\'s manifest digest, size, created time and platform' },
  { go: 'no-history', kind: 'boolean', description: 'do not create a history entry' },
  { go: 'history.author', kind: 'string', description: 'author value for the history entry' },
  { go: 'history.comment', kind: 'string', description: 'comment for the history entry' },
  { go: 'history.created', kind: 'string', description: 'created value for the history entry (RFC 3339)' },
  { go: 'history.created_by', kind: 'string', description: 'created_by value for the history entry' },
  { go: 'clear', kind: 'array', description: 'clear a key before setting (config.labels, config.env, config.entrypoint, config.cmd, config.volume, config.exposedports, manifest.annotations)' },
  { go: 'config.user', kind: 'string', description: 'set the user (name, uid, name:group or uid:gid)' },
  { go: 'config.exposedports', kind: 'array', description: 'add an exposed port (PORT/PROTO)' },
  { go: 'config.env', kind: 'array', description: 'set an environment variable (NAME=VALUE)' },
  { go: 'config.entrypoint', kind: 'array', description: 'set the entrypoint (each use is one argument)' },
  { go: 'config.cmd', kind: 'array', description: 'set the default command (each use is one argument)' },
  { go: 'config.volume', kind: 'array', description: 'add a volume path' },
  { go: 'config.label', kind: 'array', description: 'set a label (NAME=VALUE)' },
  { go: 'config.workingdir', kind: 'string', description: 'set the working directory' },
  { go: 'config.stopsignal', kind: 'string', description: 'set the stop signal' },
  { go: 'created', kind: 'string', description: 'set the image creation time (RFC 3339)' },
  { go: 'author', kind: 'string', description: 'set the image author' },
  { go: 'platform.os', kind: 'string', description: 'set the image operating system', aliases: ['os'] },
  { go: 'platform.arch', kind: 'string', description: 'set the image architecture', aliases: ['architecture'] },
  { go: 'platform.variant', kind: 'string', description: 'set the image architecture variant' },
  { go: 'manifest.annotation', kind: 'array', description: 'set a manifest annotation (NAME=VALUE)' },
  { go: 'save', kind: 'string', description: 'also write the resulting image config JSON to this file' },
  { go: 'rootless', kind: 'boolean', description: 'enable rootless unpacking or command support' },
  { go: 'uid-map', kind: 'array', description: 'specifies a uid mapping to use (container:host:size)' },
  { go: 'gid-map', kind: 'array', description: 'specifies a gid mapping to use (container:host:size)' },
  { go: 'keep-dirlinks', kind: 'boolean', description: 'don\'t replace a symlink to a directory with a directory of the same name' },
  { go: 'compress', kind: 'string', description: 'compression for the new layer: auto, gzip, zstd or none (auto keeps the previous layer\'s)' },
  { go: 'mask-path', kind: 'array', description: 'set of path prefixes in which deltas will be ignored when generating new layers' },
  { go: 'no-mask-volumes', kind: 'boolean', description: 'do not add the Config.Volumes of the image to the set of masked paths' },
  { go: 'refresh-bundle', kind: 'boolean', description: 'update the bundle metadata to reflect the packed rootfs' },
  { go: 'whiteout', kind: 'boolean', description: 'add a whiteout for TARGET instead of inserting a file' },
  { go: 'opaque', kind: 'boolean', description: 'hide what lower layers have under TARGET (an opaque whiteout)' },
  { go: 'rootfs', kind: 'string', description: 'path to the rootfs, for resolving users and groups' },
  { go: 'manifest', kind: 'string', description: 'path to the mtree manifest to validate against', aliases: ['f', 'file'] },
  { go: 'path', kind: 'string', description: 'path to the tree to validate', aliases: ['p'] },
  { go: 'add-keywords', kind: 'array', description: 'keywords to add to those the manifest uses (comma or space separated)', aliases: ['K'] },
  { go: 'use-keywords', kind: 'array', description: 'only use these keywords (comma or space separated)', aliases: ['k'] },
  { go: 'umoci-keywords', kind: 'boolean', description: "use umoci's keyword set" },
  { go: 'platform', kind: 'string', description: 'platform to pull from a multi-platform image: os/arch[/variant] (default: this host\'s)' },
  { go: 'all-platforms', kind: 'boolean', description: 'keep the whole index and the images of every platform' },
  { go: 'parallel-downloads', kind: 'string', description: 'how many blobs to download at once (default 4)' },
  { go: 'parallel-uploads', kind: 'string', description: 'how many blobs to upload at once (default 4)' },
  { go: 'chunk-size', kind: 'string', description: 'upload blobs in chunks of this many bytes (default: one request per blob)' },
  { go: 'validate-cache', kind: 'boolean', description: 're-hash blobs already in the layout instead of trusting them' },
  { go: 'preserve-digests', kind: 'boolean', description: "store the registry's manifests unchanged (no Docker to OCI conversion)" },
  { go: 'username', kind: 'string', description: 'registry user name', aliases: ['u'] },
  { go: 'password', kind: 'string', description: 'registry password or token (visible to other users of this machine: prefer --password-stdin)' },
  { go: 'password-stdin', kind: 'boolean', description: 'read the password from standard input' },
  { go: 'authfile', kind: 'string', description: 'credentials file to read and write (default: $REGISTRY_AUTH_FILE, else the docker config)' },
  { go: 'ca-file', kind: 'string', description: "a PEM file of certificate authorities to trust besides Node's and the system's" },
  { go: 'cert-dir', kind: 'string', description: 'directory of *.crt CAs and a *.cert/*.key client pair (default /etc/containers/certs.d/HOST, /etc/docker/certs.d/HOST)' },
  { go: 'insecure', kind: 'boolean', description: 'allow plain HTTP and do not verify TLS certificates' },
  { go: 'tls-verify', kind: 'boolean', description: 'require HTTPS and verify certificates (--tls-verify=false is --insecure)', defaultTrue: true },
  { go: 'retry-times', kind: 'string', description: 'how many times to retry a failed request (default 5)' },
  { go: 'quiet', kind: 'boolean', description: 'print no progress', aliases: ['q'] },
  { go: 'raw', kind: 'boolean', description: 'print the manifest (or with --config the config) exactly as the registry sends it' },
  { go: 'config', kind: 'boolean', description: "print the image's config instead of the summary" },
  { go: 'all', kind: 'boolean', description: 'remove the credentials of every registry' },
  { go: 'force', kind: 'boolean', description: 'replace a non-empty target directory (only once the new tree is complete)' },
  { go: 'cache', kind: 'string', description: "layout that caches images pulled for docker:// sources (default $XDG_CACHE_HOME/ocikit, /var/cache/ocikit for root; 'no' for none)" },
  { go: 'read-only', kind: 'boolean', description: 'mount without an upper directory: the mount cannot be written' },
  { go: 'keep-upper', kind: 'boolean', description: 'keep the upper and work directories (the changes made through the mount)' },
  { go: 'format', kind: 'string', description: 'archive format: docker-archive (default) or oci-archive' },
];

/** The clipanion name of a Go flag name: dots and underscores become dashes. */
export function internalName(go: string): string {
  return go.replace(/[._]/g, '-');
}

const BY_INTERNAL = new Map<string, FlagSpec>();
const BY_TYPED = new Map<string, string>();
for (const spec of SPECS) {
  const internal = internalName(spec.go);
  BY_INTERNAL.set(internal, spec);
  for (const name of [spec.go, internal, ...(spec.aliases ?? [])]) BY_TYPED.set(name, internal);
}

/** The spec behind an internal name, if it is one of the table's. */
export function specOf(internal: string): FlagSpec | undefined {
  return BY_INTERNAL.get(internal);
}

/** The internal name for what a user typed ("config.entrypoint", "os"), or the typed name itself. */
export function internalFor(typed: string): string {
  return BY_TYPED.get(typed) ?? typed;
}

function spec(go: string, kind: FlagKind): FlagSpec {
  const s = BY_INTERNAL.get(internalName(go));
  if (s === undefined || s.kind !== kind) throw new Error(`[internal error] flag ${go} is not a ${kind} flag`);
  return s;
}

/** A string flag field. */
export function stringFlag(go: string) {
  const s = spec(go, 'string');
  return Option.String(`--${internalName(s.go)}`, { description: s.description });
}

/** A repeatable flag field (each occurrence adds one value, in order). */
export function arrayFlag(go: string) {
  const s = spec(go, 'array');
  return Option.Array(`--${internalName(s.go)}`, { description: s.description });
}

/** A boolean flag field, false unless given. */
export function booleanFlag(go: string) {
  const s = spec(go, 'boolean');
  return Option.Boolean(`--${internalName(s.go)}`, s.defaultTrue === true, { description: s.description });
}
