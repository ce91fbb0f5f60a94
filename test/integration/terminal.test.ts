// corral run in a terminal: a window resize (WINCH) must not stop the workers,
// as gunicorn ignores WINCH unless daemonized. Without a terminal WINCH stops them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, startCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

// `script` gives corral a pseudo-terminal as its stdout and stderr.
const inTerminal = (command: string[]): [string, string[]] => ['script', ['-qfec', command.map((part) => `'${part}'`).join(' '), '/dev/null']];

test('in a terminal, WINCH (a window resize) is ignored and said; the workers keep serving', async () => {
  const corral = startCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('app.js')], { launcher: inTerminal });
  try {
    const [url] = await corral.ready();
    const arbiter = Number(/Listening at: \S+ \((\d+)\)/.exec(corral.output)![1]);
    process.kill(arbiter, 'SIGWINCH');
    await corral.waitForLine(/Ignoring signal: winch \(in a terminal it means a window resize/);
    assert.is((await request(url)).status, 200);
    assert.not.match(corral.output, /Handling signal: winch/);
  } finally {
    await corral.stop();
  }
});

test('without a terminal, WINCH stops every worker and keeps the sockets', async () => {
  const corral = startCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('app.js')]);
  try {
    await corral.ready();
    corral.signal('SIGWINCH');
    await corral.waitForLine(/Handling signal: winch/);
    await corral.waitForLine(/Worker exiting/);
  } finally {
    await corral.stop();
  }
});

test.run();
