// Connections of sync workers are never lost: not when the worker one was
// handed to dies or is recycled, not when the server stops, not when a client
// connects and says nothing, not after a reload.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeCertificates } from '../helpers/certificates.js';
import { fixture, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { RawConnection } from '../helpers/raw-http.js';

const app = fixture('sync-app.js');
const echoApp = fixture('echo-app.js');

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** What became of one request: its status, or how the connection failed. */
type Outcome = { status: number; body: string } | { error: string };

/** One GET on a fresh connection (no keep-alive), with a deadline so a hung request is counted, not waited for. */
function fetchOnce(url: string, path: string, timeoutMs: number): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const req = http.get({ host: hostname, port: Number(port), path, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', (error) => resolve({ error: error.message }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`hung: no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ error: error.message }));
  });
}

/** `total` requests from `clients` loops, each on a new connection. */
async function boundedLoad(url: string, { clients, total, timeoutMs }: { clients: number; total: number; timeoutMs: number }) {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        next += 1;
        outcomes.push(await fetchOnce(url, `/n${next}`, timeoutMs));
      }
    }),
  );
  return outcomes;
}

test('--max-requests recycling under load: every request is answered, and the arbiter keeps no socket it handed over', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '--max-requests', '20', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    assert.is((await request(url)).status, 200);
    const fdsBefore = openFds(corral.pid);
    const outcomes = await boundedLoad(url, { clients: 8, total: 2000, timeoutMs: 8000 });
    const failed = outcomes.filter((outcome) => !('status' in outcome) || outcome.status !== 200);
    assert.equal(failed.slice(0, 5), [], `${failed.length} of ${outcomes.length} requests failed or hung`);
    assert.is(outcomes.length, 2000);
    assert.ok(corral.workerPids().length >= 4, `workers were recycled (${corral.workerPids().length} booted)`);
    // Two workers again, each with its pipes: as many fds as before the load (a worker being replaced may add a few for a moment).
    await waitUntil(() => corral.liveWorkerPids().length === 2 && openFds(corral.pid) <= fdsBefore + 2, {
      timeoutMs: 10_000,
      what: `the arbiter's fds to return to ${fdsBefore} (now ${openFds(corral.pid)})`,
    });
  });
});

test('connections waiting at the arbiter go only to a worker that offers itself: a frozen worker holds none, and dies without losing one', async () => {
  // The arbiter hands over what comes on the listeners after the first (idle workers accept on the first themselves).
  await withCorral(['-k', 'sync', '-w', '2', '-b', '127.0.0.1:0', '-b', '127.0.0.1:0', app], async (corral) => {
    const [first, second] = await corral.ready();
    const [frozen] = corral.workerPids();
    // Frozen while idle: it listens on the first socket and is told when connections wait, but answers neither.
    process.kill(frozen, 'SIGSTOP');
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => fetchOnce(i % 2 === 0 ? second : first, `/r${i}`, 10_000)),
      );
      for (const outcome of outcomes) {
        assert.equal('status' in outcome && outcome.status, 200, JSON.stringify(outcome));
        assert.not.match('body' in outcome ? outcome.body : '', ` from ${frozen}`);
      }
      process.kill(frozen, 'SIGKILL');
      await waitUntil(() => corral.liveWorkerPids().length === 2 && !corral.liveWorkerPids().includes(frozen), { timeoutMs: 10_000, what: 'the frozen worker replaced' });
      for (const url of [first, second]) {
        const outcome = await fetchOnce(url, '/after', 10_000);
        assert.equal('status' in outcome && outcome.status, 200, JSON.stringify(outcome));
      }
    } finally {
      if (isAlive(frozen)) process.kill(frozen, 'SIGKILL');
    }
  });
});

