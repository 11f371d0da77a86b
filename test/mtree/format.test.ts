import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatMtree, formatMtreeDate } from '../../src/mtree/format.js';
import { parseMtree } from '../../src/mtree/parse.js';
import type { MtreeEntry } from '../../src/mtree/spec.js';
import { ROOT } from '../helpers/ocikit.js';

const FIXTURE = join(ROOT, 'test/fixtures/mtree/umoci-0.4.7-rootfs.mtree');

describe('formatMtree', () => {
  const text = readFileSync(FIXTURE, 'utf8');
  // The fixture's host-dependent header, read back so the whole file can be compared.
  const header = {
    user: 'root',
    machine: 'vm',
    tree: 'b2/rootfs',
    date: 'Mon Nov 23 17:22:21 2026',
  };

  test('reproduces umoci 0.4.7 output byte for byte from the parsed entries', () => {
    assert.equal(formatMtree(parseMtree(text), header), text);
  });

  test('does not depend on the order of the entries given', () => {
    const entries = parseMtree(text).reverse();
    assert.equal(formatMtree(entries, header), text);
  });

  test('writes only header lines that differ when the header differs', () => {
    const other = formatMtree(parseMtree(text), { user: 'u', machine: 'm', tree: '/t', date: new Date(2006, 0, 2, 15, 4, 5) });
    const a = text.split('\n');
    const b = other.split('\n');
    assert.equal(b.length, a.length);
    assert.deepEqual(b.slice(0, 4), ['#          user: u', '#       machine: m', '#          tree: /t', '#          date: Mon Jan 2 15:04:05 2006']);
    assert.deepEqual(b.slice(4), a.slice(4));
  });

  test('formats dates as Go "Mon Jan 2 15:04:05 2006"', () => {
    assert.equal(formatMtreeDate(new Date(2026, 10, 3, 7, 8, 9)), 'Tue Nov 3 07:08:09 2026');
  });

  test('round-trips non-UTF-8 names through pathBytes', () => {
    const entries: MtreeEntry[] = [
      { path: '.', type: 'dir', keywords: new Map([['type', 'dir'], ['uid', '0'], ['gid', '0'], ['mode', '0755']]) },
      { path: '\ufffdx', pathBytes: Buffer.from([0xff, 0x78]), type: 'file', keywords: new Map([['type', 'file'], ['uid', '0'], ['gid', '0'], ['mode', '0644']]) },
    ];
    const out = formatMtree(entries, header);
    assert.match(out, /\n {4}\\377x mode=0644\n/);
    assert.deepEqual(parseMtree(out)[1]!.pathBytes, Buffer.from([0xff, 0x78]));
  });

  test('refuses entries without a root or parent directory', () => {
    const file: MtreeEntry = { path: 'a/b', type: 'file', keywords: new Map() };
    assert.throws(() => formatMtree([file], header), { code: 'USAGE' });
    const root: MtreeEntry = { path: '.', type: 'dir', keywords: new Map([['type', 'dir']]) };
    assert.throws(() => formatMtree([root, file], header), { code: 'USAGE' });
  });
});

describe('formatMtree on a directory name with a newline', () => {
  test('matches umoci except that the "# path" comment escapes the newline', () => {
    const text = readFileSync(join(ROOT, 'test/fixtures/mtree/umoci-0.4.7-newline-dir.mtree'), 'utf8');
    const header = { user: 'root', machine: 'vm', tree: 'b2/rootfs', date: text.split('\n')[3]!.slice(17) };
    const out = formatMtree(parseMtree(text), header);
    assert.equal(out, text.replace('\n# nl\ndir\n', '\n# nl\\012dir\n'));
    assert.deepEqual(parseMtree(out), parseMtree(text));
  });
});
