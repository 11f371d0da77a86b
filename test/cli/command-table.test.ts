import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_TABLE } from '../../src/cli/main.js';

test("the command table's paths equal each command class's own static paths", async () => {
  for (const entry of COMMAND_TABLE) {
    const cls = await entry.load();
    assert.deepEqual(entry.paths, cls.paths, `paths of ${cls.name}`);
  }
});
