/**
 * Finding stored registry credentials the way docker, podman and skopeo do.
 *
 * Files, first match wins: `$REGISTRY_AUTH_FILE` alone when set; else
 * `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`,
 * then `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`). In each file: a `credHelpers` entry for the
 * registry names a `docker-credential-<name>` program; else an `auths` entry
 * (keys may be bare hosts or URLs; Docker Hub's is
 * `https://index.docker.io/v1/`) gives `auth` (base64 of user:password),
 * `username`/`password` or `identitytoken`; else `credsStore` names the
 * program for every registry. A program is run as `<program> get` with the
 * server URL on stdin and answers `{"Username","Secret"}` JSON; a Username
 * of `<token>` means Secret is an identity token.
 *
 * Secrets are never put in messages or logs.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OcikitError, errnoCode } from '../errors.js';
import { DEFAULT_REGISTRY } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token from `docker login` against some registries (used instead of the password). */
  identityToken?: string;
  /** Where they came from, for messages ("~/.docker/config.json", "docker-credential-pass"). */
  source: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export const HUB_KEY = 'https://index.docker.io/v1/';

/**
 * The auth files to look in, in order, as containers/image does: a file the
 * user named (`--authfile`, or `$REGISTRY_AUTH_FILE`) is the only one;
 * otherwise `$XDG_RUNTIME_DIR/containers/auth.json`,
 * `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/…`) and the docker config.
 */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env['REGISTRY_AUTH_FILE']) return [env['REGISTRY_AUTH_FILE']];
  const home = env['HOME'] || homedir();
  const files: string[] = [];
  if (env['XDG_RUNTIME_DIR']) files.push(join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json'));
  files.push(join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'containers', 'auth.json'));
  files.push(join(env['DOCKER_CONFIG'] || join(home, '.docker'), 'config.json'));
  return files;
}

/** The keys an auths map may use for `registry`, most specific first. */
export function authKeys(registry: string): string[] {
  if (registry === DEFAULT_REGISTRY) return [HUB_KEY, 'index.docker.io', 'docker.io', 'https://index.docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

export function normaliseKey(key: string): string {
  return key.replace(/^https?:\/\//, '').replace(/\/+(v1|v2)?\/*$/, '');
}

/** An auth file as JSON, or undefined when it does not exist; one-line AUTH errors otherwise. */
export async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new OcikitError('AUTH', `cannot read credentials file ${path}: ${errnoCode(err) ?? (err as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as AuthFile;
  } catch (err) {
    throw new OcikitError('AUTH', `credentials file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function fromEntry(entry: AuthEntry, source: string, registry: string): Credentials | undefined {
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OcikitError('AUTH', `credentials for ${registry} in ${source}: "auth" is not base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const identityToken = entry.identitytoken || undefined;
  if (username === '' && password === '' && identityToken === undefined) return undefined;
  return identityToken === undefined ? { username, password, source } : { username, password, identityToken, source };
}

/** Runs `docker-credential-<helper> get` for the registry's server URL. */
export function runCredentialHelper(helper: string, registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const program = `docker-credential-${helper}`;
  const server = registry === DEFAULT_REGISTRY ? HUB_KEY : registry;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const text = `${stdout}${stderr}`;
        if (/credentials not found/i.test(text)) return resolve(undefined);
        const why = errnoCode(err) === 'ENOENT' ? 'program not found' : text.trim().split('\n')[0] || err.message;
        return reject(new OcikitError('AUTH', `credential helper ${program} failed for ${registry}: ${why}`));
      }
      try {
        const v = JSON.parse(stdout) as { Username?: string; Secret?: string };
        const username = v.Username ?? '';
        const secret = v.Secret ?? '';
        if (username === '<token>') resolve({ username: '', password: '', identityToken: secret, source: program });
        else resolve({ username, password: secret, source: program });
      } catch {
        reject(new OcikitError('AUTH', `credential helper ${program} gave an answer that is not JSON`));
      }
    });
    child.stdin?.end(server);
  });
}

/** The stored credentials for `registry` (a host as in a Reference), or undefined for anonymous access. */
export async function findCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const keys = authKeys(registry);
  for (const path of authFiles(env)) {
    const file = await readAuthFile(path);
    if (file === undefined) continue;
    const helper = keys.map((k) => file.credHelpers?.[k]).find((h) => h !== undefined);
    if (helper !== undefined) return runCredentialHelper(helper, registry, env);
    const auths = file.auths ?? {};
    let entry = keys.map((k) => auths[k]).find((e) => e !== undefined);
    if (entry === undefined) {
      const wanted = new Set(keys.map(normaliseKey));
      const key = Object.keys(auths).find((k) => wanted.has(normaliseKey(k)));
      if (key !== undefined) entry = auths[key];
    }
    if (entry !== undefined) {
      const creds = fromEntry(entry, path, registry);
      if (creds !== undefined) return creds;
    }
    if (file.credsStore) {
      const creds = await runCredentialHelper(file.credsStore, registry, env);
      if (creds !== undefined) return creds;
    }
  }
  return undefined;
}
