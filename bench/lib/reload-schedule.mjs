// Spreads N reloads over a load run: reload i is triggered at its evenly spaced
// time, or as soon as reload i-1 has completed if that is later. No reload is
// started when the time left in the run is shorter than the last one took, so
// every reload counted completed under load.
import { setTimeout as sleep } from 'node:timers/promises';

const FIRST_AT_MS = 1_000; // let the load settle first
const LAST_BY_MS = 3_000; // leave room for the last reload before the load stops

/**
 * @param {object} options
 * @param {number} options.count          reloads wanted
 * @param {number} options.startedAt      performance.now() when the load started
 * @param {number} options.durationMs     length of the load run
 * @param {(opts: { timeoutMs: number }) => Promise<void>} options.trigger  starts one reload, resolves
 *   when it has completed; should give up after `timeoutMs` (10 s past the end of the run)
 * @returns {Promise<{ planned: number, started: number, reloads: { startMs: number, endMs: number }[], error?: string }>}
 */
export async function spreadReloads({ count, startedAt, durationMs, trigger }) {
  const endAt = startedAt + durationMs;
  const spacing = Math.max(0, durationMs - FIRST_AT_MS - LAST_BY_MS) / count;
  const reloads = [];
  let started = 0;
  let lastTook = 0;
  for (let i = 0; i < count; i += 1) {
    const planned = startedAt + FIRST_AT_MS + i * spacing;
    if (performance.now() < planned) await sleep(planned - performance.now());
    if (endAt - performance.now() < lastTook) break;
    const t = performance.now();
    started += 1;
    try {
      await trigger({ timeoutMs: Math.max(5_000, endAt - t + 10_000) });
    } catch (err) {
      return { planned: count, started, reloads, error: err instanceof Error ? err.message : String(err) };
    }
    const done = performance.now();
    lastTook = done - t;
    reloads.push({ startMs: t - startedAt, endMs: done - startedAt });
  }
  return { planned: count, started, reloads };
}
