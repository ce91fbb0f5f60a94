// Load generation with autocannon's programmatic API (runs inside the bench process).
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

export const AUTOCANNON_VERSION = createRequire(import.meta.url)('autocannon/package.json').version;

/**
 * One autocannon run against http://127.0.0.1:PORT/.
 * Returns mean req/s, p50/p99 latency in ms and the failure count.
 */
export async function runLoad(port, { connections, pipelining, durationSec, method = 'GET', body }) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    pipelining,
    duration: durationSec,
    method,
    body,
  });
  return {
    rps: result.requests.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    // autocannon already counts timeouts inside `errors`; keep them separate only for display.
    errors: result.errors + result.non2xx,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}
