// What a worker measures when metrics are on: a StatsD line set per request
// and per serious log line, and the request-duration histogram its heartbeat
// carries to the arbiter. With metrics off there is nothing: no observer, no work.
import type { WorkerStats } from '../../machines/worker-handle.js';
import type { RequestObserver } from '../kinds/contract.js';
import type { LogLevel } from '../log/levels.js';
import { type RequestDurations, emptyDurations, recordDuration } from './duration-histogram.js';
import { droppedLineCounter, logLineCounter } from './log-line-counter.js';
import { type StatsdClient, statsdFromSettings } from './statsd.js';
import { STATSD_METRICS } from './statsd-line.js';

export interface WorkerMetrics {
  observers: RequestObserver[];
  /** For the logger's `onLine`, when log lines are counted. */
  onLogLine: ((level: LogLevel) => void) | undefined;
  /** For the logs' `onDropped`: lines they could not write. */
  onLogDropped: ((lines: number) => void) | undefined;
  /** Fields added to every heartbeat. */
  report(): Pick<WorkerStats, 'durations'>;
  /** Sends what is still queued. */
  close(): Promise<void>;
}

const NS_PER_MS = 1e6;
const NS_PER_SECOND = 1e9;

/** gunicorn's per-request metrics: a count, the duration in ms, a count per status. */
export const statsdRequestObserver = (statsd: StatsdClient): RequestObserver => ({
  finished(_req, res, startedAt) {
    statsd.increment(STATSD_METRICS.requests);
    statsd.timing(STATSD_METRICS.requestDuration, Number(process.hrtime.bigint() - startedAt) / NS_PER_MS);
    statsd.increment(STATSD_METRICS.requestStatus(res.statusCode));
  },
});

export const durationObserver = (durations: RequestDurations): RequestObserver => ({
  finished(_req, _res, startedAt) {
    recordDuration(durations, Number(process.hrtime.bigint() - startedAt) / NS_PER_SECOND);
  },
});

export function createWorkerMetrics(settings: {
  statsdHost: string | null;
  statsdPrefix: string;
  dogstatsdTags: string;
  metricsBind: string | null;
}): WorkerMetrics | undefined {
  const statsd = statsdFromSettings(settings);
  // Only the arbiter's Prometheus endpoint reads the histogram.
  const durations = settings.metricsBind ? emptyDurations() : undefined;
  if (!statsd && !durations) return undefined;
  const observers: RequestObserver[] = [];
  if (statsd) observers.push(statsdRequestObserver(statsd));
  if (durations) observers.push(durationObserver(durations));
  return {
    observers,
    onLogLine: statsd && logLineCounter(statsd),
    onLogDropped: statsd && droppedLineCounter(statsd),
    report: () => (durations ? { durations } : {}),
    close: async () => statsd?.close(),
  };
}
