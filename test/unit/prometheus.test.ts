// Request-duration histograms, the pool's totals across worker exits, the
// Prometheus exposition, and the heartbeat's histogram on the wire.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WorkerExit, WorkerStats } from '../../machines/worker-handle.js';
import { validateMessage } from '../../src/ipc/protocol.js';
import { DURATION_BOUNDS, DURATION_BUCKET_COUNT, addDurations, emptyDurations, recordDuration } from '../../src/metrics/duration-histogram.js';
import { parseMetricsBind } from '../../src/metrics/metrics-server.js';
import { PoolMetrics } from '../../src/metrics/pool-metrics.js';
import { renderPrometheus } from '../../src/metrics/prometheus.js';

const stats = (served: number, seconds: number[] = [], extra: Partial<WorkerStats> = {}): WorkerStats => {
  const durations = emptyDurations();
  for (const value of seconds) recordDuration(durations, value);
  return { inFlight: 0, served, lagMs: 2, rss: 50_000_000, durations, ...extra };
};

const exit = (cause: WorkerExit['cause'], workerStats: WorkerStats): WorkerExit => ({
  id: 'worker-1',
  pid: 100,
  established: true,
  exitCode: null,
  signal: 'SIGKILL',
  cause,
  stats: workerStats,
});

test('a duration lands in the first bucket whose bound is at or above it; slower than all goes last', () => {
  const durations = emptyDurations();
  for (const seconds of [0, 0.005, 0.0051, 1, 10, 11, 300]) recordDuration(durations, seconds);
  assert.is(durations.counts.length, DURATION_BOUNDS.length + 1);
  assert.is(durations.counts[0], 2, '0 and 0.005 are ≤ 0.005');
  assert.is(durations.counts[1], 1, '0.0051 is ≤ 0.01');
  assert.is(durations.counts[DURATION_BOUNDS.indexOf(1)], 1);
  assert.is(durations.counts[DURATION_BOUNDS.indexOf(10)], 1);
  assert.is(durations.counts[DURATION_BUCKET_COUNT - 1], 2, '11 and 300 are over every bound');
  assert.ok(Math.abs(durations.sumSeconds - 322.0101) < 1e-9);
});

test('histograms add bucket by bucket', () => {
  const a = stats(0, [0.001, 0.2]).durations!;
  const b = stats(0, [0.001, 20]).durations!;
  const sum = addDurations(emptyDurations(), a);
  addDurations(sum, b);
  assert.is(sum.counts[0], 2);
  assert.is(sum.counts[DURATION_BOUNDS.indexOf(0.25)], 1);
  assert.is(sum.counts[DURATION_BUCKET_COUNT - 1], 1);
  assert.ok(Math.abs(sum.sumSeconds - 20.202) < 1e-9);
});

test('pool totals: live workers plus exited ones, so counters never go down; restarts by cause', () => {
  const pool = new PoolMetrics();
  const live = [
    { pid: 1, stats: stats(10, [0.001, 0.002], { inFlight: 2 }) },
    { pid: 2, stats: stats(5, [0.3], { inFlight: 1 }) },
  ];
  const before = pool.snapshot(live);
  assert.is(before.requestsTotal, 15);
  assert.is(before.inFlight, 3);
  assert.is(before.workerCount, 2);
  assert.is(before.durations.counts.reduce((a, b) => a + b), 3);

  // Worker 2 is killed and replaced by worker 3, which has served nothing yet.
  pool.workerExited(exit('exited', live[1].stats), true);
  const after = pool.snapshot([live[0], { pid: 3, stats: stats(0) }]);
  assert.is(after.requestsTotal, 15);
  assert.is(after.durations.counts.reduce((a, b) => a + b), 3);
  assert.is(after.restarts.exited, 1);
  assert.is(after.restarts.timeout, 0);

  // Stopped at shutdown: counted in the totals, not as a restart.
  pool.workerExited(exit('stopped', live[0].stats), false);
  const last = pool.snapshot([]);
  assert.is(last.requestsTotal, 15);
  assert.is(last.restarts.stopped, 0);
  assert.is(last.workerCount, 0);
});

test('workers without a heartbeat yet (or without a pid) get no per-pid gauges', () => {
  const snapshot = new PoolMetrics().snapshot([
    { pid: undefined, stats: stats(0, [], { rss: 0 }) },
    { pid: 7, stats: stats(0, [], { rss: 0 }) },
    { pid: 8, stats: stats(0, [], { lagMs: 12.5, rss: 1234 }) },
  ]);
  assert.equal(snapshot.workers, [{ pid: 8, lagSeconds: 0.0125, rssBytes: 1234 }]);
  assert.is(snapshot.workerCount, 3);
});

