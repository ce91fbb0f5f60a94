// diagrams/ must be what the machines draw today.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderDiagrams } from '../../src/inspector/documented-machines.js';

const directory = fileURLToPath(new URL('../../../diagrams/', import.meta.url));

test('diagrams/ is up to date with machines/ (run `npm run diagrams` if not)', () => {
  const expected = renderDiagrams();
  assert.equal(readdirSync(directory).sort(), Object.keys(expected).sort());
  for (const [file, content] of Object.entries(expected)) {
    assert.fixture(readFileSync(`${directory}${file}`, 'utf8'), content, `diagrams/${file} is stale`);
  }
});

test('every top-level lifecycle state appears in each machine diagram', () => {
  const files = renderDiagrams();
  for (const file of ['arbiter.md', 'worker.md', 'worker-handle.md']) {
    for (const state of ['booting', 'serving', 'draining', 'dead']) {
      assert.ok(files[file].includes(`state "${state}" as`), `${file} shows ${state}`);
    }
  }
  assert.match(files['arbiter.md'], /arbiter_serving_reloading_rolling --> arbiter_serving_steady: always \[rollingDone\]/);
  assert.match(files['worker-handle.md'], /workerHandle_serving_live --> workerHandle_draining_aborting: after timeout \[hasTimeout\]/);
  assert.match(files['arbiter.md'], /arbiter_serving --> arbiter_draining: WORKER\.EXITED \[isBootFailure\]/);
});

test.run();
