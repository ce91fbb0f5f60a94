// gunicorn counts the error log's serious lines in StatsD: `corral.log.critical`,
// `corral.log.error`, `corral.log.warning`. Given to the logger as `onLine`.
// corral adds `corral.log.dropped`: lines either log could not write.
import type { LogLevel } from '../log/levels.js';
import type { StatsdClient } from './statsd.js';
import { STATSD_METRICS } from './statsd-line.js';

const COUNTED: ReadonlySet<LogLevel> = new Set(['critical', 'error', 'warning']);

export const logLineCounter = (statsd: StatsdClient) => (level: LogLevel) => {
  if (COUNTED.has(level)) statsd.increment(STATSD_METRICS.logLine(level));
};

/** Log lines that could not be written, as `corral.log.dropped`: given to the logs as `onDropped`. */
export const droppedLineCounter = (statsd: StatsdClient) => (lines: number) => statsd.increment(STATSD_METRICS.logDropped, lines);