test('a flood of connections that never speak holds no sync worker: the short wait for a first byte is bounded to a share of its time', async () => {
  // A listening queue long enough for all of them (node's default of 511 would leave some, and the request, to the
  // client's SYN retry a second later).
  await withCorral(['-k', 'sync', '-w', '1', '--backlog', '4096', '--header-timeout', '10', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const { hostname, port } = new URL(url);
    const silent: net.Socket[] = [];
    try {
      // All queued on the listening socket before the real request: the one worker takes them first, in order.
      await Promise.all(
        Array.from({ length: 2000 }, () =>
          new Promise<void>((resolve, reject) => {
            const socket = net.connect(Number(port), hostname);
            silent.push(socket);
            socket.on('error', () => {});
            socket.once('connect', () => resolve());
            socket.once('error', reject);
          }),
        ),
      );
      const started = Date.now();
      const answer = await request(url, { path: '/real', timeoutMs: 20_000 });
      const tookMs = Date.now() - started;
      assert.is(answer.status, 200);
      // Were each to wait out its whole grace (2 ms, and never under 1 ms), the 2000 before it would take 2 s or more.
      assert.ok(tookMs < 1000, `answered after ${tookMs} ms, behind 2000 silent connections`);
    } finally {
      for (const socket of silent) socket.destroy();
    }
  });
});

test('idle connections cost no sync worker: a request is answered at once, and the arbiter closes the silent ones after --header-timeout', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '--header-timeout', '3', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const { hostname, port } = new URL(url);
    const openedAt = Date.now();
    const silent = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<{ closed: Promise<{ afterMs: number; received: string }> }>((resolve, reject) => {
          const socket = net.connect(Number(port), hostname);
          let received = '';
          socket.on('data', (chunk) => (received += chunk));
          const closed = new Promise<{ afterMs: number; received: string }>((done) =>
            socket.on('close', () => done({ afterMs: Date.now() - openedAt, received })),
          );
          socket.on('error', () => {});
          socket.once('connect', () => resolve({ closed }));
          socket.once('error', reject);
          setTimeout(() => socket.destroy(), 15_000).unref();
        }),
      ),
    );
    const started = Date.now();
    const answer = await request(url, { path: '/real', timeoutMs: 10_000 });
    const tookMs = Date.now() - started;
    assert.is(answer.status, 200);
    assert.ok(tookMs < 1500, `answered in ${tookMs} ms, with --header-timeout 3 s`);
    for (const { closed } of silent) {
      const { afterMs, received } = await closed;
      assert.is(received, '', 'a connection that sent nothing gets nothing back');
      assert.ok(afterMs >= 2500 && afterMs < 10_000, `closed after ${afterMs} ms (--header-timeout 3 s)`);
    }
    assert.not.match(corral.output, /did not arrive within --header-timeout| 408 /, "no 408 log line for a connection that sent nothing");
  });
});

test('HUP and TTOU under load on -k sync: draining workers take no new connection, and every request is answered', async () => {
  await withCorral(['-k', 'sync', '-w', '3', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const load = boundedLoad(url, { clients: 8, total: 3000, timeoutMs: 8000 });
    for (let round = 1; round <= 3; round += 1) {
      const from = corral.lines.length;
      corral.signal('SIGHUP');
      await corral.waitForLine(/Reload complete: generation \d+ serving/, { from, timeoutMs: 20_000 });
    }
    corral.signal('SIGTTOU');
    const outcomes = await load;
    const failed = outcomes.filter((outcome) => !('status' in outcome) || outcome.status !== 200);
    assert.equal(failed.slice(0, 5), [], `${failed.length} of ${outcomes.length} requests failed or hung`);
  });
});

