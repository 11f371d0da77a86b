/** Concurrent writers on one layout never lose an update (umoci and skopeo can). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ocikit, ocikitSync } from '../helpers/ocikit.js';

test('N parallel tag processes end with all N tags present', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-conc-'));
  try {
    assert.equal(ocikitSync(['init', '--layout', 'L'], dir).status, 0);
    assert.equal(ocikitSync(['new', '--image', 'L:a'], dir).status, 0);
    const n = 12;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => ocikit(['tag', '--image', 'L:a', `t${i}`], dir)));
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    const ls = ocikitSync(['ls', '--layout', 'L'], dir);
    const tags = ls.stdout.trim().split('\n').sort();
    assert.deepEqual(tags, ['a', ...Array.from({ length: n }, (_, i) => `t${i}`)].sort());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('parallel config and gc runs keep every tag resolvable and the layout valid', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-conc-'));
  try {
    assert.equal(ocikitSync(['init', '--layout', 'L'], dir).status, 0);
    for (const t of ['a', 'b', 'c']) assert.equal(ocikitSync(['new', '--image', `L:${t}`], dir).status, 0);
    const runs = [];
    for (let i = 0; i < 6; i++) {
      runs.push(ocikit(['config', '--image', `L:${'abc'[i % 3]}`, '--config.env', `N=${i}`], dir));
      runs.push(ocikit(['gc', '--layout', 'L'], dir));
    }
    for (const r of await Promise.all(runs)) assert.equal(r.status, 0, r.stderr);
    const v = ocikitSync(['validate', '--layout', 'L'], dir);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    for (const t of ['a', 'b', 'c']) {
      const s = ocikitSync(['stat', '--image', `L:${t}`, '--json'], dir);
      assert.equal(s.status, 0, s.stderr);
      const history = (JSON.parse(s.stdout) as { history: unknown[] }).history;
      assert.equal(history.length, 2, `tag ${t} should carry both of its config edits`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
