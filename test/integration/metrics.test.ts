// Metrics through the real CLI: StatsD lines to a UDP listener on loopback,
// and the arbiter's Prometheus endpoint aggregated from every worker.
import dgram from 'node:dgram';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, isAlive, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request, startRequest } from '../helpers/http.js';
import { http2Get } from '../helpers/http2-client.js';

// ── StatsD ───────────────────────────────────────────────────────────────

/** A StatsD agent stand-in: every line received, in order. */
async function statsdListener() {
  const socket = dgram.createSocket('udp4');
  const lines: string[] = [];
  socket.on('message', (packet) => lines.push(...packet.toString('utf8').split('\n')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;
  return {
    port,
    lines,
    /** Waits until `count` lines match `pattern`; fails with what did arrive. */
    async waitFor(pattern: RegExp, count = 1, timeoutMs = 5000) {
      try {
        await waitUntil(() => lines.filter((line) => pattern.test(line)).length >= count, { timeoutMs, what: `${count} × ${pattern}` });
      } catch (error) {
        throw new Error(`${(error as Error).message}; received:\n${lines.join('\n')}`);
      }
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function withStatsd(body: (statsd: Awaited<ReturnType<typeof statsdListener>>) => Promise<void>) {
  const statsd = await statsdListener();
  try {
    await body(statsd);
  } finally {
    await statsd.close();
  }
}

test('StatsD: requests, durations, statuses, the workers gauge and error-log lines, with prefix and tags', async () => {
  await withStatsd(async (statsd) => {
    const args = ['-w', '2', '-b', '127.0.0.1:0', '--statsd-host', `127.0.0.1:${statsd.port}`];
    args.push('--statsd-prefix', 'app', '--dogstatsd-tags', 'env:test,svc:web', fixture('app.js'));
    await withCorral(args, async (corral) => {
      const [url] = await corral.ready();
      for (let i = 0; i < 5; i += 1) assert.is((await request(url)).status, 200);
      assert.is((await request(url, { path: '/throw' })).status, 500);
      const tags = '\\|#env:test,svc:web$';
      await statsd.waitFor(new RegExp(`^app\\.corral\\.requests:1\\|c${tags}`), 6);
      await statsd.waitFor(new RegExp(`^app\\.corral\\.request\\.duration:\\d+(\\.\\d+)?\\|ms${tags}`), 6);
      await statsd.waitFor(new RegExp(`^app\\.corral\\.request\\.status\\.200:1\\|c${tags}`), 5);
      await statsd.waitFor(new RegExp(`^app\\.corral\\.request\\.status\\.500:1\\|c${tags}`), 1);
      await statsd.waitFor(new RegExp(`^app\\.corral\\.workers:2\\|g${tags}`));
      // The worker logged the handler's exception as an error.
      await statsd.waitFor(new RegExp(`^app\\.corral\\.log\\.error:1\\|c${tags}`));

      // The arbiter's own error line for a killed worker is counted too.
      const errorsBefore = statsd.lines.filter((line) => line.startsWith('app.corral.log.error:')).length;
      process.kill(corral.workerPids()[0], 'SIGKILL');
      await corral.waitForLine(/was sent SIGKILL/);
      await statsd.waitFor(new RegExp(`^app\\.corral\\.log\\.error:1\\|c${tags}`), errorsBefore + 1);

      for (const line of statsd.lines) assert.match(line, new RegExp(`^app\\.corral\\.[a-z0-9.]+:\\d+(\\.\\d+)?\\|(c|ms|g)${tags}`), line);
    });
  });
});

test('StatsD: without a prefix or tags the names are bare; localhost:PORT resolves', async () => {
  await withStatsd(async (statsd) => {
    await withCorral(['-b', '127.0.0.1:0', '--statsd-host', `localhost:${statsd.port}`, fixture('app.js')], async (corral) => {
      const [url] = await corral.ready();
      await request(url);
      await statsd.waitFor(/^corral\.requests:1\|c$/);
      await statsd.waitFor(/^corral\.request\.duration:\d+(\.\d+)?\|ms$/);
      await statsd.waitFor(/^corral\.request\.status\.200:1\|c$/);
      await statsd.waitFor(/^corral\.workers:1\|g$/);
    });
  });
});

for (const [host, why] of [
  ['no-such-host.invalid:8125', /does not resolve/],
  ['localhost:notaport', /has an invalid port 'notaport'/],
] as const) {
  test(`--statsd-host ${host}: exit 1 at startup with one line`, async () => {
    const corral = startCorral(['-b', '127.0.0.1:0', '--statsd-host', host, fixture('app.js')]);
    try {
      assert.equal(await corral.waitForExit(), { code: 1, signal: null });
      const lines = corral.lines.filter((line) => line.trim());
      assert.is(lines.length, 1, corral.output);
      assert.match(lines[0], /^Error: --statsd-host: /);
      assert.match(lines[0], why);
      assert.equal(corral.workerPids(), []);
    } finally {
      await corral.stop();
    }
  });
}

// ── Prometheus ───────────────────────────────────────────────────────────

type Samples = Map<string, number>;

/** `name{labels} value` lines into a map keyed by `name{labels}`. */
function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), line.slice(at + 1) === '+Inf' ? Infinity : Number(line.slice(at + 1)));
  }
  return samples;
}

async function metricsOrigin(corral: CorralProcess) {
  const { match } = await corral.waitForLine(/Serving metrics at: (http:\/\/\S+)\/metrics/);
  return match[1];
}

async function scrape(origin: string) {
  const response = await request(origin, { path: '/metrics' });
  assert.is(response.status, 200);
  return { samples: parseExposition(response.body), response };
}

const get = (samples: Samples, key: string) => {
  const value = samples.get(key);
  if (value === undefined) throw new Error(`no sample ${key}`);
  return value;
};

test('Prometheus: totals, histogram, in-flight and per-worker gauges reflect the requests served', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const origin = await metricsOrigin(corral);
    const [url] = await corral.ready();
    for (let i = 0; i < 10; i += 1) assert.is((await request(url)).status, 200);
    for (let i = 0; i < 2; i += 1) assert.is((await request(url, { path: '/sleep?ms=150' })).status, 200);

    let samples: Samples = new Map();
    await waitUntil(
      async () => {
        samples = (await scrape(origin)).samples;
        return get(samples, 'corral_request_duration_seconds_count') >= 12;
      },
      { what: 'the heartbeats to report 12 requests' },
    );
    const { response } = await scrape(origin);
    assert.is(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(response.body, /^# TYPE corral_request_duration_seconds histogram$/m);

    assert.is(get(samples, 'corral_requests_total'), 12);
    assert.is(get(samples, 'corral_request_duration_seconds_count'), 12);
    assert.is(get(samples, 'corral_request_duration_seconds_bucket{le="+Inf"}'), 12);
    const bounds = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
    const buckets = bounds.map((le) => get(samples, `corral_request_duration_seconds_bucket{le="${le}"}`));
    for (let i = 1; i < buckets.length; i += 1) assert.ok(buckets[i] >= buckets[i - 1], `buckets are cumulative: ${buckets}`);
    assert.ok(get(samples, 'corral_request_duration_seconds_bucket{le="0.1"}') <= 10, 'the two 150 ms requests are over 0.1 s');
    assert.ok(get(samples, 'corral_request_duration_seconds_sum') >= 0.3, 'the sum includes 2 × 150 ms');
    assert.is(get(samples, 'corral_requests_in_flight'), 0);
    assert.is(get(samples, 'corral_workers'), 2);
    for (const pid of corral.liveWorkerPids()) {
      assert.ok(get(samples, `corral_worker_rss_bytes{pid="${pid}"}`) > 1_000_000, `rss of ${pid}`);
      assert.ok(get(samples, `corral_event_loop_lag_seconds{pid="${pid}"}`) >= 0, `lag of ${pid}`);
    }
    for (const cause of ['exited', 'stopped', 'timeout', 'protocol', 'bootFailed']) {
      assert.is(get(samples, `corral_worker_restarts_total{cause="${cause}"}`), 0);
    }

    // A request held open shows as in flight.
    const { body } = await startRequest(url, '/sleep?ms=3000');
    await waitUntil(async () => get((await scrape(origin)).samples, 'corral_requests_in_flight') === 1, {
      what: 'one request in flight',
    });
    assert.is(await body, 'slept 3000');
  });
});

