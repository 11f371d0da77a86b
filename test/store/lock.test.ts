import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, chmod, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OcikitError } from '../../src/errors.js';
import { readIndex, updateIndex } from '../../src/store/index-file.js';
import { Layout } from '../../src/store/layout.js';
import { LockFile, type LockMode, type LockRange } from '../../src/store/lock.js';
import { makeTmpDir, type AfterHook } from '../helpers/tmp.js';

/** The compiled lock module, next to this compiled test (dist/test/store → dist/src/store). */
const LOCK_MODULE = new URL('../../src/store/lock.js', import.meta.url).href;
const isRoot = process.getuid?.() === 0;
const LIMIT = { timeout: 30_000 };

/**
 * A child process that takes `range` in `mode` on the layout's lock file.
 * It prints "trying" just before asking for the lock and "locked" once it has
 * it, appends "child-locked" (and "child-unlocking" before it lets go) to the
 * shared log, and holds the lock `hold` milliseconds, or until killed.
 */
const CHILD = `
const [moduleUrl, lockPath, range, mode, hold, log] = process.argv.slice(1);
const { appendFileSync } = await import('node:fs');
const { LockFile } = await import(moduleUrl);
const lf = await LockFile.acquire(lockPath);
process.stdout.write('trying\\n');
await lf.with(range, mode, async () => {
  appendFileSync(log, 'child-locked\\n');
  process.stdout.write('locked\\n');
  if (hold === 'forever') {
    setInterval(() => undefined, 1000);
    await new Promise(() => undefined);
  }
  await new Promise((resolve) => setTimeout(resolve, Number(hold)));
  appendFileSync(log, 'child-unlocking\\n');
});
await lf.release();
`;

