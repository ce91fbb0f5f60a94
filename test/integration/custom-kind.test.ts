// -k with a module path: a custom kind serves through the same contract; a bad one is named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, startCorral, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

test('examples/custom-kind serves, drains and stops like a built-in kind', async () => {
  await withCorral(['-k', './examples/custom-kind/stamp-kind.js', '-w', '2', '-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
    const [url] = await corral.ready();
    const response = await request(url);
    assert.is(response.body, 'Hello, World!\n');
    assert.is(response.headers['x-served-by'], 'stamp-kind');
    corral.signal('SIGTERM');
    assert.equal(await corral.waitForExit(), { code: 0, signal: null });
  });
});

test('a module that is not a kind: exit 1 naming what is missing from the contract', async () => {
  const corral = startCorral(['-k', fixture('not-a-kind.js'), 'examples/test.js']);
  try {
    assert.is((await corral.waitForExit()).code, 1);
    assert.match(corral.output, /not-a-kind\.js is not a worker kind: it is missing create\(dependencies\)/);
  } finally {
    await corral.stop();
  }
});

test('an unknown kind name lists the built-in kinds and says custom modules are possible', async () => {
  const corral = startCorral(['-k', 'gevent', 'examples/test.js']);
  try {
    assert.is((await corral.waitForExit()).code, 1);
    assert.match(corral.output, /unknown worker kind 'gevent'\. Known kinds: async, sync.*or a module path/);
  } finally {
    await corral.stop();
  }
});

test.run();