test('Prometheus: kill -9 of a worker counts a restart (cause "exited"); totals never go down', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const origin = await metricsOrigin(corral);
    const [url] = await corral.ready();
    const victim = Number((await request(url, { path: '/pid' })).body);
    for (let i = 0; i < 20; i += 1) await request(url);
    await waitUntil(async () => get((await scrape(origin)).samples, 'corral_requests_total') >= 21, { what: '21 requests reported' });

    process.kill(victim, 'SIGKILL');
    await corral.waitForLine(new RegExp(`Worker \\(pid:${victim}\\) was sent SIGKILL`));
    await waitUntil(() => corral.liveWorkerPids().length === 2, { what: 'a replacement worker' });
    const { samples } = await scrape(origin);
    assert.is(get(samples, 'corral_worker_restarts_total{cause="exited"}'), 1);
    assert.is(get(samples, 'corral_worker_restarts_total{cause="timeout"}'), 0);
    assert.ok(get(samples, 'corral_requests_total') >= 21, 'what the killed worker served is still counted');
    assert.ok(get(samples, 'corral_request_duration_seconds_count') >= 21);
    assert.is(get(samples, 'corral_workers'), 2);
    assert.not.ok(samples.has(`corral_worker_rss_bytes{pid="${victim}"}`), 'the dead worker has no gauges');
    for (let i = 0; i < 5; i += 1) await request(url);
    await waitUntil(async () => get((await scrape(origin)).samples, 'corral_requests_total') >= 26, { what: 'the new requests counted on top' });
  });
});

