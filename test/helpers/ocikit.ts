/** Running the real CLI from tests. */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run compiled, from dist/test/…). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const OCIKIT = `${ROOT}bin/ocikit`;

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function ocikitSync(args: string[], cwd: string): RunResult {
  const r = spawnSync(process.execPath, [OCIKIT, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs any program, collecting its output. `env` is added to the test's own,
 * unless `exactEnv` is given; `input` goes to a piped standard input (so
 * never a terminal), which is otherwise ignored.
 */
export function runCommand(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, opts: { input?: string; exactEnv?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const piped = opts.input !== undefined;
    const child = spawn(cmd, args, { cwd, env: opts.exactEnv ?? { ...process.env, ...env }, stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    if (piped) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}

export function ocikit(args: string[], cwd: string): Promise<RunResult> {
  return runCommand(process.execPath, [OCIKIT, ...args], cwd);
}
