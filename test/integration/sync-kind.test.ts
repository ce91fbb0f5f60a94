// The sync kind: one request at a time, Connection: close, and a busy worker is never handed a connection.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const app = fixture('sync-app.js');

test('2 sync workers: B, sent while A blocks its worker, is answered before A', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    assert.match(corral.output, /Using worker: sync/);
    const order: string[] = [];
    const a = request(url, { path: '/block?ms=2000' }).then((response) => (order.push('A'), response));
    await corral.waitForLine(/handling \/block\?ms=2000 in (\d+)/);
    const b = await request(url, { path: '/quick' });
    order.push('B');
    const answeredA = await a;
    assert.equal(order, ['B', 'A']);
    assert.is(b.status, 200);
    assert.is(b.headers.connection, 'close');
    assert.not.equal(b.body.split(' from ')[1], answeredA.body.split(' from ')[1], 'served by the other worker');
  });
});

test('while one worker blocks, every other request goes to the free worker, none waits behind the busy one', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    let blockDone = false;
    const a = request(url, { path: '/block?ms=1500' }).then((response) => ((blockDone = true), response));
    const { match } = await corral.waitForLine(/handling \/block\?ms=1500 in (\d+)/);
    const busy = match[1];
    // Fire several at once: with accept shared, the busy worker's next loop turn could have grabbed some.
    const quick = await Promise.all(Array.from({ length: 8 }, (_, i) => request(url, { path: `/quick-${i}` })));
    assert.not.ok(blockDone, 'all quick requests were answered while A was still blocking');
    for (const response of quick) assert.not.equal(response.body.split(' from ')[1], busy);
    assert.is((await a).status, 200);
  });
});

test('a worker whose request waits (its event loop free) takes no other connection meanwhile: each goes to the idle worker', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    let waitDone = false;
    const a = request(url, { path: '/wait?ms=1500' }).then((response) => ((waitDone = true), response));
    const { match } = await corral.waitForLine(/handling \/wait\?ms=1500 in (\d+)/);
    const busy = match[1];
    const quick = await Promise.all(Array.from({ length: 8 }, (_, i) => request(url, { path: `/quick-${i}` })));
    assert.not.ok(waitDone, 'all quick requests were answered while A was still waiting');
    for (const response of quick) assert.not.equal(response.body.split(' from ')[1], busy, 'one request at a time per worker');
    assert.is((await a).status, 200);
  });
});

test('a burst of connections, answered at once, after a promise, or after a wait: no worker ever serves two at a time', async () => {
  // All opened together, so they wait on the listening socket side by side: a worker that answered one at once
  // takes the next in the same turn, and one whose answer is still to come must have stopped accepting by then.
  await withCorral(['-k', 'sync', '-w', '2', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const paths = Array.from({ length: 48 }, (_, i) => (i % 8 === 3 ? '/wait?ms=150' : i % 8 === 6 ? '/wait?ms=0' : i % 2 ? '/soon' : `/quick-${i}`));
    for (let round = 0; round < 3; round += 1) {
      const responses = await Promise.all(paths.map((path) => request(url, { path })));
      for (const [i, response] of responses.entries()) {
        assert.is(response.status, 200, paths[i]);
        assert.is(response.headers['x-in-flight'], '1', `${paths[i]} was served beside another request`);
      }
    }
  });
});

test('a pipelined second request is not served on a sync connection; the connection closes cleanly', async () => {
  await withCorral(['-k', 'sync', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    assert.is(received.match(/HTTP\/1\.1 200/g)?.length, 1);
    assert.match(received, /connection: close/i);
    assert.match(received, /\/first from/);
    assert.not.match(received, /\/second/);
  });
});

test('sync workers drain on TERM (in-flight request completes) and are replaced when killed', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const [victim] = corral.workerPids();
    process.kill(victim, 'SIGKILL');
    await waitUntil(() => !isAlive(victim) && corral.liveWorkerPids().length === 2, { what: 'a replacement' });
    for (let i = 0; i < 10; i += 1) assert.is((await request(url)).status, 200, 'the dead worker\'s idle slot is not used');
    const inFlight = request(url, { path: '/block?ms=800' });
    await corral.waitForLine(/handling \/block\?ms=800/);
    corral.signal('SIGTERM');
    assert.is((await inFlight).status, 200);
    assert.equal(await corral.waitForExit(), { code: 0, signal: null });
  });
});

test.run();
