/**
 * Ctrl-C during a pull: the first SIGINT stops the transfers, the blobs the
 * pull added are removed again and the layout is as it was (a layout the
 * pull created is removed); exit 1 with "interrupted".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { OCIKIT, ocikit } from '../helpers/ocikit.js';
import { haveRegistry, startRegistry } from '../helpers/registry.js';
import { contentSnapshot, haveSkopeo, singleImage, skopeoPush } from '../helpers/registry-images.js';
import { makeTmpDir } from '../helpers/tmp.js';

const skip = haveRegistry() && haveSkopeo() ? false : 'docker-registry or skopeo is not installed';

test('SIGINT during a pull leaves the layout as it was', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const img = await singleImage(t, 200_000);
  skopeoPush(img, `${reg.host}/app:1`);
  const proxy = await startFaultProxy(t, reg.url);
  const tmp = await makeTmpDir(t);
  assert.equal((await ocikit(['init', '--layout', 'L'], tmp.path)).status, 0);
  const before = await contentSnapshot(tmp.path);
  // The small layer and the config arrive; the big layer hangs until the signal.
  proxy.add({ method: 'GET', path: new RegExp(img.digests[2]!.slice(7)), times: Infinity, kind: { type: 'delay', ms: 60_000 } });
  for (const target of ['L:t', 'new:t']) {
    const child = spawn(process.execPath, [OCIKIT, 'pull', '--tls-verify=false', `${proxy.host}/app:1`, '--image', target], { cwd: tmp.path });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 10_000;
    while (!proxy.log.some((e) => e.path.includes(img.digests[2]!.slice(7))) || !/Copying blob .* done\n.*Copying blob .* done/s.test(stderr)) {
      assert.ok(Date.now() < deadline, `the pull never reached the big layer: ${stderr}`);
      await sleep(20);
    }
    child.kill('SIGINT');
    assert.equal(await exited, 1);
    assert.match(stderr.trimEnd().split('\n').pop()!, /^ocikit pull: interrupted$/);
    assert.deepEqual(await contentSnapshot(tmp.path), before, target);
  }
});
