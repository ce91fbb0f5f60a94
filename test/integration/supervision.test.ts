// The arbiter keeps the pool whole: killed, hung and protocol-breaking workers are replaced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request, startRequest } from '../helpers/http.js';

test('kill -9 of a worker: a new worker within 2 s, and requests keep succeeding', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const [victim] = corral.workerPids();
    const bootedBefore = corral.lines.length;
    let killedAt = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      if (i === 20) {
        process.kill(victim, 'SIGKILL');
        killedAt = Date.now();
      }
      statuses.push((await request(url)).status);
    }
    const { match } = await corral.waitForLine(/Booting worker with pid: (\d+)/, { from: bootedBefore, timeoutMs: 2000 });
    assert.ok(Date.now() - killedAt < 2000 || Number(match[1]) > 0);
    await corral.waitForLine(new RegExp(`Worker \\(pid:${victim}\\) was sent SIGKILL! Perhaps out of memory\\?`));
    assert.equal(statuses.filter((status) => status !== 200), [], 'every request succeeded');
    await waitUntil(() => corral.liveWorkerPids().length === 2, { what: 'two live workers again' });
  });
});

test('a handler that blocks the event loop past --timeout is aborted, killed and replaced; others are served', async () => {
  await withCorral(['-w', '2', '-t', '2', '-b', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    // Once its headers are back, that worker's loop is blocked and accepts nothing more.
    const { body } = await startRequest(url, '/block?ms=20000');
    const blocked = body.then(
      () => 'answered',
      () => 'cut',
    );
    // While one worker is stuck, the other answers.
    for (let i = 0; i < 20; i += 1) assert.is((await request(url)).status, 200);
    const { match } = await corral.waitForLine(/\[CRITICAL\] WORKER TIMEOUT \(pid:(\d+)\)/, { timeoutMs: 6000 });
    const hung = Number(match[1]);
    assert.ok(corral.workerPids().includes(hung));
    await waitUntil(() => !isAlive(hung), { timeoutMs: 3000, what: `hung worker ${hung} to be gone` });
    assert.is(await blocked, 'cut');
    await waitUntil(() => corral.liveWorkerPids().length === 2, { what: 'a replacement worker' });
    assert.is(corral.workerPids().length, 3);
    assert.is((await request(url)).status, 200);
  });
});

for (const [route, code] of [
  ['/garbage', 'CORRAL_ERR_IPC_BAD_FRAME'],
  ['/oversize', 'CORRAL_ERR_IPC_FRAME_TOO_LARGE'],
] as const) {
  test(`a worker writing ${route.slice(1)} into its IPC pipe is logged by pid and replaced; the arbiter keeps serving`, async () => {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', fixture('app.js')], async (corral) => {
      const [url] = await corral.ready();
      const faulty = await request(url, { path: route });
      assert.is(faulty.status, 200);
      const pid = Number(faulty.body);
      await corral.waitForLine(new RegExp(`\\[ERROR\\] Worker \\(pid:${pid}\\) broke the IPC protocol: .*\\[${code}\\]. Replacing it.`));
      await waitUntil(() => !isAlive(pid), { what: `worker ${pid} to exit` });
      await waitUntil(() => corral.liveWorkerPids().length === 2, { what: 'a replacement worker' });
      for (let i = 0; i < 10; i += 1) assert.is((await request(url)).status, 200);
      assert.ok(isAlive(corral.pid));
    });
  });
}

test('workers that die right after boot are restarted with a growing back-off, not in a tight loop', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('crash-after-boot.js')], async (corral) => {
    await corral.waitForLine(/Uncaught exception in worker .*lost the database connection/);
    const second = await corral.waitForLine(/\[ERROR\] Workers keep dying right after booting \(2 in a row\); next start in 1 s/, { timeoutMs: 10_000 });
    const third = await corral.waitForLine(/\[ERROR\] Workers keep dying right after booting \(3 in a row\); next start in 2 s/, { timeoutMs: 10_000 });
    const boots = (from: number, to: number) => corral.lines.slice(from, to).filter((line) => line.includes('Booting worker')).length;
    assert.is(boots(second.index, third.index), 1, 'one start per back-off period');
    assert.ok(isAlive(corral.pid), 'the arbiter stays up');
    corral.signal('SIGTERM');
    assert.is((await corral.waitForExit()).code, 0);
  });
});

test('SIGABRT to a worker whose loop turns: it says why, exits 1 through its chart, and is replaced', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const [worker] = corral.workerPids();
    const from = corral.lines.length;
    process.kill(worker, 'SIGABRT');
    await corral.waitForLine(new RegExp(`\\[CRITICAL\\] Worker aborted \\(pid: ${worker}\\): no heartbeat within the timeout`), { from });
    await corral.waitForLine(new RegExp(`Worker \\(pid:${worker}\\) exited with code 1`), { from });
    await waitUntil(() => !isAlive(worker) && corral.liveWorkerPids().length === 1, { what: 'a replacement' });
    assert.is((await request(url)).status, 200);
  });
});

test.run();
