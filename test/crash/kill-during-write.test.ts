/**
 * A writer killed with SIGKILL at a random instant must leave a valid layout
 * holding either the old or the new state of the tag it was changing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Layout, validateLayout, readIndex, ANNOTATION_REF_NAME } from '../../src/index.js';
import { OCIKIT, ocikitSync } from '../helpers/ocikit.js';

const ITERATIONS = 60;

function killAfter(args: string[], cwd: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OCIKIT, ...args], { cwd, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function tagTargets(path: string): Promise<Map<string, string>> {
  const layout = await Layout.open(path);
  try {
    const index = await readIndex(layout);
    return new Map(index.manifests.map((d) => [d.annotations?.[ANNOTATION_REF_NAME] ?? '', d.digest]));
  } finally {
    await layout.close();
  }
}

test('a SIGKILL during config or tag leaves a valid layout with the old or the new state', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-crash-'));
  try {
    assert.equal(ocikitSync(['init', '--layout', 'L'], dir).status, 0);
    assert.equal(ocikitSync(['new', '--image', 'L:a'], dir).status, 0);
    let killedMidway = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const before = await tagTargets(join(dir, 'L'));
      const indexBefore = await readFile(join(dir, 'L', 'index.json'), 'utf8');
      // Node starts in ~60 ms and a config run takes ~100–300 ms: spread the kill over that window.
      const delay = 40 + Math.floor(Math.random() * 300);
      const args = i % 2 === 0 ? ['config', '--image', 'L:a', '--config.env', `X=${i}`] : ['tag', '--image', 'L:a', `t${i % 7}`];
      await killAfter(args, dir, delay);
      const after = await tagTargets(join(dir, 'L'));
      const indexAfter = await readFile(join(dir, 'L', 'index.json'), 'utf8');
      if (indexAfter === indexBefore) killedMidway++;
      const layout = await Layout.open(join(dir, 'L'));
      try {
        const result = await validateLayout(layout);
        assert.deepEqual(result.problems, [], `iteration ${i} (${args.join(' ')}, kill after ${delay} ms)`);
      } finally {
        await layout.close();
      }
      // Old or new: tags other than the one being written are untouched.
      const changed = args[0] === 'config' ? 'a' : args[3]!;
      for (const [tag, digest] of before) if (tag !== changed) assert.equal(after.get(tag), digest, `iteration ${i}: tag ${tag} changed`);
      assert.ok(after.has('a'), `iteration ${i}: tag a lost`);
    }
    // The test means something only if some kills landed before the index was replaced.
    assert.ok(killedMidway > 0, 'no kill landed before the commit; the delays are off');
    // gc cleans the temporary files killed writers left behind.
    assert.equal(ocikitSync(['gc', '--layout', 'L'], dir).status, 0);
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual((await readdir(join(dir, 'L'))).filter((n) => n.startsWith('.ocikit-tmp-')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
