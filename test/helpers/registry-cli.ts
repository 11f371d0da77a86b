/**
 * Running the CLI for the registry tests with an environment of its own:
 * no stored credentials or CA settings of the machine's, fast retries, and a
 * blob-sources cache in the test's directory.
 */
import { join } from 'node:path';
import { OCIKIT, runCommand, type RunResult } from './ocikit.js';

/**
 * HOME and DOCKER_CONFIG in `home`; no REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR or
 * CA variables; `extra` on top (undefined removes a variable).
 */
export function cleanEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, DOCKER_CONFIG: join(home, 'docker'), OCIKIT_RETRY_BASE_MS: '10', OCIKIT_BLOB_SOURCES: join(home, 'blob-sources.json') };
  for (const k of ['REGISTRY_AUTH_FILE', 'XDG_RUNTIME_DIR', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR']) delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs ocikit with exactly `env`; `input` goes to a piped (so never a terminal) standard input. */
export function cliWithEnv(args: string[], cwd: string, env: NodeJS.ProcessEnv, input = ''): Promise<RunResult> {
  return runCommand(process.execPath, [OCIKIT, ...args], cwd, {}, { input, exactEnv: env });
}
