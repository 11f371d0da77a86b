import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LAYOUT_VERSION, Layout, readLayoutFile } from '../../src/store/layout.js';
import { readIndex } from '../../src/store/index-file.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { hasCode } from '../helpers/assert.js';

const INDEX_JSON = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}\n';
const HEX = 'a'.repeat(64);
const isRoot = process.getuid?.() === 0;


/** Creates a layout, then lets `mutate` break it, and returns its path. */
async function brokenLayout(dir: string, mutate: (root: string) => Promise<void>): Promise<string> {
  const root = join(dir, 'img');
  await Layout.create(root);
  await mutate(root);
  return root;
}

describe('Layout.create', () => {
  test('writes oci-layout, an empty index.json and blobs/sha256 as umoci init does', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const root = join(dir, 'img');
    await Layout.create(root);
    assert.equal(await readFile(join(root, 'oci-layout'), 'utf8'), `{"imageLayoutVersion":"${LAYOUT_VERSION}"}\n`);
    assert.equal(await readFile(join(root, 'index.json'), 'utf8'), INDEX_JSON);
    assert.ok((await lstat(join(root, 'blobs', 'sha256'))).isDirectory());
    assert.deepEqual((await readdir(root)).sort(), ['blobs', 'index.json', 'oci-layout']);
    assert.deepEqual(await readdir(dir), ['img'], 'no temporary directory is left next to the layout');
  });

  test('creates missing parent directories', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const root = join(dir, 'a', 'b', 'img');
    await Layout.create(root);
    const layout = await Layout.open(root);
    await layout.close();
  });

  test('refuses an existing empty directory and leaves it and its parent as they were', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const root = join(dir, 'img');
    await mkdir(root);
    await assert.rejects(Layout.create(root), hasCode('LAYOUT_INVALID', /path already exists/));
    assert.deepEqual(await readdir(root), []);
    assert.deepEqual(await readdir(dir), ['img'], 'no temporary directory is left behind');
  });

  test('refuses an existing file, an existing layout and a dangling symlink', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    await writeFile(join(dir, 'file'), 'sentinel');
    await Layout.create(join(dir, 'layout'));
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
    for (const name of ['file', 'layout', 'dangling']) {
      await assert.rejects(Layout.create(join(dir, name)), hasCode('LAYOUT_INVALID', /path already exists/), name);
    }
    assert.equal(await readFile(join(dir, 'file'), 'utf8'), 'sentinel');
    assert.deepEqual((await readdir(dir)).sort(), ['dangling', 'file', 'layout']);
  });

  test('fails with IO and leaves nothing behind when the parent cannot be written', { skip: isRoot && 'root ignores directory permissions' }, async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const parent = join(dir, 'ro');
    await mkdir(parent);
    await chmod(parent, 0o555);
    await assert.rejects(Layout.create(join(parent, 'img')), hasCode('IO'));
    await chmod(parent, 0o755);
    assert.deepEqual(await readdir(parent), []);
  });
});

