// gunicorn counts the error log's serious lines in StatsD: `corral.log.critical`,
// `corral.log.error`, `corral.log.warning`. Given to the logger as `onLine`.
import type { LogLevel } from '../log/levels.js';
import type { StatsdClient } from './statsd.js';
import { STATSD_METRICS } from './statsd-line.js';

const COUNTED: ReadonlySet<LogLevel> = new Set(['critical', 'error', 'warning']);

export const logLineCounter = (statsd: StatsdClient) => (level: LogLevel) => {
  if (COUNTED.has(level)) statsd.increment(STATSD_METRICS.logLine(level));
};
