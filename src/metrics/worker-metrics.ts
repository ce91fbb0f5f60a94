// What a worker measures when metrics or the inspector are on: a StatsD line
// set per request and per serious log line, and the request-duration histogram
// (and, for the inspector, the 4xx/5xx counts) its heartbeat carries to the
// arbiter. With both off there is nothing: no observer, no work.
import type { ResponseClasses, WorkerStats } from '../../machines/worker-handle.js';
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
  report(): Pick<WorkerStats, 'durations' | 'responses'>;
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

export const responseClassObserver = (responses: ResponseClasses): RequestObserver => ({
  finished(_req, res) {
    if (res.statusCode >= 500) responses.server += 1;
    else if (res.statusCode >= 400) responses.client += 1;
  },
});

export function createWorkerMetrics(settings: {
  statsdHost: string | null;
  statsdPrefix: string;
  dogstatsdTags: string;
  metricsBind: string | null;
  inspector?: string | null;
}): WorkerMetrics | undefined {
  const statsd = statsdFromSettings(settings);
  // Only the arbiter's Prometheus endpoint and its inspector read the histogram.
  const durations = settings.metricsBind || settings.inspector ? emptyDurations() : undefined;
  const responses = settings.inspector ? { client: 0, server: 0 } : undefined;
  if (!statsd && !durations) return undefined;
  const observers: RequestObserver[] = [];
  if (statsd) observers.push(statsdRequestObserver(statsd));
  if (durations) observers.push(durationObserver(durations));
  if (responses) observers.push(responseClassObserver(responses));
  return {
    observers,
    onLogLine: statsd && logLineCounter(statsd),
    onLogDropped: statsd && droppedLineCounter(statsd),
    report: () => ({ ...(durations && { durations }), ...(responses && { responses }) }),
    close: async () => statsd?.close(),
  };
}
