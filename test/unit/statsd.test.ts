// The StatsD line format, address parsing, packet packing, and the client
// against a real UDP socket on loopback.
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logLineCounter } from '../../src/metrics/log-line-counter.js';
import { parseStatsdAddress, resolveStatsdAddress } from '../../src/metrics/statsd-address.js';
import { STATSD_METRICS, formatStatsdLine, normalisePrefix, tagSuffix } from '../../src/metrics/statsd-line.js';
import { createStatsdClient, packLines } from '../../src/metrics/statsd.js';

test('lines are name:value|type, with the prefix joined by exactly one dot and tags after |#', () => {
  assert.is(formatStatsdLine('', STATSD_METRICS.requests, 1, 'c', ''), 'corral.requests:1|c');
  assert.is(formatStatsdLine(normalisePrefix('app'), STATSD_METRICS.requestDuration, 12.3456789, 'ms', ''), 'app.corral.request.duration:12.346|ms');
  assert.is(formatStatsdLine(normalisePrefix('app.'), STATSD_METRICS.workers, 4, 'g', tagSuffix('env:prod,svc:web')), 'app.corral.workers:4|g|#env:prod,svc:web');
  assert.is(STATSD_METRICS.requestStatus(404), 'corral.request.status.404');
  assert.is(STATSD_METRICS.logLine('error'), 'corral.log.error');
});

test('prefix and tag normalisation', () => {
  assert.is(normalisePrefix(''), '');
  assert.is(normalisePrefix('a.b..'), 'a.b.');
  assert.is(tagSuffix(''), '');
  assert.is(tagSuffix(' env:prod , ,svc:web '), '|#env:prod,svc:web');
});

test('--statsd-host parsing: host, port (8125 by default), IPv6; malformed values are refused with the flag named', () => {
  assert.equal(parseStatsdAddress('localhost:8125'), { host: 'localhost', port: 8125 });
  assert.equal(parseStatsdAddress('statsd.internal'), { host: 'statsd.internal', port: 8125 });
  assert.equal(parseStatsdAddress('[::1]:9125'), { host: '::1', port: 9125 });
  assert.equal(parseStatsdAddress('::1'), { host: '::1', port: 8125 });
  for (const bad of ['localhost:notaport', 'localhost:0', 'localhost:70000', ':8125', 'bad host:8125', '[nope]:1', 'unix:/tmp/x']) {
    assert.throws(() => parseStatsdAddress(bad), /--statsd-host: .* Use HOST:PORT/, bad);
  }
});

test('resolution: localhost and literals resolve; an unknown name is refused', async () => {
  assert.equal(await resolveStatsdAddress('127.0.0.1:1'), { host: '127.0.0.1', port: 1, address: '127.0.0.1', family: 4 });
  const local = await resolveStatsdAddress('localhost:8125');
  assert.ok(local.address === '127.0.0.1' || local.address === '::1', local.address);
  try {
    await resolveStatsdAddress('no-such-host.invalid:8125');
    assert.unreachable('should not resolve');
  } catch (error) {
    assert.match((error as Error).message, /--statsd-host: 'no-such-host.invalid:8125' does not resolve/);
  }
});

test('packLines keeps packets under the size limit, one line per packet at worst', () => {
  assert.equal(packLines(['a:1|c', 'b:1|c'], 100), ['a:1|c\nb:1|c']);
  assert.equal(packLines(['aaaa:1|c', 'bbbb:1|c', 'cccc:1|c'], 17), ['aaaa:1|c\nbbbb:1|c', 'cccc:1|c']);
  assert.equal(packLines(['x'.repeat(50)], 10), ['x'.repeat(50)]);
  assert.equal(packLines([]), []);
});

test('the log-line counter counts critical, error and warning lines only', () => {
  const sent: string[] = [];
  const fake = { increment: (name: string) => sent.push(name), timing() {}, gauge() {}, close: async () => {} };
  const count = logLineCounter(fake);
  for (const level of ['debug', 'info', 'warning', 'error', 'critical'] as const) count(level);
  assert.equal(sent, ['corral.log.warning', 'corral.log.error', 'corral.log.critical']);
});

test('the client batches lines into UDP packets and flushes them on close', async () => {
  const listener = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    const received: string[] = [];
    listener.on('message', (packet) => received.push(...packet.toString('utf8').split('\n')));
    const client = createStatsdClient({ host: `127.0.0.1:${port}`, prefix: 'p', tags: 'k:v' });
    client.increment('corral.requests');
    client.timing('corral.request.duration', 1.5);
    client.gauge('corral.workers', 3);
    await client.close();
    client.increment('after.close');
    const deadline = Date.now() + 5000;
    while (received.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(received, ['p.corral.requests:1|c|#k:v', 'p.corral.request.duration:1.5|ms|#k:v', 'p.corral.workers:3|g|#k:v']);
  } finally {
    listener.close();
  }
});

test('a client whose target never answers neither throws nor holds the process', async () => {
  const client = createStatsdClient({ host: '127.0.0.1:9', prefix: '', tags: '' });
  for (let i = 0; i < 1000; i += 1) client.increment('corral.requests');
  await client.close();
});

test.run();
