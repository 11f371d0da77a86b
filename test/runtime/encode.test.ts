import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeSpec } from '../../src/runtime/convert.js';
import { encodeRuntimeConfig, goIndent } from '../../src/runtime/encode.js';
import { hasCode } from '../helpers/assert.js';

describe('goIndent (json.Indent with "\\t")', () => {
  test('indents objects and arrays, keeps empty ones on one line', () => {
    assert.equal(goIndent('{"a":[],"b":{},"c":[1,{"d":null}]}'), '{\n\t"a": [],\n\t"b": {},\n\t"c": [\n\t\t1,\n\t\t{\n\t\t\t"d": null\n\t\t}\n\t]\n}');
  });
  test('copies strings untouched, even with brackets, colons, commas and escaped quotes', () => {
    assert.equal(goIndent('{"k\\"{":"[a,b]:\\\\","x":"\\u003c"}'), '{\n\t"k\\"{": "[a,b]:\\\\",\n\t"x": "\\u003c"\n}');
  });
  test('a bare scalar is unchanged', () => {
    assert.equal(goIndent('"x"'), '"x"');
    assert.equal(goIndent('[]'), '[]');
  });
});

describe('encodeRuntimeConfig', () => {
  test('writes Go struct order, omitempty rules, sorted annotations, HTML escapes and a newline', () => {
    const spec: RuntimeSpec = {
      // keys deliberately out of Go order
      linux: { namespaces: [{ type: 'pid' }], uidMappings: [{ size: 1, hostID: 1000, containerID: 0 }] },
      annotations: { 'b<': 'x&y', a: '', 'é': '1', Z: '\u2028' },
      mounts: [{ options: [], source: 'proc', destination: '/proc', type: 'proc' }],
      hostname: '',
      root: { readonly: false, path: 'rootfs' },
      process: {
        cwd: '/',
        noNewPrivileges: false,
        user: { additionalGids: [], gid: 0, uid: 0, umask: 0 },
        terminal: false,
        env: [],
        rlimits: [{ soft: 1n, hard: 18446744073709551615n, type: 'RLIMIT_X' }],
      },
      ociVersion: '1.2.1',
    };
    const want = [
      '{',
      '\t"ociVersion": "1.2.1",',
      '\t"process": {',
      '\t\t"user": {',
      '\t\t\t"uid": 0,',
      '\t\t\t"gid": 0,',
      '\t\t\t"umask": 0',
      '\t\t},',
      '\t\t"cwd": "/",',
      '\t\t"rlimits": [',
      '\t\t\t{',
      '\t\t\t\t"type": "RLIMIT_X",',
      '\t\t\t\t"hard": 18446744073709551615,',
      '\t\t\t\t"soft": 1',
      '\t\t\t}',
      '\t\t]',
      '\t},',
      '\t"root": {',
      '\t\t"path": "rootfs"',
      '\t},',
      '\t"mounts": [',
      '\t\t{',
      '\t\t\t"destination": "/proc",',
      '\t\t\t"type": "proc",',
      '\t\t\t"source": "proc"',
      '\t\t}',
      '\t],',
      '\t"annotations": {',
      '\t\t"Z": "\\u2028",',
      '\t\t"a": "",',
      '\t\t"b\\u003c": "x\\u0026y",',
      '\t\t"é": "1"',
      '\t},',
      '\t"linux": {',
      '\t\t"uidMappings": [',
      '\t\t\t{',
      '\t\t\t\t"containerID": 0,',
      '\t\t\t\t"hostID": 1000,',
      '\t\t\t\t"size": 1',
      '\t\t\t}',
      '\t\t],',
      '\t\t"namespaces": [',
      '\t\t\t{',
      '\t\t\t\t"type": "pid"',
      '\t\t\t}',
      '\t\t]',
      '\t}',
      '}',
      '',
    ].join('\n');
    assert.equal(encodeRuntimeConfig(spec), want);
  });

  test('a process always carries user and cwd; an empty resources pointer is kept as {}', () => {
    const out = encodeRuntimeConfig({ ociVersion: '1', process: {} as never, linux: { resources: {} } });
    assert.equal(out, '{\n\t"ociVersion": "1",\n\t"process": {\n\t\t"user": {\n\t\t\t"uid": 0,\n\t\t\t"gid": 0\n\t\t},\n\t\t"cwd": ""\n\t},\n\t"linux": {\n\t\t"resources": {}\n\t}\n}\n');
  });

  test('device cgroup: allow is always written, access omitted when empty', () => {
    const out = encodeRuntimeConfig({ ociVersion: '1', linux: { resources: { devices: [{ allow: false, access: 'rwm' }, { allow: true, major: 0 }] } } });
    assert.match(out, /"allow": false,\n\t+"access": "rwm"/);
    assert.match(out, /"allow": true,\n\t+"major": 0\n/);
  });

  test('refuses a field the runtime-spec structs do not have, and wrong types', () => {
    assert.throws(() => encodeRuntimeConfig({ ociVersion: '1', bogus: 1 } as unknown as RuntimeSpec), hasCode('INTERNAL', /unknown field bogus/));
    assert.throws(() => encodeRuntimeConfig({ ociVersion: '1', process: { user: { uid: -1, gid: 0 }, cwd: '/' } }), hasCode('INTERNAL', /process.user.uid/));
    assert.throws(() => encodeRuntimeConfig({ ociVersion: '1', annotations: { a: 1 as unknown as string } }), hasCode('INTERNAL', /annotations/));
  });
});
