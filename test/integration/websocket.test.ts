// WebSocket upgrades through the real CLI (async kind): the app takes them with
// an `upgrade` method, here ws's handshake; an app without one sees an ordinary
// request; an upgrade handler that fails answers 500 and leaves the worker up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { fixture, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const wsUrl = (url: string, path: string) => url.replace(/^http:/, 'ws:') + path;

/** Opens a WebSocket and resolves with it and its first message; rejects with the status of a refused handshake. */
function connect(url: string) {
  return new Promise<{ socket: WebSocket; first: string }>((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
    socket.once('message', (data) => resolve({ socket, first: String(data) }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    socket.once('error', reject);
  });
}

const nextMessage = (socket: WebSocket) =>
  new Promise<{ data: Buffer; isBinary: boolean }>((resolve) => socket.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));

const refusal = (url: string) => connect(url).then(
  ({ socket }) => {
    socket.terminate();
    throw new Error('the handshake succeeded');
  },
  (error: { status?: number; body?: string }) => error,
);

test('examples/websocket: text and binary echo on many sockets across two workers, HTTP alongside', async () => {
  await withCorral(['-k', 'async', '-w', '2', '-b', '127.0.0.1:0', 'examples/websocket/app.js'], async (corral) => {
    const [url] = await corral.ready();
    const opened = await Promise.all(Array.from({ length: 20 }, () => connect(wsUrl(url, '/chat'))));
    try {
      const workers = new Set(corral.workerPids());
      for (const { first } of opened) {
        const pid = Number(/^hello from (\d+) on \/chat$/.exec(first)?.[1]);
        assert.ok(workers.has(pid), `greeted by a worker: ${first}`);
      }
      const echoes = await Promise.all(opened.map(({ socket }, index) => {
        const reply = nextMessage(socket);
        socket.send(`message ${index}`);
        return reply;
      }));
      echoes.forEach(({ data, isBinary }, index) => {
        assert.not.ok(isBinary);
        assert.is(String(data), `echo: message ${index}`);
      });
      const bytes = Buffer.from([0, 1, 2, 254, 255]);
      const binary = nextMessage(opened[0].socket);
      opened[0].socket.send(bytes);
      const { data, isBinary } = await binary;
      assert.ok(isBinary);
      assert.ok(bytes.equals(data), 'binary frames come back byte for byte');

      const plain = await request(url);
      assert.is(plain.status, 200);
      assert.is(plain.body, 'connect a WebSocket client to /chat\n');
      assert.is((await refusal(wsUrl(url, '/elsewhere'))).status, 404, 'the app refuses upgrades it does not route');
    } finally {
      for (const { socket } of opened) socket.terminate();
    }
  });
});

test('an open WebSocket does not hold a stopping worker past --graceful-timeout', async () => {
  await withCorral(['-b', '127.0.0.1:0', '--graceful-timeout', '1', 'examples/websocket/app.js'], async (corral) => {
    const [url] = await corral.ready();
    const { socket } = await connect(wsUrl(url, '/chat'));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const started = performance.now();
    corral.signal('SIGTERM');
    await closed;
    const exit = await corral.waitForExit();
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `stopped in ${ms.toFixed(0)} ms`);
    assert.equal(exit, { code: 0, signal: null });
  });
});

test('an upgrade handler that throws or rejects: 500, logged, the worker keeps serving', async () => {
  await withCorral(['-b', '127.0.0.1:0', fixture('upgrade-failing-app.js')], async (corral) => {
    const [url] = await corral.ready();
    const [pid] = corral.workerPids();
    assert.is((await refusal(wsUrl(url, '/throw'))).status, 500);
    await corral.waitForLine(/\[ERROR\] Error handling upgrade GET \/throw: Error: upgrade handler exploded/);
    assert.is((await refusal(wsUrl(url, '/reject'))).status, 500);
    await corral.waitForLine(/\[ERROR\] Error handling upgrade GET \/reject: Error: upgrade handler rejected/);
    assert.is((await request(url)).body, `plain answer from ${pid}`);
    assert.equal(corral.workerPids(), [pid], 'no worker was replaced');
  });
});

test('an app without an upgrade handler gets the Upgrade request as an ordinary request', async () => {
  await withCorral(['-b', '127.0.0.1:0', fixture('no-upgrade-app.js')], async (corral) => {
    const [url] = await corral.ready();
    const refused = await refusal(wsUrl(url, '/chat'));
    assert.is(refused.status, 426);
    assert.is(refused.body, 'this app speaks only HTTP (asked for websocket)\n');
  });
});

test.run();