test('Prometheus: other paths 404, other methods 405, garbage 400; the arbiter keeps serving', async () => {
  await withCorral(['-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', fixture('app.js')], async (corral) => {
    const origin = await metricsOrigin(corral);
    const [url] = await corral.ready();
    assert.is((await request(origin, { path: '/' })).status, 404);
    assert.is((await request(origin, { path: '/metrics/x' })).status, 404);
    assert.is((await request(origin, { path: '/metrics', method: 'POST', body: 'x' })).status, 405);
    const head = await request(origin, { path: '/metrics', method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.body, '');
    assert.is((await request(origin, { path: '/metrics?name[]=x' })).status, 200);

    const { hostname, port } = new URL(origin);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => socket.end('\x00\x01 NOT HTTP\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400 /);

    assert.ok(isAlive(corral.pid));
    await scrape(origin);
    assert.is((await request(url)).status, 200);
  });
});

test('Prometheus: an address in use stops corral at startup with one error line, exit 1', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as AddressInfo;
  const corral = startCorral(['-b', '127.0.0.1:0', '--metrics-bind', `127.0.0.1:${port}`, fixture('app.js')]);
  try {
    assert.equal(await corral.waitForExit(), { code: 1, signal: null });
    const errors = corral.lines.filter((line) => /\[ERROR\]|^Error:/.test(line));
    assert.is(errors.length, 1, corral.output);
    assert.match(errors[0], new RegExp(`\\[ERROR\\] Can't serve metrics at 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    assert.equal(corral.workerPids(), []);
  } finally {
    await corral.stop();
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('--metrics-bind without a port: exit 1 at startup with one line', async () => {
  const corral = startCorral(['-b', '127.0.0.1:0', '--metrics-bind', 'localhost', fixture('app.js')]);
  try {
    assert.equal(await corral.waitForExit(), { code: 1, signal: null });
    assert.equal(
      corral.lines.filter((line) => line.trim()),
      ["Error: --metrics-bind: 'localhost' is not valid. Use HOST:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9100."],
    );
  } finally {
    await corral.stop();
  }
});

test('TERM with a scraper holding a keep-alive connection: the arbiter still exits promptly', async () => {
  const agent = new http.Agent({ keepAlive: true });
  const corral = startCorral(['-w', '2', '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', fixture('app.js')]);
  try {
    const origin = await metricsOrigin(corral);
    await corral.ready();
    const { hostname, port } = new URL(origin);
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: hostname, port: Number(port), path: '/metrics', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        })
        .on('error', reject);
    });
    assert.is(status, 200);
    const termAt = Date.now();
    corral.signal('SIGTERM');
    assert.equal(await corral.waitForExit(5000), { code: 0, signal: null });
    assert.ok(Date.now() - termAt < 3000, `exited ${Date.now() - termAt} ms after TERM`);
  } finally {
    agent.destroy();
    await corral.stop();
  }
});

test("a response whose 'close' its app emits again is counted once, over HTTP/1.1 and HTTP/2 (requests, durations, in flight)", async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--http-protocols', 'h2,h1', '--metrics-bind', '127.0.0.1:0', fixture('close-again-app.js')], async (corral) => {
    const origin = await metricsOrigin(corral);
    const [url] = await corral.ready();
    assert.is((await request(url)).body, 'served over HTTP/1');
    assert.is((await http2Get(url, '/')).body, 'served over HTTP/2');
    assert.is((await request(url)).body, 'served over HTTP/1');
    let samples: Samples = new Map();
    await waitUntil(
      async () => {
        samples = (await scrape(origin)).samples;
        return get(samples, 'corral_request_duration_seconds_count') >= 3;
      },
      { what: 'the heartbeats to report 3 requests' },
    );
    assert.is(get(samples, 'corral_requests_total'), 3);
    assert.is(get(samples, 'corral_request_duration_seconds_count'), 3);
    assert.is(get(samples, 'corral_requests_in_flight'), 0);
  });
});

test.run();
