// TERM finishes what is in flight; INT and QUIT stop at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, isAlive, startCorral } from '../helpers/corral-process.js';
import { startRequest as inFlight } from '../helpers/http.js';

test('TERM during a 1 s request: the response completes, then the arbiter exits 0', async () => {
  const corral = startCorral(['-w', '2', '-b', '127.0.0.1:0', fixture('app.js')]);
  try {
    const [url] = await corral.ready();
    const { body } = await inFlight(url, '/sleep?ms=1000');
    const termAt = Date.now();
    corral.signal('SIGTERM');
    assert.is(await body, 'slept 1000');
    const exit = await corral.waitForExit();
    assert.equal(exit, { code: 0, signal: null });
    assert.ok(Date.now() - termAt >= 800, 'it waited for the in-flight request');
    assert.match(corral.output, /Handling signal: term/);
    assert.match(corral.output, /Shutting down: Master/);
    for (const pid of corral.workerPids()) assert.not.ok(isAlive(pid), `worker ${pid} is gone`);
  } finally {
    await corral.stop();
  }
});

test('graceful stop is bounded by --graceful-timeout', async () => {
  const corral = startCorral(['-b', '127.0.0.1:0', '--graceful-timeout', '1', fixture('app.js')]);
  try {
    const [url] = await corral.ready();
    const { body } = await inFlight(url, '/sleep?ms=30000');
    const termAt = Date.now();
    corral.signal('SIGTERM');
    assert.equal(await corral.waitForExit(8000), { code: 0, signal: null });
    assert.ok(Date.now() - termAt < 5000, `stopped ${Date.now() - termAt} ms after TERM`);
    assert.is(await body.catch(() => 'cut'), 'cut');
  } finally {
    await corral.stop();
  }
});

for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
  test(`${signal} stops quickly without waiting for in-flight requests`, async () => {
    const corral = startCorral(['-w', '2', '-b', '127.0.0.1:0', fixture('app.js')]);
    try {
      const [url] = await corral.ready();
      const { body } = await inFlight(url, '/sleep?ms=30000');
      const sentAt = Date.now();
      corral.signal(signal);
      assert.equal(await corral.waitForExit(5000), { code: 0, signal: null });
      assert.ok(Date.now() - sentAt < 3000, `stopped ${Date.now() - sentAt} ms after ${signal}`);
      assert.is(await body.catch(() => 'cut'), 'cut');
      for (const pid of corral.workerPids()) assert.not.ok(isAlive(pid), `worker ${pid} is gone`);
    } finally {
      await corral.stop();
    }
  });
}

test('workers exit by themselves when the arbiter is killed outright', async () => {
  const corral = startCorral(['-w', '2', '-b', '127.0.0.1:0', fixture('app.js')]);
  try {
    await corral.ready();
    const workers = corral.workerPids();
    corral.signal('SIGKILL');
    await corral.waitForExit();
    const deadline = Date.now() + 5000;
    while (workers.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(workers.filter(isAlive), [], 'no orphaned worker');
  } finally {
    await corral.stop();
  }
});

test.run();