interface Holder {
  child: ChildProcess;
  /** resolves when the child is about to ask for the lock */
  trying: Promise<void>;
  /** resolves when the child holds the lock */
  locked: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnHolder(t: AfterHook, root: string, range: LockRange, mode: LockMode, hold: number | 'forever', log: string): Holder {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', CHILD, LOCK_MODULE, join(root, 'oci-layout'), range, mode, String(hold), log],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (word: string): Promise<void> =>
    new Promise((resolve, reject) => {
      let out = '';
      const onData = (b: Buffer): void => {
        out += b.toString();
        if (out.split('\n').includes(word)) {
          child.stdout?.off('data', onData);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      void exited.then(({ code, signal }) => reject(new Error(`child exited (${code ?? signal}) before "${word}": ${stderr}`)));
    });
  const holder = { child, trying: waitFor('trying'), locked: waitFor('locked'), exited };
  // Never leave a child behind, whatever the test did.
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return holder;
}

async function logLines(log: string): Promise<string[]> {
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function freshLayout(t: AfterHook): Promise<{ layout: Layout; dir: string; log: string }> {
  const { path: dir } = await makeTmpDir(t);
  await Layout.create(join(dir, 'img'));
  const layout = await Layout.open(join(dir, 'img'));
  t.after(() => layout.close());
  const log = join(dir, 'order.log');
  await writeFile(log, '');
  return { layout, dir, log };
}

describe('LockFile in one process', () => {
  test('shares one descriptor per path and counts references', async (t) => {
    const { layout } = await freshLayout(t);
    const path = join(layout.root, 'oci-layout');
    const a = await LockFile.acquire(path);
    const b = await LockFile.acquire(path);
    assert.equal(a, b);
    await a.release();
    // Still open for b: a lock can still be taken through it.
    await b.with('index', 'exclusive', async () => undefined);
    await b.release();
  });

  test('concurrent first acquires of a path share one descriptor', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    await Layout.create(join(dir, 'img'));
    const path = join(dir, 'img', 'oci-layout');
    const all = await Promise.all(Array.from({ length: 8 }, () => LockFile.acquire(path)));
    assert.ok(all.every((lf) => lf === all[0]));
    try {
      const fds = await readdir('/proc/self/fd').catch(() => undefined);
      if (fds !== undefined) {
        const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
        assert.equal(targets.filter((p) => p === path).length, 1);
      }
    } finally {
      for (const lf of all) await lf.release();
    }
  });

  test('exclusive holders of a range run one at a time', async (t) => {
    const { layout } = await freshLayout(t);
    const events: string[] = [];
    const holder = (name: string) => layout.withLock('index', 'exclusive', async () => {
      events.push(`${name}+`);
      await sleep(10);
      events.push(`${name}-`);
    });
    await Promise.all([holder('a'), holder('b'), holder('c')]);
    assert.deepEqual(events, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
  });

  test('shared holders of a range overlap', async (t) => {
    const { layout } = await freshLayout(t);
    let inside = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 4 }, () => layout.withLock('content', 'shared', async () => {
      inside++;
      most = Math.max(most, inside);
      await sleep(10);
      inside--;
    })));
    assert.equal(most, 4);
  });

  test('a shared request behind a waiting exclusive one waits its turn', async (t) => {
    const { layout } = await freshLayout(t);
    const events: string[] = [];
    const first = layout.withLock('content', 'shared', async () => {
      events.push('reader1+');
      await sleep(20);
      events.push('reader1-');
    });
    const writer = layout.withLock('content', 'exclusive', async () => {
      events.push('writer');
    });
    const second = layout.withLock('content', 'shared', async () => {
      events.push('reader2');
    });
    await Promise.all([first, writer, second]);
    assert.deepEqual(events, ['reader1+', 'reader1-', 'writer', 'reader2']);
  });

  test('the ranges are independent', async (t) => {
    const { layout } = await freshLayout(t);
    await layout.withLock('content', 'exclusive', () => layout.withLock('index', 'exclusive', async () => undefined));
  });

  test('a lock is released when its function throws', async (t) => {
    const { layout } = await freshLayout(t);
    await assert.rejects(layout.withLock('index', 'exclusive', async () => {
      throw new Error('inside');
    }), /inside/);
    assert.equal(await layout.withLock('index', 'exclusive', async () => 'again'), 'again');
  });

  test('refuses an exclusive lock on a layout it cannot write, with LAYOUT_LOCKED', { skip: isRoot && 'root can write any file' }, async (t) => {
    const { path: dir } = await makeTmpDir(t);
    await Layout.create(join(dir, 'img'));
    await chmod(join(dir, 'img', 'oci-layout'), 0o444);
    const layout = await Layout.open(join(dir, 'img'));
    try {
      await layout.withLock('content', 'shared', async () => undefined);
      await assert.rejects(layout.withLock('index', 'exclusive', async () => undefined), (err: unknown) => {
        assert.ok(err instanceof OcikitError);
        assert.equal(err.code, 'LAYOUT_LOCKED');
        return true;
      });
    } finally {
      await layout.close();
    }
  });
});

describe('LockFile across processes', () => {
  test('updateIndex waits while another process holds the exclusive index lock', LIMIT, async (t) => {
    const { layout, log } = await freshLayout(t);
    const holder = spawnHolder(t, layout.root, 'index', 'exclusive', 300, log);
    await holder.locked;
    await updateIndex(layout, async (index) => {
      await appendFile(log, 'parent-locked\n');
      return index;
    });
    assert.deepEqual(await holder.exited, { code: 0, signal: null });
    assert.deepEqual(await logLines(log), ['child-locked', 'child-unlocking', 'parent-locked']);
  });

  test('a shared content lock waits for another process\'s exclusive one', LIMIT, async (t) => {
    const { layout, log } = await freshLayout(t);
    const holder = spawnHolder(t, layout.root, 'content', 'exclusive', 300, log);
    await holder.locked;
    await layout.withLock('content', 'shared', () => appendFile(log, 'parent-locked\n'));
    await holder.exited;
    assert.deepEqual(await logLines(log), ['child-locked', 'child-unlocking', 'parent-locked']);
  });

  test('shared content locks of two processes do not wait for each other', LIMIT, async (t) => {
    const { layout, log } = await freshLayout(t);
    const holder = spawnHolder(t, layout.root, 'content', 'shared', 'forever', log);
    await holder.locked;
    await layout.withLock('content', 'shared', () => appendFile(log, 'parent-locked\n'));
    holder.child.kill('SIGKILL');
    await holder.exited;
    assert.deepEqual(await logLines(log), ['child-locked', 'parent-locked']);
  });

  test('the index lock of another process does not block the content range', LIMIT, async (t) => {
    const { layout, log } = await freshLayout(t);
    const holder = spawnHolder(t, layout.root, 'index', 'exclusive', 'forever', log);
    await holder.locked;
    await layout.withLock('content', 'exclusive', () => appendFile(log, 'parent-locked\n'));
    holder.child.kill('SIGKILL');
    await holder.exited;
    assert.deepEqual(await logLines(log), ['child-locked', 'parent-locked']);
  });

  test('a process killed with SIGKILL while holding the lock leaves the layout unlocked', LIMIT, async (t) => {
    const { layout, log } = await freshLayout(t);
    const holder = spawnHolder(t, layout.root, 'index', 'exclusive', 'forever', log);
    await holder.locked;
    const update = updateIndex(layout, async (index) => {
      await appendFile(log, 'parent-locked\n');
      index.manifests = [];
      return index;
    });
    // The update is waiting for the child now; it can only get the lock after the kill.
    await sleep(200);
    await appendFile(log, 'killing\n');
    holder.child.kill('SIGKILL');
    assert.deepEqual(await holder.exited, { code: null, signal: 'SIGKILL' });
    await update;
    assert.deepEqual(await logLines(log), ['child-locked', 'killing', 'parent-locked']);
    assert.deepEqual((await readIndex(layout)).manifests, []);
  });

  test('in-process shared holders keep the kernel lock until the last one leaves', LIMIT, async (t) => {
    const { layout, log } = await freshLayout(t);
    let holder: Holder | undefined;
    let firstDone!: () => void;
    const firstLeft = new Promise<void>((resolve) => (firstDone = resolve));
    // Both ask in the same tick, so both reach the kernel lock together.
    const first = layout.withLock('content', 'shared', async () => {
      await appendFile(log, 'parent-first-left\n');
    });
    const second = layout.withLock('content', 'shared', async () => {
      await firstLeft;
      holder = spawnHolder(t, layout.root, 'content', 'exclusive', 0, log);
      await holder.trying;
      await sleep(200); // the child is blocked in fcntl now, unless the lock was dropped
      await appendFile(log, 'parent-second-left\n');
    });
    await first;
    firstDone();
    await second;
    assert.ok(holder !== undefined);
    await holder.exited;
    assert.deepEqual(await logLines(log), ['parent-first-left', 'parent-second-left', 'child-locked', 'child-unlocking']);
  });

  test('closing one Layout of a path keeps the locks another one holds', LIMIT, async (t) => {
    const { layout, log } = await freshLayout(t);
    const other = await Layout.open(layout.root);
    let holder: Holder | undefined;
    await layout.withLock('index', 'exclusive', async () => {
      await other.close(); // would drop this process's fcntl locks if it closed the shared descriptor
      holder = spawnHolder(t, layout.root, 'index', 'exclusive', 0, log);
      await holder.trying;
      await sleep(200);
      await appendFile(log, 'parent-left\n');
    });
    assert.ok(holder !== undefined);
    await holder.exited;
    assert.deepEqual(await logLines(log), ['parent-left', 'child-locked', 'child-unlocking']);
  });
});