describe('Layout.open', () => {
  test('opens a fresh layout and reads its empty index', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const root = join(dir, 'img');
    await Layout.create(root);
    const layout = await Layout.open(root);
    try {
      assert.equal(layout.root, root);
      assert.equal(layout.indexPath, join(root, 'index.json'));
      assert.deepEqual(await readIndex(layout), JSON.parse(INDEX_JSON));
    } finally {
      await layout.close();
    }
  });

  test('resolves a relative path to an absolute root', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    await Layout.create(join(dir, 'img'));
    const layout = await Layout.open(relative(process.cwd(), join(dir, 'img')));
    try {
      assert.equal(layout.root, join(dir, 'img'));
    } finally {
      await layout.close();
    }
  });

  test('opens a layout through a symlink to its directory, as umoci does', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    await Layout.create(join(dir, 'img'));
    await symlink(join(dir, 'img'), join(dir, 'link'));
    const layout = await Layout.open(join(dir, 'link'));
    await layout.close();
  });

  const refused: Array<[string, (root: string) => Promise<void>, RegExp]> = [
    ['a missing directory', (root) => rm(root, { recursive: true }), /no such directory/],
    ['a regular file', async (root) => {
      await rm(root, { recursive: true });
      await writeFile(root, 'x');
    }, /not a directory/],
    ['a directory without oci-layout', (root) => rm(join(root, 'oci-layout')), /no oci-layout file/],
    ['oci-layout that is a directory', async (root) => {
      await rm(join(root, 'oci-layout'));
      await mkdir(join(root, 'oci-layout'));
    }, /oci-layout/],
    ['oci-layout that is not JSON', (root) => writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":'), /invalid image layout/],
    ['oci-layout that is JSON null', (root) => writeFile(join(root, 'oci-layout'), 'null'), /no imageLayoutVersion/],
    ['oci-layout without imageLayoutVersion', (root) => writeFile(join(root, 'oci-layout'), '{}'), /no imageLayoutVersion/],
    ['oci-layout with a numeric imageLayoutVersion', (root) => writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":1}'), /no imageLayoutVersion/],
    ['imageLayoutVersion "2.0.0"', (root) => writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}'), /unsupported imageLayoutVersion "2.0.0"/],
    ['a missing index.json', (root) => rm(join(root, 'index.json')), /missing or invalid index.json/],
    ['index.json that is a directory', async (root) => {
      await rm(join(root, 'index.json'));
      await mkdir(join(root, 'index.json'));
    }, /missing or invalid index.json/],
    ['a missing blobs directory', (root) => rm(join(root, 'blobs'), { recursive: true }), /missing or invalid blobs/],
    ['blobs that is a file', async (root) => {
      await rm(join(root, 'blobs'), { recursive: true });
      await writeFile(join(root, 'blobs'), '');
    }, /missing or invalid blobs/],
  ];
  for (const [what, mutate, message] of refused) {
    test(`refuses ${what} with LAYOUT_INVALID`, async (t) => {
      const { path: dir } = await makeTmpDir(t);
      const root = await brokenLayout(dir, mutate);
      await assert.rejects(Layout.open(root), hasCode('LAYOUT_INVALID', message));
    });
  }

  test('a refused open releases the lock descriptor, so the layout opens once repaired', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const root = await brokenLayout(dir, (r) => writeFile(join(r, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}'));
    await assert.rejects(Layout.open(root), hasCode('LAYOUT_INVALID'));
    // The same descriptor would still hold the old bytes if it had been kept.
    await writeFile(join(root, 'oci-layout'), `{"imageLayoutVersion":"${LAYOUT_VERSION}"}`);
    const layout = await Layout.open(root);
    await layout.close();
  });

  test('two opens of one layout can be closed in any order', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const root = join(dir, 'img');
    await Layout.create(root);
    const a = await Layout.open(root);
    const b = await Layout.open(root);
    await a.close();
    assert.deepEqual(await readIndex(b), JSON.parse(INDEX_JSON));
    await b.withLock('index', 'exclusive', async () => undefined);
    await b.close();
  });
});

describe('Layout.blobPath', () => {
  test('maps a digest to blobs/<algorithm>/<hex> inside the root', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    const root = join(dir, 'img');
    await Layout.create(root);
    const layout = await Layout.open(root);
    try {
      assert.equal(layout.blobPath(`sha256:${HEX}`), join(root, 'blobs', 'sha256', HEX));
      assert.equal(layout.blobPath(`sha512:${'b'.repeat(128)}`), join(root, 'blobs', 'sha512', 'b'.repeat(128)));
    } finally {
      await layout.close();
    }
  });

  const hostile = [
    'sha256:../../etc',
    `sha256:../../../../etc/passwd${'0'.repeat(40)}`,
    `sha256/../../x:${HEX}`,
    `../sha256:${HEX}`,
    `sha256:${HEX}/`,
    `sha256:${HEX.toUpperCase()}`,
    `md5:${'a'.repeat(32)}`,
    HEX,
    '',
  ];
  for (const digest of hostile) {
    test(`refuses the digest ${JSON.stringify(digest)} with DESCRIPTOR_INVALID`, async (t) => {
      const { path: dir } = await makeTmpDir(t);
      const root = join(dir, 'img');
      await Layout.create(root);
      const layout = await Layout.open(root);
      try {
        assert.throws(() => layout.blobPath(digest), hasCode('DESCRIPTOR_INVALID'));
      } finally {
        await layout.close();
      }
    });
  }
});

describe('readLayoutFile', () => {
  test('maps a missing file to the code it is given', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    await assert.rejects(readLayoutFile(join(dir, 'nope'), 'BLOB_NOT_FOUND', 'read blob'), hasCode('BLOB_NOT_FOUND', /^read blob: not found$/));
    await assert.rejects(readLayoutFile(join(dir, 'nope'), 'LAYOUT_INVALID', 'read index.json'), hasCode('LAYOUT_INVALID'));
  });

  test('wraps any other failure as IO, naming the step', async (t) => {
    const { path: dir } = await makeTmpDir(t);
    await assert.rejects(readLayoutFile(dir, 'LAYOUT_INVALID', 'read index.json'), hasCode('IO', /^read index.json: /));
  });
});
