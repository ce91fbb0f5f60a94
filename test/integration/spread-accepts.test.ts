// Workers accepting side by side on one socket share out a client's burst of
// keep-alive connections, rather than leave them all to the worker that was
// running when they came (src/kinds/spread-accepts.ts).
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, withCorral } from '../helpers/corral-process.js';

/** Opens `count` connections at once, then asks on each which worker holds it: the pids, one per connection. */
async function burstOfConnections(url: string, count: number): Promise<number[]> {
  const { hostname, port } = new URL(url);
  const sockets = Array.from({ length: count }, () => net.connect(Number(port), hostname));
  try {
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))));
    return await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<number>((resolve, reject) => {
            let received = '';
            socket.on('data', (chunk) => {
              received += chunk;
              const pid = /\r\n\r\n(\d+)$/.exec(received)?.[1];
              if (pid) resolve(Number(pid));
            });
            socket.once('error', reject);
            socket.once('close', () => reject(new Error(`the connection closed before its answer: ${JSON.stringify(received)}`)));
            socket.setTimeout(10_000, () => reject(new Error('no answer within 10 s')));
            socket.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
          }),
      ),
    );
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

test('-w 4: 48 keep-alive connections opened at once are spread over every worker', async () => {
  await withCorral(['-w', '4', '-b', '127.0.0.1:0', '--no-control-socket', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const pids = await burstOfConnections(url, 48);
    const held = new Map<number, number>(corral.workerPids().map((pid) => [pid, 0]));
    for (const pid of pids) held.set(pid, (held.get(pid) ?? 0) + 1);
    const counts = [...held.values()];
    assert.is(counts.length, 4);
    // 12 each is fair; workers that were not running when they came used to get none or nearly (2/46/0/0).
    // Spread, they get 9 to 15 each here, and 5 or more with two busy loops beside them.
    assert.ok(Math.min(...counts) >= 3, `connections held per worker: ${counts.join(', ')}`);
  });
});

test.run();
