// Serving through the real CLI on every kind of bound address.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, fixture, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-serve-'));

test('serves from two workers on IPv4, IPv6 and a unix socket, logging like gunicorn', async () => {
  const socketPath = join(tmp, 'app.sock');
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-b', '[::1]:0', '-b', `unix:${socketPath}`, 'examples/test.js'], async (corral) => {
    const urls = await corral.ready();
    assert.is(urls.length, 3);
    assert.match(urls[0], /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(urls[1], /^http:\/\/\[::1\]:\d+$/);
    assert.is(urls[2], `unix:${socketPath}`);
    for (const url of urls) {
      const response = await request(url);
      assert.is(response.status, 200, url);
      assert.is(response.body, 'Hello, World!\n');
    }
    const log = corral.output;
    assert.match(log, /\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[INFO\] Starting corral \d+\.\d+\.\d+/);
    assert.match(log, new RegExp(`\\[INFO\\] Listening at: http://127\\.0\\.0\\.1:\\d+ \\(${corral.pid}\\)`));
    assert.match(log, /\[INFO\] Using worker: async/);
    assert.is(corral.workerPids().length, 2);
    corral.signal('SIGTERM');
    assert.equal(await corral.waitForExit(), { code: 0, signal: null });
  });
  assert.not.ok(existsSync(socketPath), 'the unix socket file is removed on exit');
});

test('APP_MODULE module:export resolves relative to the working directory', async () => {
  await withCorral(['--workers=2', '-b', '127.0.0.1:0', 'test:app'], async (corral) => {
    const [url] = await corral.ready();
    assert.is((await request(url)).body, 'Hello, World!\n');
    assert.is(corral.workerPids().length, 2);
  }, { cwd: join(REPO_ROOT, 'examples') });
});

test('WEB_CONCURRENCY sets the default number of workers', async () => {
  await withCorral(['-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
    await corral.ready();
    assert.is(corral.workerPids().length, 3);
  }, { env: { WEB_CONCURRENCY: '3' } });
});

test('a stale unix socket file left by a crash is replaced', async () => {
  const socketPath = join(tmp, 'stale.sock');
  // A listener that dies without cleaning up leaves its socket file behind.
  const { spawn } = await import('node:child_process');
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => holder.stdout!.once('data', resolve));
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('close', resolve));
  assert.ok(existsSync(socketPath));
  await withCorral(['-b', `unix:${socketPath}`, 'examples/test.js'], async (corral) => {
    await corral.ready();
    assert.is((await request(`unix:${socketPath}`)).status, 200);
  });
});

