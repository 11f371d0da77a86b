/**
 * Where blobs were last seen in registries, so that push can ask for a
 * cross-repository mount instead of uploading (as containers/image keeps
 * its blob-info cache). A small JSON file in the user's cache directory,
 * `$XDG_CACHE_HOME/ocikit/blob-sources.json` (`~/.cache/…`), or
 * `$OCIKIT_BLOB_SOURCES` if set; written atomically; best effort: a cache
 * that cannot be read or written is ignored.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** digest → "host/repository" entries, most recent last. */
type Sources = Record<string, string[]>;

const MAX_DIGESTS = 20_000;
const MAX_PER_DIGEST = 4;

export function blobSourcesFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env['OCIKIT_BLOB_SOURCES']) return env['OCIKIT_BLOB_SOURCES'];
  const base = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(base, 'ocikit', 'blob-sources.json');
}

function load(file: string): Sources {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Sources) : {};
  } catch {
    return {};
  }
}

/** Notes that `host/repository` holds these blobs. */
export function recordBlobSource(host: string, repository: string, digests: string[]): void {
  const file = blobSourcesFile();
  const sources = load(file);
  const where = `${host}/${repository}`;
  for (const digest of digests) {
    const list = (Array.isArray(sources[digest]) ? sources[digest]! : []).filter((s) => s !== where);
    list.push(where);
    delete sources[digest];
    sources[digest] = list.slice(-MAX_PER_DIGEST);
  }
  const keys = Object.keys(sources);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_DIGESTS))) delete sources[k];
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(sources));
    renameSync(tmp, file);
  } catch {
    // a cache only
  }
}

/** Repositories on `host` other than `except` known to hold the blob, most recent first. */
export function blobSources(host: string, digest: string, except: string): string[] {
  const list = load(blobSourcesFile())[digest];
  if (!Array.isArray(list)) return [];
  const prefix = `${host}/`;
  return list
    .filter((s) => typeof s === 'string' && s.startsWith(prefix))
    .map((s) => s.slice(prefix.length))
    .filter((r) => r !== except)
    .reverse();
}
