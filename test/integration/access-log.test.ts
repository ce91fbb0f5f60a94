// The access log through the real CLI: gunicorn's default line, custom atoms,
// stdout, and reopening on USR1 without losing or repeating a line.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

// Apps answering with the request id they were handed, node-style and fetch-style.
const idNodeApp = join(tmp, 'id-node-app.mjs');
writeFileSync(idNodeApp, "export default (req, res) => res.end(String(req.headers['x-request-id']));\n");
const idFetchApp = join(tmp, 'id-fetch-app.mjs');
writeFileSync(idFetchApp, "export default (request) => new Response(String(request.headers.get('x-request-id')));\n");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface JsonAccessLine {
  time: string; remote_addr: string; user: string | null; request: string; method: string; path: string; query: string | null;
  protocol: string; status: number; bytes: number; referer: string | null; user_agent: string | null;
  duration_us: number; duration_s: number; pid: number; request_id: string;
}

test('--access-logformat json: one JSON object per request, every atom a typed field; X-Request-Id passed through, or made and sent back', async () => {
  const accessLog = join(tmp, 'json.log');
  await withCorral(['-b', '127.0.0.1:0', '--access-logfile', accessLog, '--access-logformat', 'json', idNodeApp], async (corral) => {
    const [url] = await corral.ready();
    const passed = await request(url, {
      path: '/orders?page=2',
      headers: { 'x-request-id': 'edge-7f3a.91', 'user-agent': 'json-test/1.0', referer: 'http://example.com/"quoted"', authorization: `Basic ${Buffer.from('ada:pw').toString('base64')}` },
    });
    assert.is(passed.body, 'edge-7f3a.91', 'the app sees the id the client sent');
    assert.is(passed.headers['x-request-id'], 'edge-7f3a.91', 'and the client gets it back');
    const made = await request(url, { path: '/made' });
    assert.match(made.body, UUID);
    assert.is(made.headers['x-request-id'], made.body, 'a made id: the app and the client see the same');
    // An id that could forge a log line or a header is not used: a new one is made, and the app sees only that.
    const refused = await request(url, { path: '/refused', headers: { 'x-request-id': 'two words' } });
    assert.match(refused.body, UUID);
    assert.is(refused.headers['x-request-id'], refused.body);

    const lines = (await waitForLines(accessLog, 3)).map((line) => JSON.parse(line) as JsonAccessLine);
    const worker = corral.workerPids()[0];
    const [first, second, third] = lines;
    assert.equal({ ...first, time: undefined, duration_us: undefined, duration_s: undefined }, {
      time: undefined, remote_addr: '127.0.0.1', user: 'ada', request: 'GET /orders?page=2 HTTP/1.1', method: 'GET', path: '/orders', query: 'page=2',
      protocol: 'HTTP/1.1', status: 200, bytes: 'edge-7f3a.91'.length, referer: 'http://example.com/"quoted"', user_agent: 'json-test/1.0',
      duration_us: undefined, duration_s: undefined, pid: worker, request_id: 'edge-7f3a.91',
    });
    assert.ok(Math.abs(Date.parse(first.time) - Date.now()) < 60_000, first.time);
    assert.ok(Number.isInteger(first.duration_us) && first.duration_s === first.duration_us / 1e6, JSON.stringify(first));
    assert.equal([second.path, second.query, second.user, second.referer, second.request_id], ['/made', null, null, null, made.body]);
    assert.equal([third.path, third.request_id], ['/refused', refused.body]);
  });
});

test('%(request_id)s in a text format; fetch-style apps on the thread kind see the id too', async () => {
  const accessLog = join(tmp, 'request-id.log');
  await withCorral(['-k', 'thread', '-b', '127.0.0.1:0', '--access-logfile', accessLog, '--access-logformat', '%(U)s %(request_id)s', idFetchApp], async (corral) => {
    const [url] = await corral.ready();
    const passed = await request(url, { path: '/passed', headers: { 'x-request-id': 'proxy-1234' } });
    assert.equal([passed.body, passed.headers['x-request-id']], ['proxy-1234', 'proxy-1234']);
    const made = await request(url, { path: '/made' });
    assert.match(made.body, UUID);
    assert.is(made.headers['x-request-id'], made.body);
    assert.equal((await waitForLines(accessLog, 2)).sort(), [`/made ${made.body}`, '/passed proxy-1234']);
  });
});

test('no request-id atom in the format: no X-Request-Id is made', async () => {
  const accessLog = join(tmp, 'no-id.log');
  await withCorral(['-b', '127.0.0.1:0', '--access-logfile', accessLog, idNodeApp], async (corral) => {
    const [url] = await corral.ready();
    const response = await request(url);
    assert.equal([response.body, response.headers['x-request-id']], ['undefined', undefined]);
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
