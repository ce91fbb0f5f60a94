// The limits that keep long-lived fleets healthy, through the real CLI:
// --max-memory replaces a worker whose RSS passed it the way --max-requests
// does (the replacement ready first, no failed request), logged and counted;
// --request-timeout (async kind) answers 503 or closes the connection, logs
// and counts it, and the worker serves on; a graceful timeout that cuts
// requests names each of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { RawConnection } from '../helpers/raw-http.js';

const app = fixture('limits-app.js');
const portOf = (url: string) => Number(new URL(url).port);

async function scrape(corral: { waitForLine: (pattern: RegExp) => Promise<{ match: RegExpExecArray }> }) {
  const { match } = await corral.waitForLine(/Serving metrics at: (http:\/\/\S+)\/metrics/);
  return (await request(match[1], { path: '/metrics' })).body;
}

test('--max-memory: a worker past the limit is replaced, the new one ready first, with no failed request; logged and counted', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--max-memory', '120M', '-t', '4', '--metrics-bind', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const [first] = corral.workerPids();
    const load = startLoad(url, { clients: 4, path: '/' });
    try {
      // Each /leak keeps 4 MB: the worker passes 120 MB after some 15 of them.
      for (let i = 0; i < 40 && !/Replacing worker-1: it uses \d+ MB of memory, over --max-memory 120 MB/.test(corral.output); i += 1) {
        assert.is((await request(url, { path: '/leak' })).status, 200);
        if (i > 15) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await corral.waitForLine(/Replacing worker-1: it uses \d+ MB of memory, over --max-memory 120 MB/);
      await corral.waitForLine(new RegExp(`Worker \\(pid:${first}\\) exited`));
      await waitUntil(async () => (await request(url)).body !== String(first), { what: 'the replacement to serve' });
    } finally {
      const result = await load.stop();
      assert.equal(result.failures, [], `failed requests: ${result.failures.slice(0, 5).join(', ')}`);
      assert.ok(result.ok > 50, `${result.ok} requests served under load`);
    }
    // The replacement booted before the old worker left.
    const replacementBooted = corral.lines.findIndex((line) => /Booting worker with pid/.test(line) && !line.includes(`pid: ${first}`));
    const oldExited = corral.lines.findIndex((line) => line.includes(`Worker (pid:${first}) exited`));
    assert.ok(replacementBooted > 0 && oldExited > replacementBooted, corral.output);
    const metrics = await scrape(corral);
    assert.match(metrics, /corral_worker_recycles_total\{limit="max_memory"\} 1/);
    assert.match(metrics, /corral_worker_recycles_total\{limit="max_requests"\} 0/);
  });
});

test('--max-memory that is not a size is refused with what to write', async () => {
  const corral = startCorral(['-b', '127.0.0.1:0', '--max-memory', 'lots', app]);
  try {
    const exit = await corral.waitForExit();
    assert.is(exit.code, 2);
    assert.match(corral.output, /--max-memory.*'lots' is not a size \(bytes, or a number with K, M or G: 512M\)/);
  } finally {
    await corral.stop();
  }
});

test('--request-timeout: nothing sent yet → 503; response begun → connection closed; each logged with method and path, counted; the worker serves on', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--request-timeout', '0.5', '--metrics-bind', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const [worker] = corral.workerPids();
    const startedAt = Date.now();
    const timedOut = await request(url, { path: '/wait?ms=3000&secret=1' });
    assert.is(timedOut.status, 503);
    assert.match(timedOut.body, /timed out/);
    assert.ok(Date.now() - startedAt < 2500, 'answered at the timeout, not when the app finished');
    await corral.waitForLine(/\[WARNING\] Request timed out after 0.5 s: GET \/wait \(answered 503\)/);
    assert.not.match(corral.output, /secret=1/, 'the query string is not logged');

    const begun = await RawConnection.open(portOf(url));
    await begun.write('GET /begin?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await begun.waitForClose(2500), 'the connection of a begun response is closed at the timeout');
    assert.match(begun.all().toString('latin1'), /^HTTP\/1.1 200 OK[\s\S]*begun/);
    begun.destroy();
    await corral.waitForLine(/Request timed out after 0.5 s: GET \/begin \(response begun: connection closed\)/);

    // Fast requests are untouched; the worker is the same one, still up after the app's late writes.
    await new Promise((resolve) => setTimeout(resolve, 2600));
    assert.is((await request(url, { path: '/wait?ms=10' })).body, 'waited 10');
    assert.is((await request(url)).body, String(worker));
    assert.not.match(corral.output, /Worker \(pid:\d+\) (exited|was terminated)/);
    await waitUntil(async () => /corral_request_timeouts_total 2/.test(await scrape(corral)), { what: 'the timeouts to be counted (next heartbeat)' });
  });
});

test('--request-timeout with a kind that ignores it is said at start', async () => {
  await withCorral(['-k', 'sync', '-w', '1', '-b', '127.0.0.1:0', '--request-timeout', '5', app], async (corral) => {
    await corral.ready();
    assert.match(corral.output, /\[WARNING\] --request-timeout applies to the async kind only; -k sync ignores it/);
  });
});

test('a graceful timeout that cuts requests logs each one: method, path, age', async () => {
  const corral = startCorral(['-w', '1', '-b', '127.0.0.1:0', '--graceful-timeout', '1', '-t', '1', '--metrics-bind', '127.0.0.1:0', app]);
  try {
    const [url] = await corral.ready();
    const cut = request(url, { path: '/wait?ms=30000' }).catch(() => 'cut');
    const alsoCut = request(url, { path: '/begin?ms=30000' }).catch(() => 'cut');
    await waitUntil(async () => /corral_requests_in_flight 2/.test(await scrape(corral)), { what: 'both requests in flight' });
    corral.signal('SIGTERM');
    assert.equal(await corral.waitForExit(8000), { code: 0, signal: null });
    assert.match(corral.output, /\[WARNING\] Worker \(pid: \d+\) cutting a request in flight for 1\.\d s: GET \/wait/);
    assert.match(corral.output, /\[WARNING\] Worker \(pid: \d+\) cutting a request in flight for 1\.\d s: GET \/begin/);
    assert.is(await cut, 'cut');
    assert.is(await alsoCut, 'cut');
  } finally {
    await corral.stop();
  }
});

test.run();
