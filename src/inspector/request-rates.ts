// Requests per second (and CPU share and latency percentiles), worked out in
// the arbiter from the workers' running counters. Each worker's heartbeat
// carries its running totals; the heartbeats of different workers arrive at
// different moments, so a rate is taken per worker between two of its own
// heartbeats (count over the time between them) and the pool's rate is the sum. A fixed clock samples it once a second for
// the chart, whatever the moments the page is told of changes.

import { DURATION_BOUNDS, type RequestDurations } from '../metrics/duration-histogram.js';

/** The headline figure: requests per second over this last span. */
export const HEADLINE_WINDOW_MS = 5_000;
/** One chart point a second, over this span. */
export const SERIES_SPAN_MS = 120_000;
export const SERIES_STEP_MS = 1_000;

interface Sample {
  at: number;
  served: number;
  cpuMicros?: number;
  durations?: RequestDurations;
}

/** One worker over a window: its pace, its share of one core, its latency. */
export interface WorkerWindow {
  rate: number;
  /** % of one core; undefined until two heartbeats carried its CPU time. */
  cpuPercent?: number;
  /** Milliseconds, read from the duration histogram (so as coarse as its buckets); undefined with no request in the window. */
  p50Ms?: number;
  p99Ms?: number;
}

/** The duration below which `q` of the requests counted in `counts` fell, in ms: linear within a bucket. */
export function percentileMs(counts: readonly number[], q: number): number | undefined {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const wanted = q * total;
  let below = 0;
  for (let bucket = 0; bucket < counts.length; bucket += 1) {
    const lower = bucket === 0 ? 0 : DURATION_BOUNDS[bucket - 1];
    // Past the last bound there is no upper edge: its lower edge is all that is known.
    if (bucket >= DURATION_BOUNDS.length) return lower * 1000;
    if (below + counts[bucket] >= wanted && counts[bucket] > 0) {
      const upper = DURATION_BOUNDS[bucket];
      return (lower + ((wanted - below) / counts[bucket]) * (upper - lower)) * 1000;
    }
    below += counts[bucket];
  }
  return undefined;
}

export interface RatePoint {
  at: number;
  rate: number;
}

export interface RequestRates {
  /** A heartbeat's counters, as the arbiter got them at `at`. */
  heartbeat(id: string, stats: Omit<Sample, 'at'>, at: number): void;
  /** The worker has exited: it no longer counts. */
  gone(id: string): void;
  /** The pool's requests per second over the last `windowMs` before `now`. */
  rate(now: number, windowMs: number): number;
  /** One worker's numbers over the last `windowMs`. */
  worker(id: string, now: number, windowMs: number): WorkerWindow;
  /** Adds the point for `now` to the series (the fixed clock calls it). */
  sample(now: number): void;
  series(): RatePoint[];
}

/** Samples kept per worker: enough to reach back over the headline window at one heartbeat every 50 ms. */
const SAMPLES_KEPT = 2 + HEADLINE_WINDOW_MS / 50;

export function createRequestRates(): RequestRates {
  const samples = new Map<string, Sample[]>();
  const points: RatePoint[] = [];

  /** The two heartbeats a window is read between: the last, and the latest at or before the window's start (else the oldest known). */
  const ends = (list: Sample[], now: number, windowMs: number): [Sample, Sample] | undefined => {
    const last = list[list.length - 1];
    // A worker silent for the whole window (stopped, hung) adds nothing rather than its old pace.
    if (!last || last.at < now - windowMs) return undefined;
    const from = now - windowMs;
    let first = list[0];
    for (const sample of list) {
      if (sample.at > from) break;
      first = sample;
    }
    return last.at > first.at ? [first, last] : undefined;
  };
  const workerRate = (list: Sample[], now: number, windowMs: number): number => {
    const span = ends(list, now, windowMs);
    return span ? ((span[1].served - span[0].served) * 1000) / (span[1].at - span[0].at) : 0;
  };
  const workerWindow = (list: Sample[], now: number, windowMs: number): WorkerWindow => {
    const span = ends(list, now, windowMs);
    if (!span) return { rate: 0 };
    const [first, last] = span;
    const window: WorkerWindow = { rate: ((last.served - first.served) * 1000) / (last.at - first.at) };
    if (first.cpuMicros !== undefined && last.cpuMicros !== undefined) window.cpuPercent = ((last.cpuMicros - first.cpuMicros) / 1000 / (last.at - first.at)) * 100;
    if (last.durations) {
      // No histogram at the start (the worker was just seen): everything it counted falls in the window.
      const counts = last.durations.counts.map((count, bucket) => count - (first.durations?.counts[bucket] ?? 0));
      window.p50Ms = percentileMs(counts, 0.5);
      window.p99Ms = percentileMs(counts, 0.99);
    }
    return window;
  };

  const rate = (now: number, windowMs: number) => {
    let sum = 0;
    for (const list of samples.values()) sum += workerRate(list, now, windowMs);
    return sum;
  };

  return {
    heartbeat(id, stats, at) {
      let list = samples.get(id);
      if (!list) samples.set(id, (list = []));
      list.push({ at, served: stats.served, cpuMicros: stats.cpuMicros, durations: stats.durations });
      if (list.length > SAMPLES_KEPT) list.splice(0, list.length - SAMPLES_KEPT);
    },
    gone(id) {
      samples.delete(id);
    },
    rate,
    worker: (id, now, windowMs) => workerWindow(samples.get(id) ?? [], now, windowMs),
    sample(now) {
      points.push({ at: now, rate: rate(now, SERIES_STEP_MS) });
      while (points.length > 0 && points[0].at <= now - SERIES_SPAN_MS) points.shift();
    },
    series: () => [...points],
  };
}
