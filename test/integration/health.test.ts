// Health checks and the drain delay, through the real CLI: GET /livez and
// GET /readyz on --health-bind or on the metrics listener, readiness off while
// booting and from the moment TERM arrives, serving on through --drain-delay,
// then the drain as always (keep-alive connections told `Connection: close`).
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { RawConnection } from '../helpers/raw-http.js';

async function healthOrigin(corral: CorralProcess) {
  const { match } = await corral.waitForLine(/Answering health checks at: (http:\/\/\S+)/);
  return match[1];
}

const portOf = (url: string) => Number(new URL(url).port);

test('--health-bind: /livez answers while booting, /readyz only once a worker is ready', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--health-bind', '127.0.0.1:0', fixture('slow-boot-app.js')], async (corral) => {
    const origin = await healthOrigin(corral);
    // The app takes 1.5 s to load: the worker is not ready yet.
    assert.ok(!corral.output.includes('Ready:'), 'the app loaded sooner than the test can ask');
    const live = await request(origin, { path: '/livez' });
    assert.is(live.status, 200);
    const booting = await request(origin, { path: '/readyz' });
    assert.is(booting.status, 503, booting.body);
    assert.match(booting.body, /not ready/);
    await corral.ready();
    const ready = await request(origin, { path: '/readyz' });
    assert.is(ready.status, 200, ready.body);
    assert.match(ready.body, /ready: 1 worker/);
    assert.is((await request(origin, { path: '/readyz', method: 'HEAD' })).status, 200);
    assert.is((await request(origin, { path: '/metrics' })).status, 404, 'metrics are not served on the health listener');
    assert.is((await request(origin, { path: '/readyz', method: 'POST' })).status, 405);
  });
});

test('without --health-bind, the metrics listener answers /livez and /readyz', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const origin = await healthOrigin(corral);
    await corral.ready();
    assert.is((await request(origin, { path: '/livez' })).status, 200);
    assert.is((await request(origin, { path: '/readyz' })).status, 200);
    assert.is((await request(origin, { path: '/metrics' })).status, 200);
  });
});

test('--drain-delay: TERM turns /readyz to 503 at once, serving goes on for the delay (new connections too), then the drain closes keep-alive connections', async () => {
  const corral = startCorral(['-w', '2', '-b', '127.0.0.1:0', '--health-bind', '127.0.0.1:0', '--drain-delay', '1.5', fixture('app.js')]);
  const connections: RawConnection[] = [];
  try {
    const origin = await healthOrigin(corral);
    const [url] = await corral.ready();
    assert.is((await request(origin, { path: '/readyz' })).status, 200);
    const keepAlive = await RawConnection.open(portOf(url));
    connections.push(keepAlive);
    await keepAlive.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.is((await keepAlive.readResponse()).status, 200);

    const termAt = Date.now();
    corral.signal('SIGTERM');
    const { index } = await corral.waitForLine(/Reporting not ready; draining in 1.5 s/);
    const notReady = await request(origin, { path: '/readyz' });
    assert.is(notReady.status, 503, notReady.body);
    assert.match(notReady.body, /delayingDrain/);
    assert.is((await request(origin, { path: '/livez' })).status, 200, 'alive while stopping');

    // Still serving: the open keep-alive connection, without being told to close, and new connections.
    await keepAlive.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const during = await keepAlive.readResponse();
    assert.is(during.status, 200);
    assert.not.ok(/close/i.test(during.headers.connection ?? ''), 'no Connection: close during the delay');
    assert.is((await request(url)).status, 200, 'a new connection is still served during the delay');

    // Pipelined behind a request still running when the drain begins (2.5 s from now, the drain
    // 1.5 s after TERM): answered, with Connection: close.
    await keepAlive.write('GET /sleep?ms=2500 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.is((await keepAlive.readResponse({ deadlineMs: 5000 })).status, 200);
    const drained = await keepAlive.readResponse({ deadlineMs: 5000 });
    assert.is(drained.status, 200);
    assert.is(drained.headers.connection, 'close');
    assert.ok(await keepAlive.waitForClose(3000), 'the connection is closed after its last response');

    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 0, corral.output);
    assert.ok(Date.now() - termAt >= 1500, 'the drain began only after the delay');
    // Readiness went off before the workers were told to drain.
    const drainLine = corral.lines.findIndex((line, at) => at > index && /Worker exiting/.test(line));
    assert.ok(drainLine > index, corral.output);
  } finally {
    connections.forEach((connection) => connection.destroy());
    await corral.stop();
  }
});

test('/readyz is 503 while no worker is ready (WINCH stops them all, the sockets kept) and 200 again once one is', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--health-bind', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const origin = await healthOrigin(corral);
    await corral.ready();
    const [worker] = corral.workerPids();
    corral.signal('SIGWINCH');
    await corral.waitForLine(new RegExp(`Worker \\(pid:${worker}\\) exited`));
    const none = await request(origin, { path: '/readyz' });
    assert.is(none.status, 503, none.body);
    assert.match(none.body, /0 worker\(s\) ready/);
    corral.signal('SIGTTIN');
    await waitUntil(async () => (await request(origin, { path: '/readyz' })).status === 200, { what: 'a new worker to be ready' });
  });
});

test('--drain-delay: a second TERM cuts the delay short', async () => {
  const corral = startCorral(['-w', '1', '-b', '127.0.0.1:0', '--drain-delay', '60', fixture('app.js')]);
  try {
    await corral.ready();
    corral.signal('SIGTERM');
    await corral.waitForLine(/Reporting not ready; draining in 60 s/);
    corral.signal('SIGTERM');
    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 0, corral.output);
  } finally {
    await corral.stop();
  }
});

test('a --health-bind that is not HOST:PORT stops corral with a clear error', async () => {
  const corral = startCorral(['-b', '127.0.0.1:0', '--health-bind', 'nonsense', fixture('app.js')]);
  try {
    const exit = await corral.waitForExit(10_000);
    assert.is.not(exit.code, 0);
    assert.match(corral.output, /--health-bind: 'nonsense' is not valid. Use HOST:PORT/);
  } finally {
    await corral.stop();
  }
});

test('a --health-bind port already in use stops corral at start, naming it', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const { port } = taken.address() as net.AddressInfo;
  const corral = startCorral(['-b', '127.0.0.1:0', '--health-bind', `127.0.0.1:${port}`, fixture('app.js')]);
  try {
    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 1);
    assert.match(corral.output, new RegExp(`Can't serve health checks at 127.0.0.1:${port}: .*EADDRINUSE`));
  } finally {
    await corral.stop();
    taken.close();
  }
});

test.run();
