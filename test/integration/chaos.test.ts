// The chaos suite, shortened (a few seconds a scenario): faults under real
// load, and the counts each scenario promises. `npm run chaos` runs it at length.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChaosReport, fdExhaustion, fullDiskAccessLog, hangingApp, hostileClients, ipcGarbage, killNine, leakingApp, logReopenFailure, reloadStorm } from '../chaos/scenarios.js';

const check = (report: ChaosReport) => {
  const detail = `${report.scenario}: ${report.ok}/${report.sent} ok, ${report.failed} failed ${JSON.stringify(report.reasons)}; ${report.notes.join('; ')}`;
  assert.ok(report.ok > 0, `no request was served: ${detail}`);
  assert.ok(report.met, `expected ${report.expectation}; got ${detail}`);
};

test('kill -9 a worker every 2 s: only requests in flight on it fail, each is replaced', async () => check(await killNine(7)));
test('an app that hangs 1 request in 100 (-k sync): one failure per timeout, nothing else', async () => check(await hangingApp(5)));
test('an app that leaks, with --max-requests: recycled, 0 failed', async () => check(await leakingApp(5)));
test('HUP every 2 s then a USR2 upgrade under load: 0 failed', async () => check(await reloadStorm(7)));
test('hostile clients beside good ones: ≥ 99.9% good, arbiter memory back to baseline', async () => check(await hostileClients(4, { idle: 2000 })));
test('garbage on a worker’s IPC pipe under load: that worker replaced, 0 failed', async () => check(await ipcGarbage(4)));
test('log directory moved away, reopens every 2 s under load: everyone keeps serving, 0 failed', async () => check(await logReopenFailure(5)));
test('access log on a full disk, USR1 every 2 s under load: 0 failed, no timeout, drops counted', async () => check(await fullDiskAccessLog(5)));

test('ulimit -n 256 with idle connections piling up beside a load: shed and logged, 0 failed, no halt', async () => check(await fdExhaustion(5)));

test.run();