test('a unix socket another server is answering on is refused, not stolen', async () => {
  const socketPath = join(tmp, 'live.sock');
  const live = net.createServer((socket) => socket.end());
  await new Promise<void>((resolve) => live.listen(socketPath, resolve));
  try {
    const corral = startCorral(['-b', `unix:${socketPath}`, 'examples/test.js']);
    try {
      const exit = await corral.waitForExit();
      assert.is(exit.code, 1);
      assert.match(corral.output, /Can't bind unix:.*live\.sock: EADDRINUSE/);
    } finally {
      await corral.stop();
    }
  } finally {
    live.close();
  }
});

test('keep-alive: one connection carries several requests, and is closed after --keep-alive idle seconds', async () => {
  await withCorral(['-b', '127.0.0.1:0', '--keep-alive', '1', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    for (let i = 1; i <= 3; i += 1) {
      socket.write(`GET /pid HTTP/1.1\r\nHost: x\r\n\r\n`);
      await waitUntil(() => (received.match(/HTTP\/1\.1 200/g) ?? []).length === i, { what: `response ${i}` });
    }
    assert.match(received, /keep-alive/i);
    const idleSince = Date.now();
    const closedAt = await closed;
    assert.ok(closedAt - idleSince >= 800, `closed after ${closedAt - idleSince} ms idle`);
    assert.ok(closedAt - idleSince < 3000, `closed after ${closedAt - idleSince} ms idle`);
  });
});

test('an app that also calls listen() itself: a warning with its port, its line and the fix; corral serves it on -b', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('listens-and-exports.cjs')], async (corral) => {
    const [url] = await corral.ready();
    const { match } = await corral.waitForLine(
      /\[WARNING\] Worker \(pid: \d+\): the app listens on \*:(\d+) itself \(listen\(\) called at .*listens-and-exports\.cjs:5:\d+\)\), besides the sockets corral serves it on\. Export the app instead of calling listen\(\)/,
    );
    // The stray server is real: it answers on all interfaces, apart from corral's socket.
    assert.is(await (await fetch(`http://127.0.0.1:${match[1]}/`)).text(), 'served by corral');
    assert.is(await (await fetch(url)).text(), 'served by corral');
  }, { env: { STRAY_PORT: '0' } });
  // A port another has (as the first worker has it, for the next): that failure gets the same fix.
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, resolve));
  const busyPort = (busy.address() as net.AddressInfo).port;
  try {
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', fixture('listens-and-exports.cjs')], async (corral) => {
      await corral.waitForLine(
        new RegExp(`\\[WARNING\\] Worker \\(pid: \\d+\\): the app's own listen\\(\\) on port ${busyPort} failed: EADDRINUSE .*listens-and-exports\\.cjs:5:\\d+\\)\\)\\. Export the app instead of calling listen\\(\\)`),
      );
    }, { env: { STRAY_PORT: String(busyPort) } });
  } finally {
    busy.close();
  }
  // corral's own listening on its inherited sockets is no stray.
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
    await corral.ready();
    assert.not.match(corral.output, /the app listens on/);
  });
});

test('an app that throws answers 500, is logged, and the worker keeps serving', async () => {
  await withCorral(['-b', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const before = (await request(url, { path: '/pid' })).body;
    const failed = await request(url, { path: '/throw' });
    assert.is(failed.status, 500);
    await corral.waitForLine(/\[ERROR\] Error handling request GET \/throw: Error: handler exploded/);
    assert.is((await request(url, { path: '/pid' })).body, before, 'the same worker is still serving');
  });
});

test('async kind: pipelined requests in one packet are all answered, in order, on the same connection', async () => {
  await withCorral(['-b', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    socket.write(['/sleep?ms=50', '/env?name=HOME', '/pid'].map((path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    await waitUntil(() => (received.match(/HTTP\/1\.1 200/g) ?? []).length === 3, { what: 'three responses' });
    socket.destroy();
    const sleptAt = received.indexOf('slept 50');
    const pidAt = received.lastIndexOf('\r\n\r\n');
    assert.ok(sleptAt > 0 && sleptAt < pidAt, 'the slow first response comes first');
  });
});

test('--worker-connections caps what one async worker holds open, and says so', async () => {
  await withCorral(['-b', '127.0.0.1:0', '--worker-connections', '2', fixture('app.js')], async (corral) => {
    const [url] = await corral.ready();
    const { hostname, port } = new URL(url);
    const open = await Promise.all(
      [1, 2].map(() => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(Number(port), hostname, () => resolve(socket));
      })),
    );
    // Both held connections are served; a third is closed by the worker at once.
    const answers = open.map((socket) => new Promise<string>((resolve) => {
      socket.once('data', (chunk) => resolve(chunk.toString('latin1')));
      socket.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
    }));
    for (const answer of await Promise.all(answers)) assert.match(answer, /^HTTP\/1\.1 200 /);
    const third = net.connect(Number(port), hostname);
    const thirdClosed = new Promise((resolve) => third.on('close', resolve));
    third.on('error', () => {});
    await thirdClosed;
    await corral.waitForLine(/\[WARNING\] Worker \(pid: \d+\) closed 1 new connection: 1 at --worker-connections 2/);
    open.forEach((socket) => socket.destroy());
    // The worker counts a connection as gone when it sees the close, a moment after the client's.
    await waitUntil(async () => (await request(url).catch(() => null))?.status === 200, { what: 'a request served once connections are freed' });
  });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
