// The access log through the real CLI: gunicorn's default line, custom atoms,
// stdout, and reopening on USR1 without losing or repeating a line.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, killLeftovers, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-access-log-'));
const app = fixture('app.js');

const readLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : []);

/** Lines show up within the batch delay; waits for `count` of them. */
async function waitForLines(path: string, count: number) {
  await waitUntil(() => readLines(path).length >= count, { what: `${count} line(s) in ${path}` });
  return readLines(path);
}

const DEFAULT_LINE = /^127\.0\.0\.1 - (\S+) \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "([^"]*)" (\d{3}) (\S+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;

test("the default format: gunicorn's line for each request, body bytes counted for chunked responses too", async () => {
  const accessLog = join(tmp, 'default.log');
  await withCorral(['-b', '127.0.0.1:0', '--access-logfile', accessLog, app], async (corral) => {
    const [url] = await corral.ready();
    const hello = await request(url, {
      path: '/hello?lang=en',
      headers: { 'user-agent': 'access-test/1.0', referer: 'http://example.com/start', authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` },
    });
    // Headers flushed first, then the body: a chunked response without Content-Length.
    const chunked = await request(url, { path: '/sleep?ms=0' });
    assert.is(chunked.headers['transfer-encoding'], 'chunked');
    await request(url, { path: '/', method: 'HEAD' });

    const lines = await waitForLines(accessLog, 3);
    assert.is(lines.length, 3);
    const [first, second, third] = lines.map((line) => DEFAULT_LINE.exec(line));
    assert.ok(first && second && third, lines.join('\n'));
    assert.equal(first.slice(1), ['alice', 'GET /hello?lang=en HTTP/1.1', '200', String(Buffer.byteLength(hello.body)), 'http://example.com/start', 'access-test/1.0']);
    assert.equal(second.slice(1), ['-', 'GET /sleep?ms=0 HTTP/1.1', '200', String('slept 0'.length), '-', '-']);
    assert.equal(third.slice(1), ['-', 'HEAD / HTTP/1.1', '200', '-', '-', '-']);
  });
});

test('a custom format: request and response headers, duration, pid', async () => {
  const accessLog = join(tmp, 'custom.log');
  const format = '%(m)s %(U)s %(q)s %(s)s %(B)s [%({x-test}i)s] [%({content-type}o)s] %(D)s %(p)s %(H)s';
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--access-logfile', accessLog, '--access-logformat', format, app], async (corral) => {
    const [url] = await corral.ready();
    await request(url, { path: '/sleep?ms=30', headers: { 'x-test': 'header-value' } });
    await request(url, { path: '/pid' });

    // Two workers write their own batches: the file's order need not be the requests' order.
    const lines = await waitForLines(accessLog, 2);
    assert.is(lines.length, 2);
    const workers = corral.workerPids().map((pid) => `<${pid}>`);
    const slowLine = lines.find((line) => line.includes('/sleep')) ?? '';
    const slow = /^GET \/sleep ms=30 200 8 \[header-value\] \[text\/plain\] (\d+) (<\d+>) HTTP\/1\.1$/.exec(slowLine);
    assert.ok(slow, slowLine);
    assert.ok(Number(slow[1]) >= 25_000, `D is in microseconds: ${slow[1]}`);
    assert.ok(workers.includes(slow[2]), `${slow[2]} is a worker of ${workers}`);
    assert.match(lines.find((line) => line.includes('/pid')) ?? '', /^GET \/pid - 200 \d+ \[-\] \[-\] \d+ <\d+> HTTP\/1\.1$/);
  });
});

test("--access-logfile - writes to stdout", async () => {
  await withCorral(['-b', '127.0.0.1:0', '--access-logfile', '-', '--access-logformat', 'access %(r)s %(s)s', app], async (corral) => {
    const [url] = await corral.ready();
    await request(url, { path: '/to-stdout' });
    await corral.waitForLine(/^access GET \/to-stdout HTTP\/1\.1 200$/);
  });
});

test('no --access-logfile: no access lines anywhere', async () => {
  await withCorral(['-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    await request(url, { path: '/quiet' });
    corral.signal('SIGTERM');
    await corral.waitForExit();
    assert.not.match(corral.output, /\/quiet/);
  });
});

/** Worker pids as the arbiter logged them to the error log file. */
const workersIn = (errorLog: string) => [...readFileSync(errorLog, 'utf8').matchAll(/Booting worker with pid: (\d+)/g)].map((match) => Number(match[1]));

/** With --error-logfile nothing reaches the helper's pipes: ready and the workers are read from the file. */
async function readyFromFile(errorLog: string): Promise<{ url: string; workers: number[] }> {
  await waitUntil(() => existsSync(errorLog) && readFileSync(errorLog, 'utf8').includes('Ready: 2 worker(s) serving'), { timeoutMs: 10_000, what: 'ready in the error log' });
  const text = readFileSync(errorLog, 'utf8');
  return { url: /Listening at: (\S+)/.exec(text)![1], workers: workersIn(errorLog) };
}

test('USR1 reopens the access log: earlier lines in the rotated file, later ones in the new, none lost or repeated', async () => {
  const accessLog = join(tmp, 'rotate-access.log');
  const errorLog = join(tmp, 'rotate-error.log');
  const before = 20;
  const after = 15;
  let workers: number[] = [];
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--access-logfile', accessLog, '--error-logfile', errorLog, app], async (corral) => {
    try {
      const started = await readyFromFile(errorLog);
      workers = started.workers;
      assert.is(workers.length, 2);
      for (let index = 0; index < before; index += 1) assert.is((await request(started.url, { path: `/before/${index}` })).status, 200);

      // What logrotate does: move the files, then tell the arbiter.
      renameSync(accessLog, `${accessLog}.1`);
      renameSync(errorLog, `${errorLog}.1`);
      process.kill(corral.pid, 'SIGUSR1');
      // Each worker logs this line and reopens its files in the same turn of its event loop.
      const reopened = () =>
        [errorLog, `${errorLog}.1`].flatMap((path) => (existsSync(path) ? [...readFileSync(path, 'utf8').matchAll(/\[(\d+)\] \[INFO\] Reopening log files/g)] : [])).map((match) => Number(match[1]));
      await waitUntil(() => workers.every((pid) => reopened().includes(pid)), { timeoutMs: 10_000, what: 'both workers to reopen their logs' });

      for (let index = 0; index < after; index += 1) assert.is((await request(started.url, { path: `/after/${index}` })).status, 200);
      corral.signal('SIGTERM');
      assert.equal(await corral.waitForExit(), { code: 0, signal: null });
    } finally {
      killLeftovers(corral, workers);
    }
  });

  const paths = (lines: string[]) => lines.map((line) => /"GET (\S+) HTTP\/1\.1"/.exec(line)?.[1]);
  const rotated = readLines(`${accessLog}.1`);
  const current = readLines(accessLog);
  assert.equal(paths(rotated).sort(), Array.from({ length: before }, (_, index) => `/before/${index}`).sort());
  assert.equal(paths(current).sort(), Array.from({ length: after }, (_, index) => `/after/${index}`).sort());
  assert.ok(existsSync(errorLog), 'the error log was reopened too');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
