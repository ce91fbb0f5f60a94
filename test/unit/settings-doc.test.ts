// docs/settings.md must be what the schema says today.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hookSpecs } from '../../src/config/hooks.js';
import { allSettings } from '../../src/config/schema.js';
import { renderSettingsDoc } from '../../src/config/settings-doc.js';

const committed = readFileSync(new URL('../../../docs/settings.md', import.meta.url), 'utf8');

test('docs/settings.md is up to date with the schema (run `npm run docs` if not)', () => {
  assert.fixture(committed, renderSettingsDoc());
});

test('every setting and hook is documented', () => {
  for (const spec of allSettings) if (spec.flag) assert.ok(committed.includes(`\`--${spec.flag}\``), spec.name);
  for (const hook of hookSpecs) assert.ok(committed.includes(`\`${hook.name}\``), hook.name);
});

test.run();
