// Request durations as a fixed-bucket histogram: each worker keeps one, sends
// it in its heartbeat, and the arbiter adds them up for Prometheus.
import type { RequestDurations } from '../../machines/worker-handle.js';

export type { RequestDurations };

/** Upper bounds in seconds: the Prometheus client libraries' default buckets. */
export const DURATION_BOUNDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One count per bound, and one more for anything slower than the largest. */
export const DURATION_BUCKET_COUNT = DURATION_BOUNDS.length + 1;

export const emptyDurations = (): RequestDurations => ({ counts: new Array<number>(DURATION_BUCKET_COUNT).fill(0), sumSeconds: 0 });

/** Counts one request that took `seconds`. Mutates: this runs once per request. */
export function recordDuration(durations: RequestDurations, seconds: number): void {
  let bucket = 0;
  while (bucket < DURATION_BOUNDS.length && seconds > DURATION_BOUNDS[bucket]) bucket += 1;
  durations.counts[bucket] += 1;
  durations.sumSeconds += seconds;
}

/** Adds `more` into `total` (both the same shape, as validated on arrival). */
export function addDurations(total: RequestDurations, more: RequestDurations): RequestDurations {
  for (let bucket = 0; bucket < DURATION_BUCKET_COUNT; bucket += 1) total.counts[bucket] += more.counts[bucket] ?? 0;
  total.sumSeconds += more.sumSeconds;
  return total;
}

/** Whether a value from the wire has the histogram's shape. */
export const isRequestDurations = (value: unknown): value is RequestDurations => {
  const candidate = value as Partial<RequestDurations> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    Array.isArray(candidate.counts) &&
    candidate.counts.length === DURATION_BUCKET_COUNT &&
    candidate.counts.every((count) => Number.isFinite(count) && count >= 0) &&
    Number.isFinite(candidate.sumSeconds)
  );
};
