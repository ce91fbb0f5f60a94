// The StatsD wire format, gunicorn's way: `prefix.name:value|type`, with
// DogStatsD tags appended as `|#k:v,k2:v2`.

export type StatsdType = 'c' | 'ms' | 'g';

/** gunicorn's metric names, under corral's name. */
export const STATSD_METRICS = {
  requests: 'corral.requests',
  requestDuration: 'corral.request.duration',
  requestStatus: (status: number) => `corral.request.status.${status}`,
  workers: 'corral.workers',
  logLine: (level: string) => `corral.log.${level}`,
  /** Log lines (error or access log) that could not be written: a full disk, a stalled pipe. */
  logDropped: 'corral.log.dropped',
} as const;

/** `app` and `app.` both give `app.`; gunicorn joins prefix and name with one dot. */
export const normalisePrefix = (prefix: string) => {
  const trimmed = prefix.trim().replace(/\.+$/, '');
  return trimmed ? `${trimmed}.` : '';
};

/** `|#k:v,k2:v2`, or nothing without tags. */
export const tagSuffix = (tags: string) => {
  const list = tags
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean)
    .join(',');
  return list ? `|#${list}` : '';
};

/** Durations go out in milliseconds with microsecond precision; counts and gauges as they are. */
const formatValue = (value: number) => String(Math.round(value * 1000) / 1000);

/** One metric line; `prefix` and `suffix` as made by normalisePrefix and tagSuffix. */
export const formatStatsdLine = (prefix: string, name: string, value: number, type: StatsdType, suffix: string) =>
  `${prefix}${name}:${formatValue(value)}|${type}${suffix}`;