test('TERM: connections still queued in the arbiter are answered 503 at once; those being served finish', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '--graceful-timeout', '10', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const busy = [fetchOnce(url, '/block?ms=3000', 15_000), fetchOnce(url, '/block?ms=3000', 15_000)];
    await corral.waitForLine(/handling \/block\?ms=3000/);
    await waitUntil(() => corral.lines.filter((line) => /handling \/block\?ms=3000/.test(line)).length === 2, { what: 'both workers busy' });
    const queued = Array.from({ length: 3 }, (_, i) => {
      const started = Date.now();
      return fetchOnce(url, `/queued-${i}`, 15_000).then((outcome) => ({ outcome, afterMs: Date.now() - started }));
    });
    // Give the three time to reach the arbiter's queue (their requests are sent at once).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    corral.signal('SIGTERM');
    for (const { outcome } of await Promise.all(queued)) {
      assert.equal('status' in outcome && outcome.status, 503, JSON.stringify(outcome));
    }
    assert.ok(Date.now() - signalledAt < 2000, 'the queued connections were answered before the busy ones finished');
    for (const outcome of await Promise.all(busy)) assert.equal('status' in outcome && outcome.status, 200, JSON.stringify(outcome));
    assert.equal(await corral.waitForExit(), { code: 0, signal: null });
  });
});

test('a request whose head and body arrive in pieces is served whole: the arbiter reads only the first piece, the worker the rest', async () => {
  await withCorral(['-k', 'sync', '-w', '2', '-b', '127.0.0.1:0', echoApp], async (corral) => {
    const [url] = await corral.ready();
    const conn = await RawConnection.open(Number(new URL(url).port));
    try {
      // Pauses between the pieces, so each reaches the server on its own.
      for (const piece of ['POST /pieces HTTP/1.1\r\nHo', 'st: x\r\nContent-Length: 11\r\n\r\n', 'hello', ' world']) {
        await conn.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      const response = await conn.readResponse({ deadlineMs: 5000 });
      assert.is(response.status, 200);
      const seen = JSON.parse(response.text) as { url: string; body: string };
      assert.is(seen.url, '/pieces');
      assert.is(seen.body, 'hello world');
    } finally {
      conn.destroy();
    }
  });
});

test('HTTPS on the sync kind: the TLS bytes the arbiter read reach the worker\'s TLS layer', async () => {
  const certs = makeCertificates();
  try {
    await withCorral(['-k', 'sync', '-w', '2', '--certfile', certs.server.certFile, '--keyfile', certs.server.keyFile, '-b', '127.0.0.1:0', echoApp], async (corral) => {
      const [url] = await corral.ready();
      const { port } = new URL(url);
      for (let i = 0; i < 3; i += 1) {
        const body = await new Promise<string>((resolve, reject) => {
          const req = https.request({ host: '127.0.0.1', port: Number(port), path: `/tls-${i}`, method: 'POST', ca: certs.ca.cert, servername: 'localhost', agent: false, timeout: 5000 }, (res) => {
            let text = '';
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve(text));
          });
          req.on('timeout', () => req.destroy(new Error('no answer over TLS within 5 s')));
          req.on('error', reject);
          req.end('over tls');
        });
        const seen = JSON.parse(body) as { url: string; body: string; encrypted: boolean };
        assert.equal([seen.url, seen.body, seen.encrypted], [`/tls-${i}`, 'over tls', true]);
      }
    });
  } finally {
    certs.remove();
  }
});

for (const [from, to] of [['async', 'sync'], ['sync', 'async']]) {
  test(`HUP that changes the worker class from ${from} to ${to}: refused with a reason, the current workers keep serving`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-kind-reload-'));
    const config = join(dir, 'corral.config.json');
    try {
      writeFileSync(config, JSON.stringify({ workerClass: from, workers: 2 }));
      await withCorral(['-c', config, '-b', '127.0.0.1:0', app], async (corral) => {
        const [url] = await corral.ready();
        writeFileSync(config, JSON.stringify({ workerClass: to, workers: 2 }));
        corral.signal('SIGHUP');
        await corral.waitForLine(/Reload failed, keeping the current workers: .*changing the worker class from \w+ to \w+ changes how connections reach workers; restart corral to apply it/);
        assert.not.match(corral.output, /Reload complete/);
        for (let i = 0; i < 3; i += 1) assert.is((await request(url, { timeoutMs: 3000 })).status, 200);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
