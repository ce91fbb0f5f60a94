// Requests per second, worked out in the arbiter from the workers' served
// counters. Each worker's heartbeat carries its running total; the heartbeats
// of different workers arrive at different moments, so a rate is taken per
// worker between two of its own heartbeats (count over the time between them)
// and the pool's rate is the sum. A fixed clock samples it once a second for
// the chart, whatever the moments the page is told of changes.

/** The headline figure: requests per second over this last span. */
export const HEADLINE_WINDOW_MS = 5_000;
/** One chart point a second, over this span. */
export const SERIES_SPAN_MS = 120_000;
export const SERIES_STEP_MS = 1_000;

interface Sample {
  at: number;
  served: number;
}

export interface RatePoint {
  at: number;
  rate: number;
}

export interface RequestRates {
  /** A heartbeat's served counter, as the arbiter got it at `at`. */
  heartbeat(id: string, served: number, at: number): void;
  /** The worker has exited: it no longer counts. */
  gone(id: string): void;
  /** The pool's requests per second over the last `windowMs` before `now`. */
  rate(now: number, windowMs: number): number;
  /** One worker's. */
  workerRate(id: string, now: number, windowMs: number): number;
  /** Adds the point for `now` to the series (the fixed clock calls it). */
  sample(now: number): void;
  series(): RatePoint[];
}

/** Samples kept per worker: enough to reach back over the headline window at one heartbeat every 50 ms. */
const SAMPLES_KEPT = 2 + HEADLINE_WINDOW_MS / 50;

export function createRequestRates(): RequestRates {
  const samples = new Map<string, Sample[]>();
  const points: RatePoint[] = [];

  const workerRate = (list: Sample[], now: number, windowMs: number): number => {
    const last = list[list.length - 1];
    // A worker silent for the whole window (stopped, hung) adds nothing rather than its old pace.
    if (!last || last.at < now - windowMs) return 0;
    const from = now - windowMs;
    // The latest heartbeat at or before the window's start, else the oldest known.
    let first = list[0];
    for (const sample of list) {
      if (sample.at > from) break;
      first = sample;
    }
    return last.at > first.at ? ((last.served - first.served) * 1000) / (last.at - first.at) : 0;
  };

  const rate = (now: number, windowMs: number) => {
    let sum = 0;
    for (const list of samples.values()) sum += workerRate(list, now, windowMs);
    return sum;
  };

  return {
    heartbeat(id, served, at) {
      let list = samples.get(id);
      if (!list) samples.set(id, (list = []));
      list.push({ at, served });
      if (list.length > SAMPLES_KEPT) list.splice(0, list.length - SAMPLES_KEPT);
    },
    gone(id) {
      samples.delete(id);
    },
    rate,
    workerRate: (id, now, windowMs) => workerRate(samples.get(id) ?? [], now, windowMs),
    sample(now) {
      points.push({ at: now, rate: rate(now, SERIES_STEP_MS) });
      while (points.length > 0 && points[0].at <= now - SERIES_SPAN_MS) points.shift();
    },
    series: () => [...points],
  };
}
