// No process outlives the one that should end it: a worker whose arbiter died
// leaves even with its event loop blocked, and what an app started leaves with its worker.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

/** Alive and not a zombie: a dead process stays in the table until whoever adopted it reaps it, which PID 1 may do late. */
function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return !/^\S+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const appChildren = (corral: CorralProcess) => corral.lines.flatMap((line) => /app child pid: (\d+)/.exec(line)?.[1] ?? []).map(Number);

/** Runs `body`; then ends every worker and app child the test saw, whatever happened (an orphaned worker would hold corral's output open). */
async function reapingAppChildren(corral: CorralProcess, body: () => Promise<void>) {
  try {
    await body();
  } finally {
    for (const pid of [...corral.workerPids(), ...appChildren(corral)]) {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
}

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });

for (const blocked of [true, false]) {
  test(`kill -9 of the arbiter${blocked ? ' while its worker is blocked in an endless loop' : ''}: the worker and its app child are gone within 3 s, and the port is free`, async () => {
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('orphan-app.js')], async (corral) => {
      await reapingAppChildren(corral, async () => {
        const [url] = await corral.ready();
        const [worker] = corral.workerPids();
        await corral.waitForLine(/app child pid: \d+/);
        const [helper] = appChildren(corral);
        assert.ok(isRunning(helper));
        if (blocked) assert.is((await request(url, { path: '/block' })).body, 'blocking');
        const killedAt = Date.now();
        process.kill(corral.pid, 'SIGKILL');
        await waitUntil(() => !isRunning(worker) && !isRunning(helper), { timeoutMs: 3000, what: `worker ${worker} and app child ${helper} to be gone` });
        console.log(`  ${blocked ? 'blocked' : 'idle'} worker and its app child gone ${Date.now() - killedAt} ms after the arbiter's death`);
        await waitUntil(() => canBind(Number(new URL(url).port)), { timeoutMs: 2000, what: 'the port to be free again' });
      });
    });
  });
}

test("kill -9 of a worker: its app's child is ended with it, and the arbiter boots a replacement", async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('orphan-app.js')], async (corral) => {
    await reapingAppChildren(corral, async () => {
      const [url] = await corral.ready();
      const [worker] = corral.workerPids();
      const { index } = await corral.waitForLine(/app child pid: \d+/);
      const [helper] = appChildren(corral);
      process.kill(worker, 'SIGKILL');
      await waitUntil(() => !isRunning(helper), { timeoutMs: 3000, what: `app child ${helper} to be gone with its worker` });
      await corral.waitForLine(/app child pid: \d+/, { from: index + 1, timeoutMs: 10_000 });
      assert.is((await request(url)).status, 200);
      const replacement = corral.workerPids().at(-1)!;
      assert.is.not(replacement, worker);
      // And on a plain TERM, the replacement's child goes with it too.
      const [, second] = appChildren(corral);
      corral.signal('SIGTERM');
      await corral.waitForExit(15_000);
      await waitUntil(() => !isRunning(second), { timeoutMs: 3000, what: `app child ${second} to be gone after TERM` });
    });
  });
});

test('a worker whose chart is dead leaves though its app left handles open and its workerExit hook never returns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-exit-'));
  try {
    const config = join(dir, 'corral.config.mjs');
    writeFileSync(config, 'export default { workerExit: () => new Promise(() => {}) };\n');
    // A graceful timeout well past the test's deadline: the worker must leave by itself, not be killed by the arbiter.
    await withCorral(['-w', '1', '--graceful-timeout', '60', '-c', config, '-b', '127.0.0.1:0', fixture('open-handles-app.js')], async (corral) => {
      const [url] = await corral.ready();
      assert.is((await request(url)).status, 200);
      const [worker] = corral.workerPids();
      const stoppedAt = Date.now();
      corral.signal('SIGTERM');
      const exit = await corral.waitForExit(20_000);
      assert.is(exit.code, 0, corral.output);
      assert.not.ok(isRunning(worker));
      console.log(`  worker left ${Date.now() - stoppedAt} ms after TERM`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
