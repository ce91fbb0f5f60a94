// A fleet rollout behind HAProxy under keep-alive load (test/chaos/fleet-rollout.ts):
// with a drain delay, not one request of at least 20,000 fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findHaproxy, fleetRollout } from '../chaos/fleet-rollout.js';

const AT_LEAST = 20_000;

test(`fleet rollout behind HAProxy under keep-alive load, --drain-delay 2: 0 failed requests of at least ${AT_LEAST}`, async () => {
  const haproxy = findHaproxy();
  if (!haproxy) return console.log('  skipped: haproxy is not installed and could not be installed (apt-get install haproxy)');
  const report = await fleetRollout(haproxy, 5, { drainDelay: 2, minRequests: AT_LEAST });
  console.log(`  ${report.sent} requests through HAProxy, ${report.failed} failed; ${report.notes.join('; ')}`);
  assert.ok(report.sent >= AT_LEAST, `${report.sent} requests`);
  assert.equal(report.reasons, {}, `${report.failed} failed of ${report.sent}`);
  assert.ok(report.met, `${report.expectation}: ${report.notes.join('; ')}`);
});

test.run();
