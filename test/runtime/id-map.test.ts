import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mapOptionsFrom, parseIdMapping, toContainer, toHost } from '../../src/runtime/id-map.js';
import { hasCode } from '../helpers/assert.js';

describe('parseIdMapping', () => {
  test('reads C:H:N and defaults N to 1', () => {
    assert.deepEqual(parseIdMapping('0:1000:65536', '--uid-map'), { containerID: 0, hostID: 1000, size: 65536 });
    assert.deepEqual(parseIdMapping('5:7', '--gid-map'), { containerID: 5, hostID: 7, size: 1 });
    assert.deepEqual(parseIdMapping('0:4294967295:0', '--uid-map'), { containerID: 0, hostID: 4294967295, size: 0 });
    assert.deepEqual(parseIdMapping('007:010:1', '--uid-map'), { containerID: 7, hostID: 10, size: 1 });
  });

  const bad: [string, RegExp][] = [
    ['', /number of fields/],
    ['1', /number of fields/],
    ['1:2:3:4', /number of fields/],
    ['x:1', /containerID/],
    ['1:y', /hostID/],
    ['1:2:z', /size/],
    ['-1:0', /containerID/],
    ['+1:0', /containerID/],
    ['1_0:0', /containerID/],
    [' 1:0', /containerID/],
    ['0:4294967296', /hostID/], // out of range since umoci 0.5 (0.4.7 wrapped to 0)
    ['0:0:99999999999999999999', /size/],
    [':1', /containerID/],
  ];
  for (const [text, why] of bad) {
    test(`refuses ${JSON.stringify(text)} with a one-line usage error naming the flag and value`, () => {
      assert.throws(
        () => parseIdMapping(text, '--gid-map'),
        (err: unknown) => hasCode('USAGE', why)(err) && (err as Error).message.startsWith(`failure parsing --gid-map ${text}:`) && !(err as Error).message.includes('\n'),
      );
    });
  }
});

describe('mapOptionsFrom', () => {
  test('keeps flags in order and no mapping without --rootless', () => {
    assert.deepEqual(mapOptionsFrom({ rootless: false, uidMap: [], gidMap: [] }), { uidMappings: [], gidMappings: [], rootless: false });
    const m = mapOptionsFrom({ rootless: false, uidMap: ['0:100:10', '10:200'], gidMap: ['0:5'] });
    assert.deepEqual(m.uidMappings, [
      { containerID: 0, hostID: 100, size: 10 },
      { containerID: 10, hostID: 200, size: 1 },
    ]);
    assert.deepEqual(m.gidMappings, [{ containerID: 0, hostID: 5, size: 1 }]);
  });

  test('--rootless implies 0:<euid>:1 and 0:<egid>:1 only for lists left empty', () => {
    const euid = process.geteuid!();
    const egid = process.getegid!();
    assert.deepEqual(mapOptionsFrom({ rootless: true, uidMap: [], gidMap: [] }), {
      uidMappings: [{ containerID: 0, hostID: euid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: egid, size: 1 }],
      rootless: true,
    });
    const m = mapOptionsFrom({ rootless: true, uidMap: ['0:1234:5'], gidMap: [] });
    assert.deepEqual(m.uidMappings, [{ containerID: 0, hostID: 1234, size: 5 }]);
    assert.deepEqual(m.gidMappings, [{ containerID: 0, hostID: egid, size: 1 }]);
  });

  test('names the bad flag value', () => {
    assert.throws(() => mapOptionsFrom({ rootless: false, uidMap: ['0:0'], gidMap: ['a:b'] }), hasCode('USAGE', /--gid-map a:b/));
  });
});

describe('toHost / toContainer', () => {
  const maps = [
    { containerID: 0, hostID: 1000, size: 10 },
    { containerID: 10, hostID: 5000, size: 5 },
  ];
  test('identity without mappings', () => {
    assert.equal(toHost(12345, []), 12345);
    assert.equal(toContainer(0, []), 0);
  });
  test('translates through the first mapping that holds the id', () => {
    assert.equal(toHost(0, maps), 1000);
    assert.equal(toHost(9, maps), 1009);
    assert.equal(toHost(14, maps), 5004);
    assert.equal(toContainer(1009, maps), 9);
    assert.equal(toContainer(5000, maps), 10);
  });
  test('an unmapped id is an error naming it', () => {
    assert.throws(() => toHost(15, maps), hasCode('VALIDATION_FAILED', /container id 15 /));
    assert.throws(() => toContainer(999, maps), hasCode('VALIDATION_FAILED', /host id 999 /));
    assert.throws(() => toHost(0, [{ containerID: 0, hostID: 0, size: 0 }]), hasCode('VALIDATION_FAILED'));
  });
});
