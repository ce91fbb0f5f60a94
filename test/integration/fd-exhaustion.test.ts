// A worker out of file descriptors sheds connections and stays up: it keeps
// heartbeating, never claims a boot failure, and the arbiter never halts.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const FD_LIMIT = 256;
const IDLE_CONNECTIONS = 1000;
/** corral under a hard descriptor limit, as `ulimit -n` would set it. */
const underFdLimit = (command: string[]): [string, string[]] => ['prlimit', [`--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--', ...command]];

/** Opens `count` idle connections; each settles once connected or refused/closed. */
async function openIdle(url: string, count: number) {
  const { hostname, port } = new URL(url);
  const sockets: net.Socket[] = [];
  let closedByServer = 0;
  let closingAll = false;
  await Promise.all(
    Array.from({ length: count }, () => new Promise<void>((resolve) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      sockets.push(socket);
      socket.on('connect', () => resolve());
      socket.on('error', () => resolve());
      socket.on('close', () => {
        if (!closingAll) closedByServer += 1;
        resolve();
      });
    })),
  );
  return { sockets, closedByServer: () => closedByServer, closeAll: () => {
    closingAll = true;
    sockets.forEach((socket) => socket.destroy());
  } };
}

// The default fits the limit; 10000 (the old default) is held to it, and says so.
for (const [setting, warning] of [[[], undefined], [['--worker-connections', '10000'], /--worker-connections 10000 is more than the file-descriptor limit \(ulimit -n 256\) affords; holding at most 192/]] as const) {
test(`under ulimit -n ${FD_LIMIT}, ${IDLE_CONNECTIONS} idle connections${setting.length ? ` and ${setting.join(' ')}` : ''} are shed with a rate-limited log line; the worker stays up, heartbeats and serves`, async () => {
  await withCorral(['-w', '1', '-t', '2', ...setting, '-b', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const [worker] = corral.workerPids();
    const idle = await openIdle(url, IDLE_CONNECTIONS);
    try {
      const { match } = await corral.waitForLine(/closed (\d+) new connections?: (.*)/, { timeoutMs: 10_000 });
      assert.ok(Number(match[1]) > 0);
      assert.match(match[2], /^\d+ at --worker-connections 192$/);
      if (warning) assert.match(corral.output, warning);
      // Idle connections are held by the client: shed ones are closed by the worker.
      await waitUntil(() => idle.closedByServer() > 0, { timeoutMs: 10_000, what: 'the worker to close connections it cannot afford' });
      // A worker that stopped heartbeating is aborted past --timeout (2 s): hold the load for two timeouts.
      await new Promise((resolve) => setTimeout(resolve, 4000));
    } finally {
      idle.closeAll();
    }
    // Once the idle connections are gone, fresh ones are served by the same worker.
    await waitUntil(async () => (await request(url).catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 10_000, what: 'a fresh request to be answered' });
    assert.equal(corral.workerPids(), [worker], 'the same worker, never replaced');
    assert.not.match(corral.output, /failed to boot|WORKER TIMEOUT|Shutting down: Master|halt/i);
    const shedLines = corral.lines.filter((line) => /closed \d+ new connections?/.test(line));
    const shed = shedLines.reduce((total, line) => total + Number(/closed (\d+)/.exec(line)![1]), 0);
    console.log(`  ${shed} of ${IDLE_CONNECTIONS} connections shed in ${shedLines.length} log lines; ${idle.closedByServer()} closed by the worker as the client saw it`);
    const times = shedLines.map((line) => Date.parse(/^\[([^\]]+)\]/.exec(line)?.[1] ?? ''));
    for (let i = 1; i < times.length; i += 1) assert.ok(times[i] - times[i - 1] >= 900, `at most one shedding line a second:\n${shedLines.join('\n')}`);
    corral.signal('SIGTERM');
    const exit = await corral.waitForExit(15_000);
    assert.is(exit.code, 0, corral.output);
  }, { launcher: underFdLimit });
});
}

for (const kind of ['async', 'sync']) {
test(`an app that takes every descriptor it has left (-k ${kind}): the worker keeps heartbeating (past -t 2), is never called a boot failure, and serves once they are back`, async () => {
  await withCorral(['-k', kind, '-w', '1', '-t', '2', '-b', '127.0.0.1:0', fixture('fd-hog-app.js')], async (corral) => {
    const [url] = await corral.ready();
    const [worker] = corral.workerPids();
    const hog = await request(url, { path: '/hog?ms=5000' });
    assert.match(hog.body, /^holding \d+$/);
    const heldFrom = Date.now();
    // While the descriptors are held, heartbeats go on (memoryUsage.rss() throws EMFILE, the last reading stands in).
    await new Promise((resolve) => setTimeout(resolve, 4000));
    assert.equal(corral.liveWorkerPids(), [worker], 'the worker was neither replaced nor aborted');
    await waitUntil(async () => (await request(url, { timeoutMs: 2000 }).catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 15_000, what: 'a fresh request once the descriptors are back' });
    assert.ok(Date.now() - heldFrom >= 4000);
    assert.equal(corral.workerPids(), [worker], 'the same worker throughout');
    assert.not.match(corral.output, /failed to boot|WORKER TIMEOUT|Shutting down: Master/);
    corral.signal('SIGTERM');
    const exit = await corral.waitForExit(15_000);
    assert.is(exit.code, 0, corral.output);
  }, { launcher: underFdLimit });
});
}

test.run();
