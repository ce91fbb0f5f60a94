import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isIgnored } from '../../src/arbiter/watch-for-reload.js';

test('node_modules and dot-directories never trigger a reload; the app tree does', () => {
  for (const path of ['node_modules/x/index.js', 'lib/node_modules/y.js', '.git/HEAD', 'src/.cache/z', '.env']) assert.ok(isIgnored(path), path);
  for (const path of ['app.mjs', 'src/routes/users.js', 'views/index.html', 'my.node_modules.js']) assert.not.ok(isIgnored(path), path);
});

test.run();
