// The inspector's arithmetic: rates from heartbeats that arrive at different
// moments, latency percentiles from the duration histogram, the heartbeat's
// new fields checked on arrival, error log lines read back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateMessage } from '../../src/ipc/protocol.js';
import { parseLogLine } from '../../src/inspector/error-log-tail.js';
import { createRequestRates, percentileMs } from '../../src/inspector/request-rates.js';
import { DURATION_BUCKET_COUNT, emptyDurations, recordDuration } from '../../src/metrics/duration-histogram.js';

test('rates: 3 workers at 10 req/s each, heartbeats a second apart but out of phase, read as 30 req/s at any moment', () => {
  const rates = createRequestRates();
  const phases = [0, 330, 770];
  for (let second = 0; second <= 10; second++) {
    phases.forEach((phase, worker) => {
      const at = 1_000_000 + second * 1000 + phase;
      rates.heartbeat(`worker-${worker}`, { served: (at - 1_000_000) / 100 }, at);
    });
  }
  // The page's old way, served-delta over the gap between two updates, swings with the phases; per worker it does not.
  for (const now of [1_008_100, 1_008_400, 1_008_800, 1_009_950]) {
    assert.ok(Math.abs(rates.rate(now, 5_000) - 30) < 1e-9, `at ${now}: ${rates.rate(now, 5_000)}`);
  }
  rates.gone('worker-1');
  assert.ok(Math.abs(rates.rate(1_009_950, 5_000) - 20) < 1e-9);
  // A worker silent for the whole window adds nothing.
  assert.is(rates.rate(1_030_000, 5_000), 0);
});

test('rates: CPU share and latency over the window from the heartbeat counters', () => {
  const rates = createRequestRates();
  const durations = emptyDurations();
  rates.heartbeat('w', { served: 0, cpuMicros: 1_000_000, durations: structuredClone(durations) }, 10_000);
  for (let i = 0; i < 98; i++) recordDuration(durations, 0.003);
  recordDuration(durations, 0.2);
  recordDuration(durations, 0.2);
  rates.heartbeat('w', { served: 100, cpuMicros: 1_250_000, durations: structuredClone(durations) }, 11_000);
  const window = rates.worker('w', 11_000, 5_000);
  assert.is(window.rate, 100);
  assert.is(window.cpuPercent, 25);
  assert.ok(window.p50Ms! > 0 && window.p50Ms! <= 5, String(window.p50Ms));
  assert.ok(window.p99Ms! > 100 && window.p99Ms! <= 250, String(window.p99Ms));
  assert.is(percentileMs(new Array(DURATION_BUCKET_COUNT).fill(0), 0.5), undefined);
});

test('a heartbeat with malformed CPU time or response counts is a protocol error; well-formed ones pass', () => {
  const beat = { type: 'heartbeat', inFlight: 0, served: 1, lagMs: 0, rss: 1 };
  assert.not.throws(() => validateMessage('toArbiter', { ...beat, cpuMicros: 12, responses: { client: 1, server: 2 } }));
  assert.throws(() => validateMessage('toArbiter', { ...beat, cpuMicros: 'x' }), /malformed CPU time/);
  assert.throws(() => validateMessage('toArbiter', { ...beat, dropped: -Infinity }), /malformed count of dropped connections/);
  for (const responses of [1, null, { client: 1 }, { client: 'a', server: 1 }]) {
    assert.throws(() => validateMessage('toArbiter', { ...beat, responses }), /malformed response counts/);
  }
});

test('error log lines are read back with their pid and level, text or JSON', () => {
  assert.equal(parseLogLine('[2026-11-25 06:07:31 +0000] [4242] [ERROR] boom'), { pid: 4242, level: 'error', text: '[2026-11-25 06:07:31 +0000] [4242] [ERROR] boom' });
  const json = '{"time":"2026-11-25T06:07:31.000Z","pid":7,"level":"warning","msg":"hm"}';
  assert.equal(parseLogLine(json), { pid: 7, level: 'warning', text: json });
  assert.equal(parseLogLine('a line of its own'), { pid: undefined, level: '', text: 'a line of its own' });
});

test.run();
