// Readiness probe: GET / until a 200 arrives.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** One GET / on a fresh connection; resolves to the status code or rejects. */
export function getStatus(port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * Poll until GET / answers 200. `failFast()` may return an Error (e.g. the
 * server process died) to stop waiting early.
 */
export async function waitFor200(port, { deadlineMs, intervalMs = 10, failFast = () => null }) {
  const deadline = performance.now() + deadlineMs;
  let last = 'no attempt made';
  while (performance.now() < deadline) {
    const early = failFast();
    if (early) throw early;
    try {
      // A connection accepted by the kernel but not yet by a worker is left
      // pending, not retried: it is answered as soon as a worker accepts.
      const remaining = Math.max(1, deadline - performance.now());
      const status = await getStatus(port, Math.min(1000, remaining));
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (err) {
      last = err.code ?? err.message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`no 200 from 127.0.0.1:${port} within ${deadlineMs} ms (last: ${last})`);
}
