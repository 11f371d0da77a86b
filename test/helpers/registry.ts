/**
 * A real registry for tests: Debian's `docker-registry` (the reference
 * distribution registry) on 127.0.0.1, on a free port, with its storage in a
 * temporary directory; optionally behind htpasswd Basic auth. Started by the
 * test, stopped (and its storage removed) when the test ends.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTmpDir, type AfterHook } from './tmp.js';

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  /** Set when started with `auth`. */
  user?: { username: string; password: string };
}

export function haveRegistry(): boolean {
  return spawnSync('docker-registry', ['--version']).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not start: ${log()}`);
}

/** Starts a registry for the rest of the test. */
export async function startRegistry(t: AfterHook, opts: { auth?: boolean } = {}): Promise<TestRegistry> {
  const tmp = await makeTmpDir(t, 'ocikit-registry-');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let auth = '';
  let user: TestRegistry['user'];
  if (opts.auth) {
    user = { username: 'tester', password: 'pa55-w0rd' };
    const r = spawnSync('htpasswd', ['-Bbn', user.username, user.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    await writeFile(join(tmp.path, 'htpasswd'), r.stdout);
    auth = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(tmp.path, 'htpasswd')}\n`;
  }
  const config = join(tmp.path, 'config.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp.path, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${auth}`,
  );
  let output = '';
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
  const url = `http://${host}`;
  await waitReady(url, child, () => output.slice(-400));
  return user === undefined ? { host, url } : { host, url, user };
}
