// The published types as a TypeScript user meets them: tsc (the project's own)
// checks a typed config file, a fetch app and an embedding script against the
// built declarations, imported as `corral`. Hook arguments, defineConfig and
// FetchContext.client must type-check; the fixtures' @ts-expect-error lines
// make sure a typo'd setting or a wrong choice is still refused.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, fixture } from '../helpers/corral-process.js';

test('tsc --noEmit passes over a typed config file, a fetch app and an embedding script', () => {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const checked = spawnSync(process.execPath, [tsc, '--noEmit', '-p', fixture('types/tsconfig.json')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.is(checked.status, 0, `tsc reported:\n${checked.stdout}${checked.stderr}`);
});

test.run();
