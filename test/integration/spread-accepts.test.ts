// Workers accepting side by side on one socket take one connection per wake-up
// (libuv's single-accept mode), so a burst of connections is shared out rather
// than piled onto whichever worker woke first; one worker alone, or an operator
// who set the mode, is left as it is.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const acceptMode = (args: string[], env?: NodeJS.ProcessEnv) =>
  withCorral(
    [...args, '-b', '127.0.0.1:0', '--no-control-socket', fixture('accept-mode-app.js')],
    async (corral) => {
      const [url] = await corral.ready();
      return (await request(url)).body;
    },
    { env },
  );

test('async workers, two or more: single accept is on', async () => {
  assert.is(await acceptMode(['-w', '2']), 'UV_TCP_SINGLE_ACCEPT=1');
});

test('one worker: left alone', async () => {
  assert.is(await acceptMode(['-w', '1']), 'UV_TCP_SINGLE_ACCEPT=');
});

test('set by the operator: that value stands', async () => {
  assert.is(await acceptMode(['-w', '2'], { UV_TCP_SINGLE_ACCEPT: '0' }), 'UV_TCP_SINGLE_ACCEPT=0');
});

test.run();
