/**
 * Saving and removing credentials, for `login` and `logout`, in the Docker
 * config format. The file is `--authfile`, else `$REGISTRY_AUTH_FILE`, else
 * `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`). When the file names
 * a helper for the registry (`credHelpers`, else `credsStore`) the secret
 * goes to `docker-credential-<name> store`/`erase`; otherwise it is written
 * as `auths[KEY].auth` (base64 of user:password), in a file of mode 0600.
 * Other keys of the file are kept as they were.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';
import { OcikitError, errnoCode } from '../errors.js';
import { writeFileAtomic } from '../util/fsync.js';
import { HUB_KEY, authKeys, normaliseKey, readAuthFile } from './credentials.js';
import { DEFAULT_REGISTRY } from './reference.js';

type AuthFile = Record<string, unknown> & {
  auths?: Record<string, unknown>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
};

/** The file login writes and logout edits. */
export function loginFile(authfile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (authfile !== undefined) return authfile;
  if (env['REGISTRY_AUTH_FILE']) return env['REGISTRY_AUTH_FILE'];
  return join(env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker'), 'config.json');
}

/** The key login stores a registry under. */
export function storeKey(registry: string): string {
  return registry === DEFAULT_REGISTRY ? HUB_KEY : registry;
}

async function load(path: string): Promise<AuthFile> {
  return ((await readAuthFile(path)) ?? {}) as AuthFile;
}

async function save(path: string, file: AuthFile): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, `${JSON.stringify(file, null, '\t')}\n`, dirname(path), 0o600);
  } catch (err) {
    throw new OcikitError('AUTH', `cannot write credentials file ${path}: ${errnoCode(err) ?? (err as Error).message}`);
  }
}

function helperFor(file: AuthFile, registry: string): string | undefined {
  const keys = authKeys(registry);
  return keys.map((k) => file.credHelpers?.[k]).find((h) => h !== undefined) ?? (file.credsStore || undefined);
}

function runHelper(helper: string, verb: 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<void> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, [verb], { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const why = errnoCode(err) === 'ENOENT' ? 'program not found' : `${stdout}${stderr}`.trim().split('\n')[0] || err.message;
      reject(new OcikitError('AUTH', `credential helper ${program} ${verb} failed: ${why}`));
    });
    child.stdin?.end(input);
  });
}

/** Stores credentials for `registry`; returns where they went, for the message. */
export async function storeCredentials(registry: string, username: string, password: string, authfile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const path = loginFile(authfile, env);
  const file = await load(path);
  const helper = helperFor(file, registry);
  if (helper !== undefined) {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: storeKey(registry), Username: username, Secret: password }), env);
    return `docker-credential-${helper}`;
  }
  const auths = file.auths !== null && typeof file.auths === 'object' ? file.auths : {};
  const wanted = new Set(authKeys(registry).map(normaliseKey));
  for (const k of Object.keys(auths)) if (wanted.has(normaliseKey(k))) delete auths[k];
  auths[storeKey(registry)] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  file.auths = auths;
  await save(path, file);
  return path;
}

/** Removes stored credentials for `registry` (every registry with `all`); false when there were none. */
export async function removeCredentials(registry: string | undefined, authfile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const path = loginFile(authfile, env);
  const file = await load(path);
  const auths = file.auths !== null && typeof file.auths === 'object' ? file.auths : {};
  if (registry === undefined) {
    const had = Object.keys(auths).length > 0;
    if (had) {
      file.auths = {};
      await save(path, file);
    }
    return had;
  }
  let removed = false;
  const helper = helperFor(file, registry);
  if (helper !== undefined) {
    try {
      await runHelper(helper, 'erase', storeKey(registry), env);
      removed = true;
    } catch (err) {
      if (!/not found/i.test((err as Error).message) || /program not found/.test((err as Error).message)) throw err;
    }
  }
  const wanted = new Set(authKeys(registry).map(normaliseKey));
  for (const k of Object.keys(auths)) {
    if (wanted.has(normaliseKey(k))) {
      delete auths[k];
      removed = true;
    }
  }
  if (removed && file.auths !== undefined) await save(path, file);
  return removed;
}