test('the exposition: HELP and TYPE per family, cumulative buckets ending at +Inf, sum and count', () => {
  const pool = new PoolMetrics();
  pool.workerExited(exit('timeout', stats(1, [30])), true);
  const text = renderPrometheus(pool.snapshot([{ pid: 42, stats: stats(3, [0.004, 0.02, 0.02], { inFlight: 1, lagMs: 1.5, rss: 2048 }) }]));
  assert.ok(text.endsWith('\n'));
  const lines = text.trimEnd().split('\n');
  const value = (name: string) => lines.find((line) => line.startsWith(`${name} `))?.split(' ')[1];
  assert.is(value('corral_requests_total'), '4');
  assert.is(value('corral_requests_in_flight'), '1');
  assert.is(value('corral_workers'), '1');
  assert.is(value('corral_request_duration_seconds_bucket{le="0.005"}'), '1');
  assert.is(value('corral_request_duration_seconds_bucket{le="0.01"}'), '1');
  assert.is(value('corral_request_duration_seconds_bucket{le="0.025"}'), '3');
  assert.is(value('corral_request_duration_seconds_bucket{le="10"}'), '3');
  assert.is(value('corral_request_duration_seconds_bucket{le="+Inf"}'), '4');
  assert.is(value('corral_request_duration_seconds_count'), '4');
  assert.ok(Math.abs(Number(value('corral_request_duration_seconds_sum')) - 30.044) < 1e-9);
  assert.is(value('corral_worker_restarts_total{cause="timeout"}'), '1');
  assert.is(value('corral_worker_restarts_total{cause="exited"}'), '0');
  assert.is(value('corral_event_loop_lag_seconds{pid="42"}'), '0.0015');
  assert.is(value('corral_worker_rss_bytes{pid="42"}'), '2048');
  for (const [name, type] of [
    ['corral_requests_total', 'counter'],
    ['corral_request_duration_seconds', 'histogram'],
    ['corral_requests_in_flight', 'gauge'],
    ['corral_worker_restarts_total', 'counter'],
    ['corral_event_loop_lag_seconds', 'gauge'],
    ['corral_worker_rss_bytes', 'gauge'],
    ['corral_workers', 'gauge'],
  ]) {
    assert.ok(lines.includes(`# TYPE ${name} ${type}`), `${name} is a ${type}`);
    assert.ok(lines.some((line) => line.startsWith(`# HELP ${name} `)), `${name} has HELP`);
  }
  // Every sample line is `name{labels} value`, value a number or +Inf.
  for (const line of lines.filter((line) => !line.startsWith('#'))) {
    assert.match(line, /^[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? (-?[0-9.e+-]+|\+Inf)$/, line);
  }
});

test('the heartbeat may carry a histogram of the right shape, and nothing else', () => {
  const beat = { type: 'heartbeat', inFlight: 0, served: 1, lagMs: 0, rss: 1 };
  assert.equal(validateMessage('toArbiter', beat), beat);
  const withDurations = { ...beat, durations: stats(1, [0.1]).durations };
  assert.equal(validateMessage('toArbiter', withDurations), withDurations);
  for (const durations of [
    'x',
    { counts: [1, 2], sumSeconds: 0 },
    { counts: new Array(DURATION_BUCKET_COUNT).fill('1'), sumSeconds: 0 },
    { counts: new Array(DURATION_BUCKET_COUNT).fill(-1), sumSeconds: 0 },
    { counts: new Array(DURATION_BUCKET_COUNT).fill(0) },
  ]) {
    assert.throws(() => validateMessage('toArbiter', { ...beat, durations }), /malformed duration histogram/);
  }
});

test('--metrics-bind takes HOST:PORT or [IPV6]:PORT, port required', () => {
  assert.equal(parseMetricsBind('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  assert.equal(parseMetricsBind('[::1]:0'), { host: '::1', port: 0 });
  for (const bad of ['127.0.0.1', 'unix:/tmp/m.sock', 'fd://3', 'host:port', '']) {
    assert.throws(() => parseMetricsBind(bad), /--metrics-bind: .* Use HOST:PORT/, bad);
  }
});

test.run();
